#include "cmd/loadgen/query_timer.h"

#include <unistd.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "base/strings.h"
#include "cmd/loadgen/http_target.h"
#include "querier/v1/querier.pb.h"

namespace embers::loadgen {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// The dataset's value column for the queried sample type, from -mode=dataset's manifest.
struct Manifest {
  int64_t end_ms = 0;
  std::vector<int64_t> time_ms;
  std::vector<int64_t> value;

  // Sum of the values of profiles in [start_ms, end_ms], both ends included as the server does.
  int64_t Total(int64_t start_ms, int64_t end_ms) const {
    int64_t sum = 0;
    for (size_t i = 0; i < time_ms.size(); ++i) {
      if (time_ms[i] >= start_ms && time_ms[i] <= end_ms) sum += value[i];
    }
    return sum;
  }
};

// `sample_type` is "type:unit", fields 1 and 2 of the profile type ID.
absl::StatusOr<Manifest> LoadManifest(const std::string& path, const std::string& sample_type) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(StrCat("cannot open -manifest ", path));
  Manifest m;
  std::string line;
  int column = -1;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    if (line.rfind("# end_ms=", 0) == 0) {
      if (!ParseInt64(std::string_view(line).substr(9, line.find(' ', 9) - 9), &m.end_ms)) {
        return absl::InvalidArgumentError(StrCat(path, ": bad header ", line));
      }
    } else if (line.rfind("# time_ms", 0) == 0) {
      std::string word;
      fields >> word >> word;  // "#", "time_ms"
      for (int i = 0; fields >> word; ++i) {
        if (word == sample_type) column = i;
      }
      if (column < 0) {
        return absl::InvalidArgumentError(
            StrCat(path, ": the dataset has no sample type ", sample_type, " (", line, ")"));
      }
    } else if (!line.empty() && line[0] != '#') {
      if (column < 0) return absl::InvalidArgumentError(StrCat(path, ": no '# time_ms' header"));
      int64_t t = 0, v = 0;
      fields >> t;
      for (int i = 0; i <= column; ++i) fields >> v;
      if (!fields) return absl::InvalidArgumentError(StrCat(path, ": bad line ", line));
      m.time_ms.push_back(t);
      m.value.push_back(v);
    }
  }
  if (m.time_ms.empty()) return absl::InvalidArgumentError(StrCat(path, ": no profiles"));
  return m;
}

// One keep-alive connection making Connect unary calls with application/proto bodies.
class ConnectClient {
 public:
  ConnectClient(HttpTarget target, std::string tenant, std::string authorization,
                absl::Duration timeout)
      : target_(std::move(target)),
        tenant_(std::move(tenant)),
        authorization_(std::move(authorization)),
        timeout_(absl::ToInt64Milliseconds(timeout)),
        stream_(ioc_) {}

  // Calls `method` and parses the answer into `response`; returns the wall time from the first
  // byte sent to the last byte received, in ms (parsing excluded), and the response size.
  struct Timing {
    double ms = 0;
    size_t bytes = 0;
  };
  absl::StatusOr<Timing> Call(std::string_view method, const google::protobuf::Message& request,
                              google::protobuf::Message* response) {
    http::request<http::string_body> req(http::verb::post, target_.Path(method), 11);
    req.set(http::field::host, target_.HostHeader());
    req.set(http::field::user_agent, "embers-loadgen");
    req.set(http::field::content_type, "application/proto");
    req.set("Connect-Protocol-Version", "1");
    req.set("Connect-Timeout-Ms", std::to_string(timeout_));
    if (!tenant_.empty()) req.set("X-Scope-OrgID", tenant_);
    if (!authorization_.empty()) req.set(http::field::authorization, authorization_);
    req.body() = request.SerializeAsString();
    req.keep_alive(true);
    req.prepare_payload();

    beast::error_code ec;
    if (!stream_.socket().is_open()) {
      tcp::resolver resolver(ioc_);
      stream_.expires_after(std::chrono::milliseconds(timeout_));
      stream_.connect(resolver.resolve(target_.host, target_.port, ec), ec);
      if (ec) return absl::UnavailableError(StrCat("connect: ", ec.message()));
      stream_.socket().set_option(tcp::no_delay(true), ec);
      buffer_.clear();
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(size_t{1} << 30);
    const Clock::time_point sent = Clock::now();
    stream_.expires_after(std::chrono::milliseconds(timeout_));
    http::write(stream_, req, ec);
    if (!ec) http::read(stream_, buffer_, parser, ec);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - sent).count();
    if (ec) {
      stream_.socket().close(ec);
      return absl::UnavailableError(StrCat(method, ": transport: ", ec.message()));
    }
    http::response<http::string_body> res = parser.release();
    if (!res.keep_alive()) stream_.socket().close(ec);
    if (res.result_int() != 200) {
      return absl::UnknownError(
          StrCat(method, ": HTTP ", res.result_int(), ": ", ConnectErrorMessage(res.body())));
    }
    if (!response->ParseFromString(res.body())) {
      return absl::DataLossError(StrCat(method, ": cannot parse the response"));
    }
    return Timing{.ms = ms, .bytes = res.body().size()};
  }

 private:
  HttpTarget target_;
  std::string tenant_;
  std::string authorization_;
  int64_t timeout_;
  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

// CPU time (user + system) the process has used so far, in seconds; 0 when unknown.
double ProcessCpuSeconds(int64_t pid) {
  if (pid <= 0) return 0;
  std::ifstream in(StrCat("/proc/", pid, "/stat"));
  std::string stat;
  std::getline(in, stat);
  // Fields after the command name (which may hold spaces, but ends with the last ')'): state is
  // field 3, utime and stime are fields 14 and 15.
  std::istringstream rest(stat.substr(std::min(stat.size(), stat.rfind(')') + 1)));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i >= 14) ticks += std::strtod(field.c_str(), nullptr);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Nearest-rank quantile of a sorted, non-empty sample.
double Quantile(const std::vector<double>& sorted, double q) {
  const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

// Latencies of one query kind, printed as "p50 … p90 … max …" and as RESULT fields, with the
// server's CPU time per run when its pid is known.
struct Latencies {
  std::string key;  // RESULT field prefix, e.g. "flamegraph_6h"
  int64_t server_pid = 0;
  std::vector<double> ms;
  double cpu_start = ProcessCpuSeconds(server_pid);
  double cpu_ms = -1;  // per run; set by Line()

  std::string Line() {
    std::sort(ms.begin(), ms.end());
    if (server_pid > 0) {
      cpu_ms = (ProcessCpuSeconds(server_pid) - cpu_start) * 1e3 / static_cast<double>(ms.size());
    }
    char buf[160];
    int n = std::snprintf(buf, sizeof(buf), "%zu runs: p50 %.1f ms, p90 %.1f ms, max %.1f ms",
                          ms.size(), Quantile(ms, 0.5), Quantile(ms, 0.9), ms.back());
    if (cpu_ms >= 0) {
      std::snprintf(buf + n, sizeof(buf) - static_cast<size_t>(n), ", server CPU %.0f ms/run",
                    cpu_ms);
    }
    return buf;
  }
  std::string Fields() const {
    char buf[200];
    int n = std::snprintf(buf, sizeof(buf), " %s_p50_ms=%.1f %s_p90_ms=%.1f %s_max_ms=%.1f",
                          key.c_str(), Quantile(ms, 0.5), key.c_str(), Quantile(ms, 0.9),
                          key.c_str(), ms.back());
    if (cpu_ms >= 0) {
      std::snprintf(buf + n, sizeof(buf) - static_cast<size_t>(n), " %s_cpu_ms=%.0f", key.c_str(),
                    cpu_ms);
    }
    return buf;
  }
};

struct Window {
  std::string name;  // as given: "6h"
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  int64_t expected = -1;  // -1: unknown (no manifest)
};

constexpr std::string_view kMergeStacktraces = "/querier.v1.QuerierService/SelectMergeStacktraces";
constexpr std::string_view kSelectSeries = "/querier.v1.QuerierService/SelectSeries";

querier::v1::SelectMergeStacktracesRequest FlameGraphRequest(const QueryOptions& o,
                                                             const Window& w) {
  querier::v1::SelectMergeStacktracesRequest req;
  req.set_profile_typeid(o.profile_type);
  req.set_label_selector(o.selector);
  req.set_start(w.start_ms);
  req.set_end(w.end_ms);
  if (o.max_nodes > 0) req.set_max_nodes(o.max_nodes);
  req.set_format(querier::v1::PROFILE_FORMAT_FLAMEGRAPH);
  return req;
}

size_t NodeCount(const querier::v1::FlameGraph& fg) {
  size_t n = 0;
  for (const auto& level : fg.levels()) n += static_cast<size_t>(level.values_size()) / 4;
  return n;
}

absl::Status CheckTotal(std::string_view what, const Window& w, double got) {
  if (w.expected < 0) return absl::OkStatus();
  // Series points are doubles; their sum is exact below 2^53, tolerate rounding beyond.
  if (std::abs(got - static_cast<double>(w.expected)) > 1e-9 * static_cast<double>(w.expected)) {
    return absl::DataLossError(StrCat(what, " over ", w.name, ": total ", got, ", the dataset has ",
                                      w.expected, " in the window"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RunQueries(const QueryOptions& o) {
  absl::StatusOr<HttpTarget> target = ParseHttpUrl(o.url);
  if (!target.ok()) return target.status();
  if (target->tls) {
    return absl::InvalidArgumentError("query timing speaks http:// only (TLS: pushes only)");
  }
  if (o.runs < 1) return absl::InvalidArgumentError("-runs must be >= 1");
  if (o.windows.empty()) return absl::InvalidArgumentError("-windows is empty");

  std::optional<Manifest> manifest;
  if (!o.manifest.empty()) {
    const std::vector<std::string_view> parts = Split(o.profile_type, ':');
    if (parts.size() != 5) {
      return absl::InvalidArgumentError(
          StrCat("-profile-type ", o.profile_type, ": want 5 fields"));
    }
    absl::StatusOr<Manifest> m = LoadManifest(o.manifest, StrCat(parts[1], ":", parts[2]));
    if (!m.ok()) return m.status();
    manifest = std::move(*m);
  }
  int64_t end_ms = o.end_ms;
  if (end_ms == 0 && manifest) end_ms = manifest->end_ms;
  if (end_ms == 0) {
    end_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  }
  std::vector<Window> windows;
  for (const std::string& name : o.windows) {
    absl::Duration d;
    if (!absl::ParseDuration(name, &d) || d <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(StrCat("-windows: bad duration ", name));
    }
    Window w{.name = name, .start_ms = end_ms - absl::ToInt64Milliseconds(d), .end_ms = end_ms};
    if (manifest) w.expected = manifest->Total(w.start_ms, w.end_ms);
    windows.push_back(w);
  }
  const Window& longest =
      *std::min_element(windows.begin(), windows.end(),
                        [](const Window& a, const Window& b) { return a.start_ms < b.start_ms; });

  ConnectClient client(*target, o.tenant, o.authorization, o.timeout);
  std::string result = "RESULT";

  // 1. Wait until the longest window answers with the whole dataset.
  {
    const auto req = FlameGraphRequest(o, longest);
    const Clock::time_point give_up =
        Clock::now() + std::chrono::milliseconds(absl::ToInt64Milliseconds(o.wait));
    for (int attempt = 1;; ++attempt) {
      querier::v1::SelectMergeStacktracesResponse res;
      absl::StatusOr<ConnectClient::Timing> t = client.Call(kMergeStacktraces, req, &res);
      if (!t.ok()) return t.status();
      const absl::Status check =
          CheckTotal("flame graph", longest, static_cast<double>(res.flamegraph().total()));
      if (check.ok() && res.flamegraph().total() > 0) {
        std::printf("queryable after %d attempt(s); first flame graph over %s (cold): %.1f ms\n",
                    attempt, longest.name.c_str(), t->ms);
        char buf[48];
        std::snprintf(buf, sizeof(buf), " first_ms=%.1f", t->ms);
        result += buf;
        break;
      }
      if (Clock::now() >= give_up) {
        return check.ok() ? absl::DeadlineExceededError("the flame graph stayed empty") : check;
      }
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }

  // 2. Flame graphs over each window.
  for (const Window& w : windows) {
    const auto req = FlameGraphRequest(o, w);
    Latencies lat{.key = StrCat("flamegraph_", w.name), .server_pid = o.server_pid};
    querier::v1::SelectMergeStacktracesResponse res;
    size_t bytes = 0;
    for (int i = 0; i < o.runs; ++i) {
      res.Clear();
      absl::StatusOr<ConnectClient::Timing> t = client.Call(kMergeStacktraces, req, &res);
      if (!t.ok()) return t.status();
      if (absl::Status st =
              CheckTotal("flame graph", w, static_cast<double>(res.flamegraph().total()));
          !st.ok()) {
        return st;
      }
      lat.ms.push_back(t->ms);
      bytes = t->bytes;
    }
    const size_t profiles = manifest
                                ? static_cast<size_t>(std::count_if(
                                      manifest->time_ms.begin(), manifest->time_ms.end(),
                                      [&w](int64_t t) { return t >= w.start_ms && t <= w.end_ms; }))
                                : 0;
    std::printf("flame graph %-4s %s | %zu nodes, %.1f KB, total %lld%s, %zu profiles\n",
                w.name.c_str(), lat.Line().c_str(), NodeCount(res.flamegraph()),
                static_cast<double>(bytes) / 1e3, static_cast<long long>(res.flamegraph().total()),
                w.expected >= 0 ? " (= dataset)" : "", profiles);
    result += lat.Fields();
  }

  // 3. SelectSeries over the longest window.
  {
    querier::v1::SelectSeriesRequest req;
    req.set_profile_typeid(o.profile_type);
    req.set_label_selector(o.selector);
    req.set_start(longest.start_ms);
    req.set_end(longest.end_ms);
    req.set_step(absl::ToDoubleSeconds(o.series_step));
    Latencies lat{.key = StrCat("series_", longest.name), .server_pid = o.server_pid};
    querier::v1::SelectSeriesResponse res;
    size_t bytes = 0;
    double sum = 0;
    size_t points = 0;
    for (int i = 0; i < o.runs; ++i) {
      res.Clear();
      absl::StatusOr<ConnectClient::Timing> t = client.Call(kSelectSeries, req, &res);
      if (!t.ok()) return t.status();
      sum = 0;
      points = 0;
      for (const auto& s : res.series()) {
        for (const auto& p : s.points()) sum += p.value();
        points += static_cast<size_t>(s.points_size());
      }
      if (absl::Status st = CheckTotal("SelectSeries", longest, sum); !st.ok()) return st;
      lat.ms.push_back(t->ms);
      bytes = t->bytes;
    }
    std::printf("SelectSeries %-4s %s | %d series, %zu points (step %s), %.1f KB, sum %.0f%s\n",
                longest.name.c_str(), lat.Line().c_str(), res.series_size(), points,
                absl::FormatDuration(o.series_step).c_str(), static_cast<double>(bytes) / 1e3, sum,
                longest.expected >= 0 ? " (= dataset)" : "");
    result += lat.Fields();
  }
  std::printf("%s\n", result.c_str());
  return absl::OkStatus();
}

}  // namespace embers::loadgen
