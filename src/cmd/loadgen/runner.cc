#include "cmd/loadgen/runner.h"

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "base/strings.h"
#include "cmd/loadgen/http2_client.h"
#include "cmd/loadgen/http_target.h"

namespace embers::loadgen {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
// An https:// push connection.
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

constexpr std::string_view kPushPath = "/push.v1.PusherService/Push";

// State shared by every coroutine of one run. It outlives io_context::run().
struct Shared {
  const RunOptions& options;
  PushSource& source;
  Stats& stats;
  HttpTarget target;
  std::string path;
  std::string host_header;
  // The headers of every push besides Host, the same over HTTP/1.1 and HTTP/2.
  std::vector<std::pair<std::string, std::string>> headers;
  tcp::resolver::results_type endpoints;
  // For https:// (null for http://).
  std::unique_ptr<asio::ssl::context> tls;
  std::chrono::milliseconds timeout{0};
  Clock::time_point start;
  Clock::time_point deadline;
  Clock::duration interval{0};  // between pushes when paced (-rate); zero = flat out
  std::atomic<uint64_t> next_slot{0};
  std::atomic<int> active{0};  // connections still running
  std::atomic<Clock::rep> finished{0};
  // Written by the progress coroutine only; read after the run.
  Stats::Counters at_deadline;
  bool deadline_taken = false;
};

// When the next push may be sent, or nullopt once -duration is over.
std::optional<Clock::time_point> NextSlot(Shared& s) {
  const Clock::time_point now = Clock::now();
  if (now >= s.deadline) return std::nullopt;
  if (s.interval == Clock::duration::zero()) return now;
  const uint64_t k = s.next_slot.fetch_add(1, std::memory_order_relaxed);
  const Clock::time_point slot = s.start + s.interval * static_cast<int64_t>(k);
  if (slot >= s.deadline) return std::nullopt;
  return slot;
}

// Counts a non-200 answer. A 4xx other than 408/429 means the server refuses the profile itself:
// the source is told which profile (the distributor prefixes "profile N: " in multi-profile
// requests).
void Rejected(Shared& s, const PushBody& body, int status, const std::string& response) {
  const std::string message = ConnectErrorMessage(response);
  s.stats.Failed(status, message);
  if (status < 400 || status >= 500 || status == 408 || status == 429) return;
  size_t index = body.files.size();
  if (body.files.size() == 1) {
    index = 0;
  } else if (message.rfind("profile ", 0) == 0) {
    int64_t n = 0;
    const size_t colon = message.find(':');
    if (colon != message.npos && ParseInt64(std::string_view(message).substr(8, colon - 8), &n) &&
        n >= 0 && static_cast<size_t>(n) < body.files.size()) {
      index = static_cast<size_t>(n);
    }
  }
  if (index == body.files.size()) return;
  s.source.Refused(body, index, StrCat(status, " ", message));
}

// Counts the answer to a push sent `micros` ago.
void Answered(Shared& s, const PushBody& body, size_t wire_bytes, int64_t micros, int status,
              const std::string& response) {
  if (status == 200) {
    s.stats.Acked(body.profiles, body.uncompressed_pprof, wire_bytes,
                  static_cast<uint64_t>(micros));
  } else {
    Rejected(s, body, status, response);
  }
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

int64_t UnixNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A new unconnected stream for a push connection: plain TCP, or TLS over it.
template <class Stream>
std::unique_ptr<Stream> NewStream(Shared* s, const asio::any_io_executor& executor) {
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    auto stream = std::make_unique<TlsStream>(executor, *s->tls);
    // SNI and the name the server's certificate is checked against.
    SSL_set_tlsext_host_name(stream->native_handle(), s->target.host.c_str());
    stream->set_verify_callback(asio::ssl::host_name_verification(s->target.host));
    return stream;
  } else {
    return std::make_unique<Stream>(executor);
  }
}

// Connects (and with TLS does the handshake).
template <class Stream>
asio::awaitable<void> Open(Shared* s, Stream& stream, beast::error_code& ec) {
  beast::tcp_stream& tcp_layer = beast::get_lowest_layer(stream);
  tcp_layer.expires_after(s->timeout);
  co_await tcp_layer.async_connect(s->endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  tcp_layer.socket().set_option(tcp::no_delay(true), ec);
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    co_await stream.async_handshake(asio::ssl::stream_base::client,
                                    asio::redirect_error(asio::use_awaitable, ec));
  }
}

template <class Stream>
tcp::socket& Socket(Stream& stream) {
  return beast::get_lowest_layer(stream).socket();
}

// Opens `stream` and sends one GET /ready on it, before the measured run starts. Without this,
// a thousand connections opened at once under load wait in the server's accept queue (see
// docs/performance.md) and the first push of each measures the accept delay, not the write path.
template <class Stream>
asio::awaitable<void> Prewarm(Shared* s, Stream* stream) {
  beast::error_code ec;
  co_await Open(s, *stream, ec);
  if (!ec) {
    http::request<http::empty_body> req(http::verb::get, "/ready", 11);
    req.set(http::field::host, s->host_header);
    req.keep_alive(true);
    co_await http::async_write(*stream, req, asio::redirect_error(asio::use_awaitable, ec));
  }
  if (!ec) {
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    co_await http::async_read(*stream, buffer, res, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec && !res.keep_alive()) ec = asio::error::connection_reset;
  }
  if (ec) Socket(*stream).close(ec);  // Connection() reconnects
}

// One keep-alive connection: push, wait for the ack, repeat until the deadline. `slot` holds the
// connection's stream, replaced on each reconnect (a TLS stream cannot be reused once closed).
template <class Stream>
asio::awaitable<void> Connection(Shared* s, std::unique_ptr<Stream>* slot, uint64_t seed) {
  const asio::any_io_executor executor = (*slot)->get_executor();
  asio::steady_timer timer(executor);
  beast::flat_buffer buffer;
  std::mt19937_64 rng(seed);
  beast::error_code ec;
  bool connected = Socket(**slot).is_open();
  while (std::optional<Clock::time_point> next = NextSlot(*s)) {
    if (*next > Clock::now()) {
      timer.expires_at(*next);
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!connected) {
      *slot = NewStream<Stream>(s, executor);
      co_await Open(s, **slot, ec);
      if (ec) {
        s->stats.Failed(0, StrCat("connect: ", ec.message()));
        Socket(**slot).close(ec);
        timer.expires_after(std::chrono::milliseconds(100));  // do not spin on a dead server
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      buffer.clear();
      connected = true;
    }
    Stream& stream = **slot;
    PushBody body = s->source.Next(rng, UnixNanos());
    if (body.profiles == 0) break;  // nothing left to send (or every file was refused)

    http::request<http::string_body> req(http::verb::post, s->path, 11);
    req.set(http::field::host, s->host_header);
    for (const auto& [name, value] : s->headers) req.set(name, value);
    const size_t wire_bytes = body.bytes.size();
    req.body() = std::move(body.bytes);
    req.keep_alive(true);
    req.prepare_payload();

    http::response<http::string_body> res;
    s->stats.BeginRequest();
    const Clock::time_point sent = Clock::now();
    beast::get_lowest_layer(stream).expires_after(s->timeout);
    co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
      co_await http::async_read(stream, buffer, res, asio::redirect_error(asio::use_awaitable, ec));
    }
    const auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent).count();
    s->stats.EndRequest();
    if (ec) {
      s->stats.Failed(0, StrCat("transport: ", ec.message()));
      Socket(stream).close(ec);
      connected = false;
      continue;
    }
    Answered(*s, body, wire_bytes, micros, static_cast<int>(res.result_int()), res.body());
    if (!res.keep_alive()) {
      Socket(stream).close(ec);
      connected = false;
    }
  }
  Socket(**slot).close(ec);
  if (s->active.fetch_sub(1) == 1) s->finished.store(Clock::now().time_since_epoch().count());
}

// The pushes that share one HTTP/2 connection (-http2-streams of them), on one strand.
struct Http2Group {
  asio::any_io_executor strand;
  std::shared_ptr<Http2Client> client;  // replaced once it is no longer usable()
  int pushers = 0;                      // coroutines still running; the last closes the client
};

// The group's connection, a new one if the last was lost or sent GOAWAY; connecting if need be.
asio::awaitable<absl::StatusOr<std::shared_ptr<Http2Client>>> GroupClient(Shared* s,
                                                                          Http2Group* group) {
  if (group->client == nullptr || !group->client->usable()) {
    group->client = Http2Client::Create(
        group->strand, {.authority = s->host_header, .timeout = s->options.timeout});
  }
  std::shared_ptr<Http2Client> client = group->client;
  if (!client->open()) {
    absl::Status st = co_await AsyncConnect(*client, s->endpoints, asio::use_awaitable);
    if (!st.ok()) co_return st;
  }
  co_return client;
}

// Opens the group's connection and sends one GET /ready on it (see Prewarm).
asio::awaitable<void> PrewarmHttp2(Shared* s, Http2Group* group) {
  absl::StatusOr<std::shared_ptr<Http2Client>> client = co_await GroupClient(s, group);
  if (!client.ok()) co_return;
  // A named request, not a temporary in the co_await expression: with g++ 12 such a temporary
  // came out with its strings pointing into the coroutine frame (an invalid free, valgrind).
  Http2Request ready{.method = "GET", .path = "/ready"};
  absl::StatusOr<Http2Response> res =
      co_await AsyncSubmit(**client, std::move(ready), asio::use_awaitable);
  if (!res.ok() || res->status != 200) (*client)->Close();  // the pushers reconnect
}

// One push in flight at a time over the group's HTTP/2 connection: the HTTP/2 form of
// Connection() above, with the same slots, requests and accounting.
asio::awaitable<void> Http2Pusher(Shared* s, Http2Group* group, uint64_t seed) {
  asio::steady_timer timer(group->strand);
  std::mt19937_64 rng(seed);
  beast::error_code ec;
  while (std::optional<Clock::time_point> slot = NextSlot(*s)) {
    if (*slot > Clock::now()) {
      timer.expires_at(*slot);
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    absl::StatusOr<std::shared_ptr<Http2Client>> client = co_await GroupClient(s, group);
    if (!client.ok()) {
      s->stats.Failed(0, std::string(client.status().message()));  // "connect: …" as on 1.1
      timer.expires_after(std::chrono::milliseconds(100));         // do not spin on a dead server
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    PushBody body = s->source.Next(rng, UnixNanos());
    if (body.profiles == 0) break;  // nothing left to send (or every file was refused)
    const size_t wire_bytes = body.bytes.size();
    Http2Request req{.path = s->path, .headers = s->headers, .body = std::move(body.bytes)};

    s->stats.BeginRequest();
    const Clock::time_point sent = Clock::now();
    absl::StatusOr<Http2Response> res =
        co_await AsyncSubmit(**client, std::move(req), asio::use_awaitable);
    const auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent).count();
    s->stats.EndRequest();
    if (!res.ok()) {
      // RST_STREAM, GOAWAY, a lost connection or the timeout; the next push reconnects if needed.
      s->stats.Failed(0, StrCat("http2: ", res.status().message()));
      continue;
    }
    Answered(*s, body, wire_bytes, micros, res->status, res->body);
  }
  if (--group->pushers == 0 && group->client != nullptr) group->client->Close();
  if (s->active.fetch_sub(1) == 1) s->finished.store(Clock::now().time_since_epoch().count());
}

// Prints one progress line per second and takes the counters at the deadline.
asio::awaitable<void> Progress(Shared* s) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor);
  beast::error_code ec;
  Stats::Counters prev = s->stats.Take();
  Clock::time_point prev_time = s->start;
  for (int tick = 1;; ++tick) {
    Clock::time_point t = s->start + std::chrono::seconds(tick);
    bool take_deadline = false;
    if (!s->deadline_taken && t >= s->deadline) {
      t = s->deadline;
      take_deadline = true;
    }
    timer.expires_at(t);
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    const Stats::Counters now = s->stats.Take();
    if (take_deadline) {
      s->at_deadline = now;
      s->deadline_taken = true;
    }
    const double dt = Seconds(t - prev_time);
    if (!s->options.quiet && dt > 0.05) {
      const auto window = now.latency.Minus(prev.latency);
      std::printf(
          "[%6.1fs] %7.0f profiles/s %7.1f MB/s pprof %6.1f MB/s wire | ack p50 %4.0f ms p99 "
          "%5.0f ms | errors %llu | in-flight %lld\n",
          Seconds(t - s->start), static_cast<double>(now.profiles_ok - prev.profiles_ok) / dt,
          static_cast<double>(now.pprof_bytes_ok - prev.pprof_bytes_ok) / dt / 1e6,
          static_cast<double>(now.wire_bytes_ok - prev.wire_bytes_ok) / dt / 1e6,
          window.QuantileMs(0.5), window.QuantileMs(0.99),
          static_cast<unsigned long long>(now.errors - prev.errors),
          static_cast<long long>(s->stats.in_flight()));
      std::fflush(stdout);
    }
    prev = now;
    prev_time = t;
    if (s->active.load() == 0) break;
  }
}

// Runs the io_context on -threads threads until it has no work left.
void RunThreads(asio::io_context& ioc, int threads) {
  std::vector<std::thread> extra;
  for (int i = 1; i < threads; ++i) extra.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (std::thread& t : extra) t.join();
  ioc.restart();
}

template <class Stream>
void RunHttp1(Shared& s, asio::io_context& ioc) {
  const RunOptions& options = s.options;
  // One stream per connection, each on its own strand; they outlive both phases below.
  std::vector<std::unique_ptr<Stream>> streams;
  for (int i = 0; i < options.connections; ++i) {
    streams.push_back(NewStream<Stream>(&s, asio::make_strand(ioc)));
  }
  if (options.prewarm) {
    const Clock::time_point begin = Clock::now();
    for (auto& stream : streams) {
      asio::co_spawn(stream->get_executor(), Prewarm(&s, stream.get()), asio::detached);
    }
    RunThreads(ioc, options.threads);
    int open = 0;
    for (auto& stream : streams) open += Socket(*stream).is_open() ? 1 : 0;
    if (!options.quiet) {
      std::printf("%d of %d connections open and warm in %.2f s\n", open, options.connections,
                  Seconds(Clock::now() - begin));
    }
  }

  s.start = Clock::now();
  s.deadline = s.start + std::chrono::nanoseconds(absl::ToInt64Nanoseconds(options.duration));
  s.active = options.connections;
  for (int i = 0; i < options.connections; ++i) {
    asio::co_spawn(streams[i]->get_executor(),
                   Connection(&s, &streams[i], 0x9e3779b97f4a7c15ULL * (i + 1)), asio::detached);
  }
  asio::co_spawn(asio::make_strand(ioc), Progress(&s), asio::detached);
  RunThreads(ioc, options.threads);
}

// Unlike an idle HTTP/1.1 connection, an open HTTP/2 connection always has a read pending (the
// server may send SETTINGS, PING or GOAWAY at any time), so the io_context does not run dry after
// the prewarm: the last group to finish its prewarm starts the measured run instead.
void RunHttp2(Shared& s, asio::io_context& ioc) {
  const RunOptions& options = s.options;
  const int per = options.http2_streams;
  std::vector<std::unique_ptr<Http2Group>> groups;
  for (int i = 0; i < TcpConnections(options); ++i) {
    auto group = std::make_unique<Http2Group>();
    group->strand = asio::make_strand(ioc);
    group->pushers = std::min(per, options.connections - i * per);
    groups.push_back(std::move(group));
  }
  auto start = [&s, &ioc, &groups, per] {
    s.start = Clock::now();
    s.deadline = s.start + std::chrono::nanoseconds(absl::ToInt64Nanoseconds(s.options.duration));
    s.active = s.options.connections;
    for (int i = 0; i < s.options.connections; ++i) {
      Http2Group* group = groups[i / per].get();
      asio::co_spawn(group->strand, Http2Pusher(&s, group, 0x9e3779b97f4a7c15ULL * (i + 1)),
                     asio::detached);
    }
    asio::co_spawn(asio::make_strand(ioc), Progress(&s), asio::detached);
  };
  if (!options.prewarm) {
    start();
  } else {
    const Clock::time_point begin = Clock::now();
    auto remaining = std::make_shared<std::atomic<int>>(static_cast<int>(groups.size()));
    for (auto& group : groups) {
      asio::co_spawn(
          group->strand, PrewarmHttp2(&s, group.get()),
          [&s, &groups, start, remaining, begin, per](std::exception_ptr) {
            // The decrement orders every group's prewarm before what follows, so reading the
            // groups from this strand is safe: their pushers have not started.
            if (remaining->fetch_sub(1) != 1) return;
            int open = 0;
            uint32_t peer_max = 0;
            for (auto& g : groups) {
              if (g->client == nullptr || !g->client->open()) continue;
              ++open;
              peer_max = g->client->peer_max_concurrent_streams();
            }
            if (!s.options.quiet) {
              std::printf(
                  "%d of %zu HTTP/2 connections open and warm in %.2f s (%d streams each; the "
                  "server allows %u)\n",
                  open, groups.size(), Seconds(Clock::now() - begin), per, peer_max);
              if (peer_max > 0 && static_cast<uint32_t>(per) > peer_max) {
                std::printf(
                    "note: -http2-streams=%d is above the server's limit: the excess "
                    "requests wait in the client, and that wait counts in the latency\n",
                    per);
              }
            }
            start();
          });
    }
  }
  RunThreads(ioc, options.threads);
}

}  // namespace

int TcpConnections(const RunOptions& options) {
  if (!options.http2) return options.connections;
  const int per = std::max(1, options.http2_streams);
  return (options.connections + per - 1) / per;
}

absl::StatusOr<RunResult> Run(const RunOptions& options, PushSource& source, Stats& stats) {
  absl::StatusOr<HttpTarget> target = ParseHttpUrl(options.url);
  if (!target.ok()) return target.status();
  if (options.connections < 1) return absl::InvalidArgumentError("-connections must be >= 1");
  if (options.http2 && options.http2_streams < 1) {
    return absl::InvalidArgumentError("-http2-streams must be >= 1");
  }
  if (options.http2 && target->tls) {
    return absl::InvalidArgumentError("-http2 pushes over h2c only: use an http:// -url");
  }

  asio::io_context ioc(std::max(1, options.threads));
  Shared s{.options = options,
           .source = source,
           .stats = stats,
           .target = *target,
           .path = target->Path(kPushPath)};
  s.host_header = target->HostHeader();
  if (target->tls) {
    s.tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    beast::error_code ec;
    if (options.tls_ca_path.empty()) {
      s.tls->set_default_verify_paths(ec);
    } else {
      s.tls->load_verify_file(options.tls_ca_path, ec);
    }
    if (ec) {
      return absl::InvalidArgumentError(
          StrCat("-tls-ca-path ", options.tls_ca_path, ": ", ec.message()));
    }
    s.tls->set_verify_mode(asio::ssl::verify_peer);
  }
  {
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    s.endpoints = resolver.resolve(target->host, target->port, ec);
    if (ec) return absl::UnavailableError(StrCat("resolve ", s.host_header, ": ", ec.message()));
  }
  s.timeout = std::chrono::milliseconds(absl::ToInt64Milliseconds(options.timeout));
  s.headers = {{"User-Agent", "embers-loadgen"},
               {"Content-Type", "application/proto"},
               {"Connect-Protocol-Version", "1"},
               {"Connect-Timeout-Ms", std::to_string(s.timeout.count())}};
  if (!options.tenant.empty()) s.headers.emplace_back("X-Scope-OrgID", options.tenant);
  if (!options.authorization.empty())
    s.headers.emplace_back("Authorization", options.authorization);
  if (options.rate > 0) {
    s.interval = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(source.batch() / options.rate));
  }
  if (options.http2) {
    RunHttp2(s, ioc);
  } else if (target->tls) {
    RunHttp1<TlsStream>(s, ioc);
  } else {
    RunHttp1<beast::tcp_stream>(s, ioc);
  }

  RunResult result;
  result.total = stats.Take();
  result.at_deadline = s.deadline_taken ? s.at_deadline : result.total;
  const Clock::time_point finished{Clock::duration(s.finished.load())};
  // Every connection may have stopped early (all files rejected): then the run was shorter.
  result.seconds = Seconds((s.deadline_taken ? s.deadline : finished) - s.start);
  result.drain_seconds = std::max(0.0, Seconds(finished - s.deadline));
  return result;
}

}  // namespace embers::loadgen
