#include "server/http_server.h"
#include "base/strings.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "base/compression.h"
#include "base/logging.h"
#include "base/metrics.h"
#include "base/status.h"
#include "base/worker_pool.h"
#include "server/status_mapping.h"

namespace embers::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr uint32_t kHeaderLimitBytes = 64 * 1024;
constexpr int kAcceptLoops = 8;

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  return absl::ToChronoNanoseconds(d);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%' && i + 2 < in.size()) {
      int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

void ParseTarget(std::string_view target, HttpRequest* req) {
  size_t q = target.find('?');
  req->path = PercentDecode(target.substr(0, q), false);
  if (q == std::string_view::npos) return;
  for (std::string_view pair : Split(target.substr(q + 1), '&', /*skip_empty=*/true)) {
    size_t eq = pair.find('=');
    std::string key = PercentDecode(pair.substr(0, eq), true);
    std::string value =
        eq == std::string_view::npos ? std::string() : PercentDecode(pair.substr(eq + 1), true);
    req->query.try_emplace(std::move(key), std::move(value));
  }
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, const HttpRouter* router, HttpRequestObserver observer)
      : options_(std::move(options)),
        router_(router),
        observer_(std::move(observer)),
        ioc_(std::make_shared<asio::io_context>(options_.io_threads)),
        work_(asio::make_work_guard(*ioc_)),
        acceptor_(*ioc_) {}

  absl::Status Start();
  void Stop(absl::Duration grace);
  int port() const { return bound_port_; }
  int64_t open_connections() const { return connections_.load(); }

 private:
  asio::awaitable<void> AcceptLoop();
  asio::awaitable<void> Session(tcp::socket socket);
  asio::awaitable<void> WriteResponse(beast::tcp_stream& stream, const HttpResponse& response,
                                      bool keep_alive, beast::error_code& ec);

  // Builds the HttpRequest from the parsed message; a non-OK status is the answer to send.
  absl::Status Convert(http::request<http::string_body>&& msg, HttpRequest* out) const;

  template <class Token>
  auto AsyncDispatch(HttpRequest* request, const HttpRouter::Match* match, Token&& token);

  // Accounts `bytes` of request body to the handler queue; false (nothing accounted) when that
  // would exceed max_handler_queue_bytes. A request is always let into an empty queue, so a
  // body larger than the bound is still served when the server is idle.
  bool EnterHandlerQueue(int64_t bytes);
  void LeaveHandlerQueue(int64_t bytes);

  HttpServerOptions options_;
  const HttpRouter* router_;
  HttpRequestObserver observer_;
  std::shared_ptr<asio::io_context> ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  // Runs the handlers of CPU-bound routes; null when they run on the I/O threads.
  std::unique_ptr<WorkerPool> handler_pool_;
  // Body bytes of the requests queued for handler_pool_ (bounded by max_handler_queue_bytes).
  std::atomic<int64_t> handler_queue_bytes_{0};
  int bound_port_ = 0;
  std::atomic<int64_t> connections_{0};
  std::atomic<int64_t> in_flight_{0};
  std::atomic<bool> stopping_{false};
};

absl::Status HttpServer::Impl::Start() {
  beast::error_code ec;
  auto address = asio::ip::make_address(options_.address, ec);
  if (ec)
    return absl::InvalidArgumentError(StrCat("bad HTTP listen address \"", options_.address, "\""));
  tcp::endpoint endpoint(address, static_cast<uint16_t>(options_.port));
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        StrCat("cannot listen on ", options_.address, ":", options_.port, ": ", ec.message()));
  }
  bound_port_ = acceptor_.local_endpoint().port();
  // Several accepts stay outstanding so a burst of new connections is taken in parallel instead
  // of one per trip through a busy I/O queue (measured: 1,500 connects at once under load waited
  // up to 19 s with a single accept loop).
  for (int i = 0; i < kAcceptLoops; ++i) asio::co_spawn(*ioc_, AcceptLoop(), asio::detached);
  if (options_.handler_threads > 0) {
    handler_pool_ = std::make_unique<WorkerPool>(
        WorkerPoolOptions{.threads = options_.handler_threads, .name = "http-handler"});
  }
  for (int i = 0; i < std::max(1, options_.io_threads); ++i) {
    threads_.emplace_back([ioc = ioc_] {
      SetCurrentThreadName("http-io");
      ioc->run();
    });
  }
  return absl::OkStatus();
}

void HttpServer::Impl::Stop(absl::Duration grace) {
  if (stopping_.exchange(true)) return;
  asio::post(*ioc_, [this] {
    beast::error_code ec;
    acceptor_.close(ec);
  });
  absl::Time deadline = absl::Now() + grace;
  while (in_flight_.load() > 0 && absl::Now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (in_flight_.load() > 0) {
    log::Warn("HTTP server stopped with requests in flight", {{"requests", in_flight_.load()}});
  }
  work_.reset();
  ioc_->stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  // Handlers still queued run now; their responses post into the stopped I/O context, which
  // their responders keep alive, as do the (suspended) sessions their requests live in.
  handler_pool_.reset();
}

// The coroutines hold no reference to Impl's owner: Stop() joins the I/O threads before Impl is
// destroyed, and a parked frame destroyed later never touches `this`.
asio::awaitable<void> HttpServer::Impl::AcceptLoop() {
  while (!stopping_.load()) {
    beast::error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(
        asio::make_strand(*ioc_), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) break;
      // Out of descriptors or a reset during accept: back off briefly instead of spinning.
      log::Warn("HTTP accept failed", {{"error", ec.message()}});
      asio::steady_timer timer(*ioc_, std::chrono::milliseconds(50));
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    auto executor = socket.get_executor();
    asio::co_spawn(executor, Session(std::move(socket)), asio::detached);
  }
}

absl::Status HttpServer::Impl::Convert(http::request<http::string_body>&& msg,
                                       HttpRequest* out) const {
  out->method = std::string(msg.method_string());
  out->target = std::string(msg.target());
  ParseTarget(out->target, out);
  for (const auto& field : msg) {
    std::string name = AsciiLower(std::string_view(field.name_string()));
    out->headers.try_emplace(std::move(name), std::string(field.value()));
  }
  out->body = std::move(msg.body());
  std::string_view encoding = out->Header("content-encoding");
  if (!encoding.empty() && !EqualsIgnoreCase(encoding, "identity")) {
    const size_t limit = static_cast<size_t>(options_.max_request_body_bytes);
    absl::StatusOr<std::string> decoded;
    if (EqualsIgnoreCase(encoding, "gzip") || EqualsIgnoreCase(encoding, "x-gzip")) {
      decoded = GunzipBounded(out->body, limit);
    } else if (EqualsIgnoreCase(encoding, "zstd")) {
      decoded = ZstdDecompressBounded(out->body, limit);
    } else {
      return UnsupportedMediaTypeError(
          StrCat("unsupported Content-Encoding \"", encoding, "\" (gzip, zstd)"));
    }
    if (!decoded.ok()) return Annotate(decoded.status(), "request body");
    out->body = std::move(*decoded);
    out->headers.erase("content-encoding");
  }
  return absl::OkStatus();
}

namespace {

metrics::Gauge& HandlerQueueBytes() {
  static auto& g = metrics::Registry::Global()
                       .Gauge("embers_http_handler_queue_bytes",
                              "Body bytes of CPU-bound requests waiting for a handler thread.")
                       .WithLabels({});
  return g;
}
metrics::CounterFamily& HandlerQueueRejected() {
  static auto& c = metrics::Registry::Global().Counter(
      "embers_http_handler_queue_rejected_total",
      "CPU-bound requests answered 429 because the handler queue was full.");
  return c;
}

}  // namespace

bool HttpServer::Impl::EnterHandlerQueue(int64_t bytes) {
  const int64_t limit = options_.max_handler_queue_bytes;
  int64_t queued = handler_queue_bytes_.load();
  do {
    if (limit > 0 && queued > 0 && queued + bytes > limit) {
      HandlerQueueRejected().WithLabels({}).Inc();
      return false;
    }
  } while (!handler_queue_bytes_.compare_exchange_weak(queued, queued + bytes));
  HandlerQueueBytes().Add(static_cast<double>(bytes));
  return true;
}

void HttpServer::Impl::LeaveHandlerQueue(int64_t bytes) {
  handler_queue_bytes_.fetch_sub(bytes);
  HandlerQueueBytes().Add(-static_cast<double>(bytes));
}

template <class Token>
auto HttpServer::Impl::AsyncDispatch(HttpRequest* request, const HttpRouter::Match* match,
                                     Token&& token) {
  // The initiation lambda captures nothing: g++ 12 destroys captures of lambdas created inside a
  // co_await expression twice (see docs/architecture.md, "coroutine pitfalls").
  return asio::async_initiate<Token, void(HttpResponse)>(
      [](auto handler, HttpRequest* request, const HttpRouter::Match* match,
         std::shared_ptr<asio::io_context> ioc, Impl* self) {
        auto executor = asio::get_associated_executor(handler);
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        // The responder keeps the io_context alive, so a late Send() from another module after
        // the server stopped posts into a stopped context instead of freed memory.
        HttpResponder responder([shared, executor, ioc](HttpResponse response) mutable {
          asio::post(executor, [shared, response = std::move(response)]() mutable {
            (*shared)(std::move(response));
          });
        });
        // The session stays suspended until the responder fires, so `request` outlives the
        // handler wherever it runs.
        if (match->cpu_bound && self->handler_pool_ != nullptr) {
          const int64_t bytes = static_cast<int64_t>(request->body.size());
          if (!self->EnterHandlerQueue(bytes)) {
            responder.Send(ErrorResponse(
                absl::ResourceExhaustedError(StrCat(
                    "the server is overloaded: more than ", self->options_.max_handler_queue_bytes,
                    " bytes of requests are waiting to be processed; retry later")),
                match->connect));
            return;
          }
          // Self outlives the task: Stop() drains the pool before the server goes away.
          self->handler_pool_->Submit([self, bytes, route_handler = match->handler, request,
                                       responder = std::move(responder)]() mutable {
            self->LeaveHandlerQueue(bytes);
            (*route_handler)(*request, std::move(responder));
          });
          return;
        }
        (*match->handler)(*request, std::move(responder));
      },
      token, request, match, ioc_, this);
}

asio::awaitable<void> HttpServer::Impl::WriteResponse(beast::tcp_stream& stream,
                                                      const HttpResponse& response, bool keep_alive,
                                                      beast::error_code& ec) {
  http::response<http::string_body> res;
  res.version(11);
  res.result(static_cast<unsigned>(response.status));
  res.set(http::field::server, "embers");
  res.set(http::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) res.set(name, value);
  res.body() = response.body;
  res.keep_alive(keep_alive);
  res.prepare_payload();
  // Most responses fit in the socket's send buffer: write them at once. Going through async_write
  // would put the completion at the back of the I/O queue, and when a segment flush completes
  // ~1,500 pushes at the same moment that trip costs each of them tens of milliseconds. Whatever
  // the kernel does not take now (the socket is non-blocking) is finished asynchronously.
  http::serializer<false, http::string_body> serializer(res);
  beast::error_code direct_ec;
  while (!serializer.is_done()) {
    http::write_some(stream.socket(), serializer, direct_ec);
    if (direct_ec) break;
  }
  if (serializer.is_done()) co_return;
  if (direct_ec != asio::error::would_block && direct_ec != asio::error::try_again) {
    ec = direct_ec;
    co_return;
  }
  stream.expires_after(ToChrono(options_.write_timeout));
  co_await http::async_write(stream, serializer, asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> HttpServer::Impl::Session(tcp::socket socket) {
  connections_.fetch_add(1);
  beast::tcp_stream stream(std::move(socket));
  beast::error_code ec;
  // Lets WriteResponse try a synchronous write that never blocks an I/O thread.
  stream.socket().non_blocking(true, ec);
  // A response is written whole, so Nagle's algorithm could only delay it (Go's net/http also
  // disables it on every connection).
  stream.socket().set_option(tcp::no_delay(true), ec);
  std::string remote;
  {
    auto ep = stream.socket().remote_endpoint(ec);
    if (!ec) remote = StrCat(ep.address().to_string(), ":", ep.port());
  }
  beast::flat_buffer buffer;
  try {
    while (!stopping_.load()) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(kHeaderLimitBytes);
      parser.body_limit(static_cast<uint64_t>(options_.max_request_body_bytes));
      stream.expires_after(ToChrono(options_.idle_timeout));
      co_await http::async_read_header(stream, buffer, parser,
                                       asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
            ec == asio::error::eof || ec == asio::error::connection_reset ||
            ec == asio::error::operation_aborted) {
          break;
        }
        HttpResponse error;
        if (ec == http::error::body_limit) {
          // Beast checks Content-Length against the body limit while parsing the headers.
          HttpRequest probe;
          ParseTarget(parser.get().target(), &probe);
          error =
              ErrorResponse(PayloadTooLargeError(StrCat("request body exceeds the limit of ",
                                                        options_.max_request_body_bytes, " bytes")),
                            router_->IsConnectRoute(probe.path));
        } else {
          int status = ec == http::error::header_limit ? 431 : 400;
          error = HttpResponse::Text(status, StrCat("bad request: ", ec.message()));
        }
        beast::error_code wec;
        co_await WriteResponse(stream, error, false, wec);
        break;
      }
      const auto start = std::chrono::steady_clock::now();
      std::string method(parser.get().method_string());
      std::string path;
      {
        HttpRequest probe;
        ParseTarget(parser.get().target(), &probe);
        path = std::move(probe.path);
      }
      HttpRouter::Match match = router_->Find(method, path);

      // Refuse an oversized body before reading it.
      HttpResponse early;
      bool answer_early = false;
      if (parser.content_length() &&
          *parser.content_length() > static_cast<uint64_t>(options_.max_request_body_bytes)) {
        early =
            ErrorResponse(PayloadTooLargeError(StrCat("request body of ", *parser.content_length(),
                                                      " bytes exceeds the limit of ",
                                                      options_.max_request_body_bytes, " bytes")),
                          match.connect);
        answer_early = true;
      } else if (parser.get()[http::field::expect] == "100-continue") {
        http::response<http::empty_body> cont{http::status::continue_, 11};
        stream.expires_after(ToChrono(options_.write_timeout));
        co_await http::async_write(stream, cont, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
      }
      if (answer_early) {
        beast::error_code wec;
        co_await WriteResponse(stream, early, false, wec);
        if (observer_) observer_(method, match.route, early.status, 0);
        break;
      }

      stream.expires_after(ToChrono(options_.read_timeout));
      co_await http::async_read(stream, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec == http::error::body_limit) {
          HttpResponse resp =
              ErrorResponse(PayloadTooLargeError(StrCat("request body exceeds the limit of ",
                                                        options_.max_request_body_bytes, " bytes")),
                            match.connect);
          beast::error_code wec;
          co_await WriteResponse(stream, resp, false, wec);
          if (observer_) observer_(method, match.route, resp.status, 0);
        }
        break;
      }
      const bool keep_alive = parser.get().keep_alive();

      HttpResponse response;
      if (match.handler == nullptr) {
        absl::Status st = match.status == 405
                              ? absl::Status(absl::StatusCode::kUnimplemented,
                                             StrCat("method ", method, " not allowed on ", path,
                                                    "; allowed: ", match.allow))
                              : absl::NotFoundError(StrCat("no route for ", path));
        response = ErrorResponse(st, match.connect);
        response.status = match.status;
        if (match.status == 405) response.headers.emplace_back("Allow", match.allow);
      } else {
        HttpRequest request;
        request.remote_address = remote;
        absl::Status converted = Convert(parser.release(), &request);
        if (!converted.ok()) {
          response = ErrorResponse(converted, match.connect);
        } else {
          in_flight_.fetch_add(1);
          response = co_await AsyncDispatch(&request, &match, asio::use_awaitable);
          in_flight_.fetch_sub(1);
        }
      }
      co_await WriteResponse(stream, response, keep_alive, ec);
      if (observer_) {
        double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        observer_(method, match.route, response.status, seconds);
      }
      if (ec || !keep_alive) break;
    }
  } catch (const std::exception& e) {
    log::Error("HTTP session failed", {{"remote", remote}, {"error", e.what()}});
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  connections_.fetch_sub(1);
}

HttpServer::HttpServer(HttpServerOptions options, const HttpRouter* router,
                       HttpRequestObserver observer)
    : impl_(std::make_shared<Impl>(std::move(options), router, std::move(observer))) {}

HttpServer::~HttpServer() { impl_->Stop(absl::ZeroDuration()); }

absl::Status HttpServer::Start() { return impl_->Start(); }
int HttpServer::port() const { return impl_->port(); }
void HttpServer::Stop(absl::Duration grace) { impl_->Stop(grace); }
int64_t HttpServer::open_connections() const { return impl_->open_connections(); }

}  // namespace embers::server
