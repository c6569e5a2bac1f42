#include "server/http_server.h"
#include "base/strings.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "absl/strings/escaping.h"
#include "base/compression.h"
#include "base/logging.h"
#include "base/metrics.h"
#include "base/status.h"
#include "base/worker_pool.h"
#include "server/http2_connection.h"
#include "server/reloading_tls_context.h"
#include "server/rpc_protocol.h"
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

// The decoded HTTP2-Settings of an HTTP/1.1 request that asks to upgrade to h2c, or nullopt.
template <class Message>
std::optional<std::string> H2cUpgradeSettings(const Message& msg) {
  if (msg.version() != 11) return std::nullopt;
  bool wants_h2c = false;
  for (std::string_view token : Split(std::string_view(msg[http::field::upgrade]), ',')) {
    wants_h2c = wants_h2c || EqualsIgnoreCase(StripWhitespace(token), "h2c");
  }
  auto settings = msg.find("HTTP2-Settings");
  if (!wants_h2c || settings == msg.end()) return std::nullopt;
  std::string decoded;
  const std::string_view value = settings->value();
  if (!absl::WebSafeBase64Unescape(absl::string_view(value.data(), value.size()), &decoded)) {
    return std::nullopt;  // served as plain HTTP/1.1, as RFC 7540 allows
  }
  return decoded;
}

// An error the server answers itself (no route, body too large, overload), in the form the
// client expects: gRPC status for gRPC and gRPC-Web callers, Connect JSON on Connect routes.
HttpResponse TransportError(const absl::Status& status, bool connect_route,
                            std::string_view content_type) {
  if (connect_route || IsGrpcContentType(content_type)) {
    if (std::optional<RpcProtocol> protocol = RpcProtocolFor(content_type)) {
      return RpcErrorResponse(*protocol, status);
    }
  }
  return ErrorResponse(status, connect_route);
}

// The answer for a request the router has no handler for (404, or 405 with Allow).
HttpResponse RouteError(const HttpRouter::Match& match, std::string_view method,
                        std::string_view path, std::string_view content_type) {
  if (IsGrpcContentType(content_type) && match.status == 404) {
    // gRPC's code for a method the server does not have.
    return TransportError(absl::UnimplementedError(StrCat("unknown method ", path)), false,
                          content_type);
  }
  absl::Status st = match.status == 405 ? absl::Status(absl::StatusCode::kUnimplemented,
                                                       StrCat("method ", method, " not allowed on ",
                                                              path, "; allowed: ", match.allow))
                                        : absl::NotFoundError(StrCat("no route for ", path));
  HttpResponse response = TransportError(st, match.connect, content_type);
  if (!IsGrpcContentType(content_type)) response.status = match.status;
  if (match.status == 405) response.headers.emplace_back("Allow", match.allow);
  return response;
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
  // Serves one accepted connection (after the TLS handshake, with TLS).
  asio::awaitable<void> Session(tcp::socket socket);
  // Serves HTTP/1.1 requests on `stream` (beast::tcp_stream or TlsStream) until it closes; true
  // when it was handed to an Http2Connection instead.
  template <class Stream>
  asio::awaitable<bool> Serve(Stream& stream, const std::string& remote);
  template <class Stream>
  asio::awaitable<void> WriteResponse(Stream& stream, const HttpResponse& response, bool keep_alive,
                                      beast::error_code& ec);

  // Builds the HttpRequest from the parsed message; a non-OK status is the answer to send.
  absl::Status Convert(http::request<http::string_body>&& msg, HttpRequest* out) const;
  // Undoes the request's Content-Encoding (bounded by the body limit).
  absl::Status DecodeBody(HttpRequest* request) const;

  // Runs the route's handler (on the handler pool for CPU-bound routes, answering 429 when its
  // queue is full); `responder` gets the answer. `request` must live until then.
  void RunHandler(HttpRequest* request, const HttpRouter::Match& match, HttpResponder responder);

  template <class Token>
  auto AsyncDispatch(HttpRequest* request, const HttpRouter::Match* match, Token&& token);

  // Serves one complete request of an HTTP/2 stream: routing, decoding, handler, metrics.
  void ServeHttp2Request(std::shared_ptr<HttpRequest> request, HttpResponder::SendFn send);
  Http2Options Http2OptionsFromServer() const;
  // Hands the connection to an Http2Connection; the session coroutine ends.
  void StartHttp2(tcp::socket socket, std::string received, std::optional<Http2Upgrade> upgrade);
  void StartHttp2(TlsStream stream, std::string received);

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
  // Shared with HTTP/2 response closures, which may run after the server is gone.
  std::shared_ptr<std::atomic<int64_t>> in_flight_ = std::make_shared<std::atomic<int64_t>>(0);
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
  while (in_flight_->load() > 0 && absl::Now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (in_flight_->load() > 0) {
    log::Warn("HTTP server stopped with requests in flight", {{"requests", in_flight_->load()}});
  }
  work_.reset();
  ioc_->stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  // Handlers still queued run now; their responses post into the stopped I/O context, which
  // their responders keep alive, as do the (suspended) sessions their requests live in.
  handler_pool_.reset();
}

namespace {

metrics::CounterFamily& ConnectionsRejected() {
  static auto& c = metrics::Registry::Global().Counter(
      "embers_http_connections_rejected_total",
      "Connections closed as soon as accepted because -server.http-max-connections were open.");
  return c;
}

}  // namespace

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
    // Counted here rather than in Session so that concurrent accept loops cannot overshoot.
    if (connections_.fetch_add(1) >= options_.max_connections && options_.max_connections > 0) {
      connections_.fetch_sub(1);
      ConnectionsRejected().WithLabels({}).Inc();
      socket.close(ec);
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
  ParseRequestTarget(out->target, out);
  for (const auto& field : msg) {
    std::string name = AsciiLower(std::string_view(field.name_string()));
    out->headers.try_emplace(std::move(name), std::string(field.value()));
  }
  out->body = std::move(msg.body());
  return absl::OkStatus();
}

absl::Status HttpServer::Impl::DecodeBody(HttpRequest* request) const {
  std::string_view encoding = request->Header("content-encoding");
  if (encoding.empty() || EqualsIgnoreCase(encoding, "identity")) return absl::OkStatus();
  const size_t limit = static_cast<size_t>(options_.max_request_body_bytes);
  absl::StatusOr<std::string> decoded;
  if (EqualsIgnoreCase(encoding, "gzip") || EqualsIgnoreCase(encoding, "x-gzip")) {
    decoded = GunzipBounded(request->body, limit);
  } else if (EqualsIgnoreCase(encoding, "zstd")) {
    decoded = ZstdDecompressBounded(request->body, limit);
  } else {
    return UnsupportedMediaTypeError(
        StrCat("unsupported Content-Encoding \"", encoding, "\" (gzip, zstd)"));
  }
  if (!decoded.ok()) return Annotate(decoded.status(), "request body");
  request->body = std::move(*decoded);
  request->headers.erase("content-encoding");
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

void HttpServer::Impl::RunHandler(HttpRequest* request, const HttpRouter::Match& match,
                                  HttpResponder responder) {
  // Undoes Content-Encoding where the handler runs: for CPU-bound routes (the pushes) that is the
  // handler pool, so inflating a body never holds an I/O thread, and at most one body per handler
  // thread is being inflated at any time (each bounded by the body limit).
  auto decode_then_handle = [this, connect = match.connect](const HttpHandler& handler,
                                                            HttpRequest& request,
                                                            HttpResponder responder) {
    if (absl::Status decoded = DecodeBody(&request); !decoded.ok()) {
      return responder.Send(TransportError(decoded, connect, request.Header("content-type")));
    }
    handler(request, std::move(responder));
  };
  if (match.cpu_bound && handler_pool_ != nullptr) {
    const int64_t bytes = static_cast<int64_t>(request->body.size());
    if (!EnterHandlerQueue(bytes)) {
      responder.Send(TransportError(
          absl::ResourceExhaustedError(
              StrCat("the server is overloaded: more than ", options_.max_handler_queue_bytes,
                     " bytes of requests are waiting to be processed; retry later")),
          match.connect, request->Header("content-type")));
      return;
    }
    // Self outlives the task: Stop() drains the pool before the server goes away.
    handler_pool_->Submit([self = this, bytes, route_handler = match.handler, request,
                           decode_then_handle, responder = std::move(responder)]() mutable {
      self->LeaveHandlerQueue(bytes);
      decode_then_handle(*route_handler, *request, std::move(responder));
    });
    return;
  }
  decode_then_handle(*match.handler, *request, std::move(responder));
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
        self->RunHandler(request, *match, std::move(responder));
      },
      token, request, match, ioc_, this);
}

void HttpServer::Impl::ServeHttp2Request(std::shared_ptr<HttpRequest> request,
                                         HttpResponder::SendFn send) {
  const auto start = std::chrono::steady_clock::now();
  HttpRouter::Match match = router_->Find(request->method, request->path);
  // Metrics and the in-flight count are settled when the answer is handed back; the closure
  // holds what it needs by value because it may run on any thread, after the server stopped.
  auto finish = [observer = observer_, method = request->method, route = match.route, start,
                 send = std::move(send)](HttpResponse response) mutable {
    if (observer) {
      observer(method, route, response.status,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    send(std::move(response));
  };
  if (match.handler == nullptr) {
    return finish(
        RouteError(match, request->method, request->path, request->Header("content-type")));
  }
  in_flight_->fetch_add(1);
  // The request lives in the responder's closure until the answer is sent.
  HttpResponder responder(
      [request, in_flight = in_flight_, finish = std::move(finish)](HttpResponse response) mutable {
        in_flight->fetch_sub(1);
        finish(std::move(response));
      });
  RunHandler(request.get(), match, std::move(responder));
}

template <class Stream>
asio::awaitable<void> HttpServer::Impl::WriteResponse(Stream& stream, const HttpResponse& response,
                                                      bool keep_alive, beast::error_code& ec) {
  http::response<http::string_body> res;
  res.version(11);
  res.result(static_cast<unsigned>(response.status));
  res.set(http::field::server, "embers");
  res.set(http::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) res.set(name, value);
  res.body() = response.body;
  res.keep_alive(keep_alive);
  res.prepare_payload();
  http::serializer<false, http::string_body> serializer(res);
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    // Most responses fit in the socket's send buffer: write them at once. Going through
    // async_write would put the completion at the back of the I/O queue, and when a segment
    // flush completes ~1,500 pushes at the same moment that trip costs each of them tens of
    // milliseconds. Whatever the kernel does not take now (the socket is non-blocking) is
    // finished asynchronously. (Not through TLS, whose records cannot be written in part.)
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
  }
  beast::get_lowest_layer(stream).expires_after(ToChrono(options_.write_timeout));
  co_await http::async_write(stream, serializer, asio::redirect_error(asio::use_awaitable, ec));
}

Http2Options HttpServer::Impl::Http2OptionsFromServer() const {
  Http2Options h2;
  h2.max_request_body_bytes = options_.max_request_body_bytes;
  h2.max_header_bytes = kHeaderLimitBytes;
  h2.idle_timeout = options_.idle_timeout;
  h2.write_timeout = options_.write_timeout;
  return h2;
}

void HttpServer::Impl::StartHttp2(tcp::socket socket, std::string received,
                                  std::optional<Http2Upgrade> upgrade) {
  // Not counted in in_flight_: requests are, as on HTTP/1.1. The connection count drops when
  // the connection closes; the closure must not touch `this` after Stop(), and it runs on the
  // I/O threads, which Stop() joins before Impl goes away.
  StartHttp2Connection(
      std::move(socket), std::move(received), std::move(upgrade), Http2OptionsFromServer(),
      [this](std::shared_ptr<HttpRequest> request, HttpResponder::SendFn send) {
        // The answer posts into the I/O context: keep it alive for a late answer, as the
        // HTTP/1.1 responders do.
        ServeHttp2Request(std::move(request),
                          [send = std::move(send), ioc = ioc_](HttpResponse response) {
                            send(std::move(response));
                          });
      },
      [this] { connections_.fetch_sub(1); });
}

void HttpServer::Impl::StartHttp2(TlsStream stream, std::string received) {
  beast::get_lowest_layer(stream).expires_never();
  StartHttp2Connection(
      std::move(stream), std::move(received), Http2OptionsFromServer(),
      [this](std::shared_ptr<HttpRequest> request, HttpResponder::SendFn send) {
        ServeHttp2Request(std::move(request),
                          [send = std::move(send), ioc = ioc_](HttpResponse response) {
                            send(std::move(response));
                          });
      },
      [this] { connections_.fetch_sub(1); });
}

namespace {

metrics::CounterFamily& TlsHandshakeErrors() {
  static auto& c = metrics::Registry::Global().Counter(
      "embers_http_tls_handshake_errors_total",
      "TLS handshakes on the HTTP port that failed (no common protocol or cipher, a client "
      "certificate missing or not signed by the CA, a timeout).");
  return c;
}

}  // namespace

// connections_ already counts this connection (AcceptLoop); the session or the HTTP/2 connection
// it becomes releases it.
asio::awaitable<void> HttpServer::Impl::Session(tcp::socket socket) {
  beast::error_code ec;
  // Lets WriteResponse try a synchronous write that never blocks an I/O thread.
  socket.non_blocking(true, ec);
  // A response is written whole, so Nagle's algorithm could only delay it (Go's net/http also
  // disables it on every connection).
  socket.set_option(tcp::no_delay(true), ec);
  std::string remote;
  {
    auto ep = socket.remote_endpoint(ec);
    if (!ec) remote = StrCat(ep.address().to_string(), ":", ep.port());
  }
  bool handed_over = false;
  if (options_.tls == nullptr) {
    beast::tcp_stream stream(std::move(socket));
    handed_over = co_await Serve(stream, remote);
    if (!handed_over) stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  } else {
    // The stream holds its own reference to the context's SSL_CTX: a reload meanwhile is fine.
    TlsStream stream(std::move(socket), *options_.tls->Current());
    beast::get_lowest_layer(stream).expires_after(ToChrono(options_.read_timeout));
    co_await stream.async_handshake(asio::ssl::stream_base::server,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      TlsHandshakeErrors().WithLabels({}).Inc();
      log::Debug("TLS handshake failed", {{"remote", remote}, {"error", ec.message()}});
      if (ec.category() == asio::error::get_ssl_category() &&
          ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_HTTP_REQUEST) {
        // Someone typed http:// for https://: say so in plain HTTP, as Go's servers do,
        // rather than close without a word.
        static constexpr std::string_view kPlainHttp =
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Connection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";
        beast::error_code wec;
        asio::write(LowestSocket(stream), asio::buffer(kPlainHttp), wec);
      }
    } else {
      handed_over = co_await Serve(stream, remote);
    }
    // No close_notify: every response is framed by its length, and waiting for the peer's
    // answer would hold the connection open for nothing.
    if (!handed_over) LowestSocket(stream).shutdown(tcp::socket::shutdown_send, ec);
  }
  if (!handed_over) connections_.fetch_sub(1);
}

template <class Stream>
asio::awaitable<bool> HttpServer::Impl::Serve(Stream& stream, const std::string& remote) {
  constexpr bool kCleartext = std::is_same_v<Stream, beast::tcp_stream>;
  auto& tcp_layer = beast::get_lowest_layer(stream);
  beast::error_code ec;
  beast::flat_buffer buffer;
  try {
    // HTTP/2 with prior knowledge (how gRPC clients connect) begins with the client preface; an
    // HTTP/1.1 request line can share at most its first letter, so a short read tells them apart.
    const std::string_view preface = Http2ClientPreface();
    auto received = [&buffer] {
      return std::string_view(static_cast<const char*>(buffer.data().data()), buffer.size());
    };
    while (buffer.size() < preface.size() && preface.substr(0, buffer.size()) == received()) {
      tcp_layer.expires_after(ToChrono(options_.idle_timeout));
      const size_t n = co_await stream.async_read_some(
          buffer.prepare(4096), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      buffer.commit(n);
    }
    if (!ec && received().substr(0, preface.size()) == preface) {
      std::string bytes(received());
      tcp_layer.expires_never();
      if constexpr (kCleartext) {
        StartHttp2(stream.release_socket(), std::move(bytes), std::nullopt);
      } else {
        StartHttp2(std::move(stream), std::move(bytes));
      }
      co_return true;
    }
    while (!ec && !stopping_.load()) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(kHeaderLimitBytes);
      parser.body_limit(static_cast<uint64_t>(options_.max_request_body_bytes));
      tcp_layer.expires_after(ToChrono(options_.idle_timeout));
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
          ParseRequestTarget(parser.get().target(), &probe);
          error = TransportError(
              PayloadTooLargeError(StrCat("request body exceeds the limit of ",
                                          options_.max_request_body_bytes, " bytes")),
              router_->IsConnectRoute(probe.path), parser.get()[http::field::content_type]);
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
        ParseRequestTarget(parser.get().target(), &probe);
        path = std::move(probe.path);
      }
      HttpRouter::Match match = router_->Find(method, path);

      // Refuse an oversized body before reading it.
      HttpResponse early;
      bool answer_early = false;
      if (parser.content_length() &&
          *parser.content_length() > static_cast<uint64_t>(options_.max_request_body_bytes)) {
        early =
            TransportError(PayloadTooLargeError(StrCat("request body of ", *parser.content_length(),
                                                       " bytes exceeds the limit of ",
                                                       options_.max_request_body_bytes, " bytes")),
                           match.connect, parser.get()[http::field::content_type]);
        answer_early = true;
      } else if (parser.get()[http::field::expect] == "100-continue") {
        http::response<http::empty_body> cont{http::status::continue_, 11};
        tcp_layer.expires_after(ToChrono(options_.write_timeout));
        co_await http::async_write(stream, cont, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
      }
      if (answer_early) {
        beast::error_code wec;
        co_await WriteResponse(stream, early, false, wec);
        if (observer_) observer_(method, match.route, early.status, 0);
        break;
      }

      tcp_layer.expires_after(ToChrono(options_.read_timeout));
      co_await http::async_read(stream, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec == http::error::body_limit) {
          HttpResponse resp = TransportError(
              PayloadTooLargeError(StrCat("request body exceeds the limit of ",
                                          options_.max_request_body_bytes, " bytes")),
              match.connect, parser.get()[http::field::content_type]);
          beast::error_code wec;
          co_await WriteResponse(stream, resp, false, wec);
          if (observer_) observer_(method, match.route, resp.status, 0);
        }
        break;
      }
      const bool keep_alive = parser.get().keep_alive();
      const std::string content_type(parser.get()[http::field::content_type]);

      // h2c is HTTP/2 in cleartext: on TLS, ALPN is the way to HTTP/2 (RFC 7540 §3.3).
      std::optional<std::string> settings;
      if constexpr (kCleartext) settings = H2cUpgradeSettings(parser.get());
      if (settings) {
        // RFC 7540 §3.2: answer 101, then serve this request as stream 1 of an HTTP/2 connection.
        auto request = std::make_shared<HttpRequest>();
        request->remote_address = remote;
        absl::Status converted = Convert(parser.release(), request.get());
        static constexpr std::string_view kSwitching =
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
        if (!converted.ok()) {
          beast::error_code wec;
          co_await WriteResponse(stream, TransportError(converted, match.connect, content_type),
                                 false, wec);
          break;
        }
        if constexpr (kCleartext) {
          stream.expires_after(ToChrono(options_.write_timeout));
          co_await asio::async_write(stream, asio::buffer(kSwitching),
                                     asio::redirect_error(asio::use_awaitable, ec));
          if (ec) break;
          std::string rest(received());
          stream.expires_never();
          StartHttp2(stream.release_socket(), std::move(rest),
                     Http2Upgrade{std::move(request), std::move(*settings)});
          co_return true;
        }
      }

      HttpResponse response;
      if (match.handler == nullptr) {
        response = RouteError(match, method, path, content_type);
      } else {
        HttpRequest request;
        request.remote_address = remote;
        absl::Status converted = Convert(parser.release(), &request);
        if (!converted.ok()) {
          response = TransportError(converted, match.connect, content_type);
        } else {
          in_flight_->fetch_add(1);
          response = co_await AsyncDispatch(&request, &match, asio::use_awaitable);
          in_flight_->fetch_sub(1);
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
  co_return false;
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
