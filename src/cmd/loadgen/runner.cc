#include "cmd/loadgen/runner.h"

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "base/strings.h"
#include "cmd/loadgen/http_target.h"

namespace embers::loadgen {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kPushPath = "/push.v1.PusherService/Push";

// State shared by every coroutine of one run. It outlives io_context::run().
struct Shared {
  const RunOptions& options;
  PushSource& source;
  Stats& stats;
  HttpTarget target;
  std::string path;
  std::string host_header;
  tcp::resolver::results_type endpoints;
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

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

int64_t UnixNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Opens `stream` and sends one GET /ready on it, before the measured run starts. Without this,
// a thousand connections opened at once under load wait in the server's accept queue (see
// docs/performance.md) and the first push of each measures the accept delay, not the write path.
asio::awaitable<void> Prewarm(Shared* s, beast::tcp_stream* stream) {
  beast::error_code ec;
  stream->expires_after(s->timeout);
  co_await stream->async_connect(s->endpoints, asio::redirect_error(asio::use_awaitable, ec));
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
  if (ec) stream->socket().close(ec);  // Connection() reconnects
}

// One keep-alive connection: push, wait for the ack, repeat until the deadline.
asio::awaitable<void> Connection(Shared* s, beast::tcp_stream* stream_ptr, uint64_t seed) {
  beast::tcp_stream& stream = *stream_ptr;
  asio::steady_timer timer(stream.get_executor());
  beast::flat_buffer buffer;
  std::mt19937_64 rng(seed);
  beast::error_code ec;
  bool connected = stream.socket().is_open();
  while (std::optional<Clock::time_point> slot = NextSlot(*s)) {
    if (*slot > Clock::now()) {
      timer.expires_at(*slot);
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!connected) {
      stream.expires_after(s->timeout);
      co_await stream.async_connect(s->endpoints, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        s->stats.Failed(0, StrCat("connect: ", ec.message()));
        timer.expires_after(std::chrono::milliseconds(100));  // do not spin on a dead server
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      stream.socket().set_option(tcp::no_delay(true), ec);
      buffer.clear();
      connected = true;
    }
    PushBody body = s->source.Next(rng, UnixNanos());
    if (body.profiles == 0) break;  // nothing left to send (or every file was refused)

    http::request<http::string_body> req(http::verb::post, s->path, 11);
    req.set(http::field::host, s->host_header);
    req.set(http::field::user_agent, "embers-loadgen");
    req.set(http::field::content_type, "application/proto");
    req.set("Connect-Protocol-Version", "1");
    req.set("Connect-Timeout-Ms", std::to_string(s->timeout.count()));
    if (!s->options.tenant.empty()) req.set("X-Scope-OrgID", s->options.tenant);
    const size_t wire_bytes = body.bytes.size();
    req.body() = std::move(body.bytes);
    req.keep_alive(true);
    req.prepare_payload();

    http::response<http::string_body> res;
    s->stats.BeginRequest();
    const Clock::time_point sent = Clock::now();
    stream.expires_after(s->timeout);
    co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
      co_await http::async_read(stream, buffer, res, asio::redirect_error(asio::use_awaitable, ec));
    }
    const auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent).count();
    s->stats.EndRequest();
    if (ec) {
      s->stats.Failed(0, StrCat("transport: ", ec.message()));
      stream.socket().close(ec);
      connected = false;
      continue;
    }
    if (res.result_int() == 200) {
      s->stats.Acked(body.profiles, body.uncompressed_pprof, wire_bytes,
                     static_cast<uint64_t>(micros));
    } else {
      Rejected(*s, body, static_cast<int>(res.result_int()), res.body());
    }
    if (!res.keep_alive()) {
      stream.socket().close(ec);
      connected = false;
    }
  }
  stream.socket().close(ec);
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

}  // namespace

absl::StatusOr<RunResult> Run(const RunOptions& options, PushSource& source, Stats& stats) {
  absl::StatusOr<HttpTarget> target = ParseHttpUrl(options.url);
  if (!target.ok()) return target.status();
  if (options.connections < 1) return absl::InvalidArgumentError("-connections must be >= 1");

  asio::io_context ioc(std::max(1, options.threads));
  Shared s{.options = options,
           .source = source,
           .stats = stats,
           .target = *target,
           .path = target->Path(kPushPath)};
  s.host_header = target->HostHeader();
  {
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    s.endpoints = resolver.resolve(target->host, target->port, ec);
    if (ec) return absl::UnavailableError(StrCat("resolve ", s.host_header, ": ", ec.message()));
  }
  s.timeout = std::chrono::milliseconds(absl::ToInt64Milliseconds(options.timeout));
  if (options.rate > 0) {
    s.interval = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(source.batch() / options.rate));
  }
  // One stream per connection, each on its own strand; they outlive both phases below.
  std::vector<std::unique_ptr<beast::tcp_stream>> streams;
  for (int i = 0; i < options.connections; ++i) {
    streams.push_back(std::make_unique<beast::tcp_stream>(asio::make_strand(ioc)));
  }
  auto run_threads = [&ioc, &options] {
    std::vector<std::thread> threads;
    for (int i = 1; i < options.threads; ++i) threads.emplace_back([&ioc] { ioc.run(); });
    ioc.run();
    for (std::thread& t : threads) t.join();
    ioc.restart();
  };
  if (options.prewarm) {
    const Clock::time_point begin = Clock::now();
    for (auto& stream : streams) {
      asio::co_spawn(stream->get_executor(), Prewarm(&s, stream.get()), asio::detached);
    }
    run_threads();
    int open = 0;
    for (auto& stream : streams) open += stream->socket().is_open() ? 1 : 0;
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
                   Connection(&s, streams[i].get(), 0x9e3779b97f4a7c15ULL * (i + 1)),
                   asio::detached);
  }
  asio::co_spawn(asio::make_strand(ioc), Progress(&s), asio::detached);
  run_threads();

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
