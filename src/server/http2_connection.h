// Http2Connection: one HTTP/2 connection on the HTTP port (cleartext h2c, or h2 over TLS),
// framed by nghttp2.
//
// The HttpServer hands a connection over when its first bytes are the HTTP/2 client preface
// (prior knowledge, as gRPC clients connect, or after ALPN chose h2 on a TLS connection) or after
// answering an HTTP/1.1 `Upgrade: h2c` request with 101. From then on everything runs on the
// connection's strand with callbacks, not a thread per stream: reads feed nghttp2, which collects
// each stream's headers and body; a complete request goes to the server's dispatch function like an
// HTTP/1.1 request, and its answer (arriving later from any thread) is posted back to the strand,
// submitted to nghttp2 and written out. nghttp2 does the flow control, HPACK and the protocol
// checks; this class bounds what it keeps: concurrent streams (SETTINGS_MAX_CONCURRENT_STREAMS),
// header bytes and body bytes per stream, and closes connections that are idle or do not read their
// responses.
//
// Used by src/server/http_server.cc only.
#ifndef EMBERS_SERVER_HTTP2_CONNECTION_H_
#define EMBERS_SERVER_HTTP2_CONNECTION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "absl/time/time.h"
#include "server/http_message.h"
#include "server/tls_stream.h"

namespace embers::server {

struct Http2Options {
  uint32_t max_concurrent_streams = 256;
  int64_t max_request_body_bytes = 256ll << 20;
  uint32_t max_header_bytes = 64 * 1024;
  absl::Duration idle_timeout = absl::Seconds(120);
  absl::Duration write_timeout = absl::Seconds(30);
};

// Serves one complete request; `send` may be called from any thread, exactly once.
using Http2Dispatch =
    std::function<void(std::shared_ptr<HttpRequest> request, HttpResponder::SendFn send)>;

// The HTTP/1.1 request that asked for `Upgrade: h2c`: it becomes stream 1.
struct Http2Upgrade {
  std::shared_ptr<HttpRequest> request;
  std::string settings_payload;  // HTTP2-Settings, base64url-decoded
};

// Starts serving `socket` (whose executor must be a strand). `received` holds bytes already read
// from it (the preface, or whatever followed the upgrade request). `on_close` runs once, on the
// strand, when the connection is gone.
void StartHttp2Connection(boost::asio::ip::tcp::socket socket, std::string received,
                          std::optional<Http2Upgrade> upgrade, const Http2Options& options,
                          Http2Dispatch dispatch, std::function<void()> on_close);
// The same on a TLS connection whose handshake is done (`received`: bytes already decrypted).
void StartHttp2Connection(TlsStream stream, std::string received, const Http2Options& options,
                          Http2Dispatch dispatch, std::function<void()> on_close);

// The 24-byte client preface ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").
std::string_view Http2ClientPreface();

}  // namespace embers::server

#endif  // EMBERS_SERVER_HTTP2_CONNECTION_H_
