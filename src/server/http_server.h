// HttpServer: the public HTTP endpoint (port 4040 by default): HTTP/1.1 and HTTP/2, in cleartext
// or over TLS.
//
// Boost.Beast with C++20 coroutines on a small pool of I/O threads: one coroutine per connection,
// so idle keep-alive connections cost memory but no threads. Each request is read with a body
// limit and timeouts, decompressed when it has a Content-Encoding (bounded by the same limit), and
// dispatched through the HttpRouter. The handler's answer may arrive later from any thread; the
// connection's coroutine is parked meanwhile and resumed on its own strand.
//
// With TLS (HttpServerOptions::tls) each accepted connection does the handshake on its I/O
// thread first; ALPN "h2" or the HTTP/2 client preface then hands it to an Http2Connection, as
// on the cleartext port.
//
// Used by src/server/app.cc, which registers every route before Start().
#ifndef EMBERS_SERVER_HTTP_SERVER_H_
#define EMBERS_SERVER_HTTP_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/http_router.h"

namespace embers::server {

class ReloadingTlsContext;

struct HttpServerOptions {
  std::string address = "0.0.0.0";
  int port = 4040;  // 0 picks a free port; see HttpServer::port()
  int io_threads = 2;
  // Threads running the handlers of CPU-bound routes (RouteOptions::cpu_bound); 0 runs them on
  // the I/O threads.
  int handler_threads = 2;
  // Request bodies waiting for a handler thread, in bytes. The I/O threads keep reading requests
  // while the handlers are busy, so without this bound an overload would pile bodies up in
  // memory; beyond it a CPU-bound request is answered 429 at once (0: no bound).
  int64_t max_handler_queue_bytes = 256ll << 20;
  int64_t max_request_body_bytes = 256ll << 20;
  absl::Duration read_timeout = absl::Seconds(30);
  absl::Duration write_timeout = absl::Seconds(30);
  absl::Duration idle_timeout = absl::Seconds(120);
  // Open connections (HTTP/1.1 and HTTP/2) at most; one more is accepted and closed at once, so
  // a flood of connections runs into this bound rather than into the process's open-files limit,
  // where the other listeners, the bucket and the Raft log would fail too (0: no bound).
  int64_t max_connections = 0;
  // Serve TLS with this context (null: cleartext).
  std::shared_ptr<ReloadingTlsContext> tls;
};

// Called once per answered request, on an I/O thread (metrics).
using HttpRequestObserver = std::function<void(std::string_view method, std::string_view route,
                                               int status, double seconds)>;

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, const HttpRouter* router, HttpRequestObserver observer);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts the I/O threads. Errors: Unavailable when the address cannot be bound.
  absl::Status Start();
  // The bound port (useful with port 0).
  int port() const;
  // Stops accepting, lets in-flight requests finish until `grace` runs out, then closes everything.
  void Stop(absl::Duration grace);

  int64_t open_connections() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace embers::server

#endif  // EMBERS_SERVER_HTTP_SERVER_H_
