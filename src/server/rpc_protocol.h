// The wire protocols a unary RPC can arrive in on the HTTP port, and the translation between each
// and one request message / one response message or error.
//
// Pyroscope serves Connect, gRPC and gRPC-Web on its HTTP port, told apart by Content-Type:
//   application/proto | application/json                Connect unary (the body is the message)
//   application/connect+proto | application/connect+json  Connect streaming (enveloped messages,
//                                                         an end-of-stream message carries errors)
//   application/grpc[+proto|+json]                        gRPC (HTTP/2 only; status in trailers)
//   application/grpc-web[+proto|+json]                    gRPC-Web (trailers in the body)
//   application/grpc-web-text[+proto]                     gRPC-Web, base64 on the wire
// Every method we serve on this port is unary, so an enveloped request must hold exactly one
// message and the response holds one (Connect and gRPC clients call unary methods this way when
// they use a streaming transport).
//
// Used by rpc_adapters.cc for every RPC route and by the HTTP server for the errors it answers
// itself (unknown method, body too large), so a gRPC client sees gRPC status codes, not HTML.
#ifndef EMBERS_SERVER_RPC_PROTOCOL_H_
#define EMBERS_SERVER_RPC_PROTOCOL_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/http_message.h"

namespace embers::server {

enum class RpcWire { kConnectUnary, kConnectStream, kGrpc, kGrpcWeb, kGrpcWebText };
enum class RpcCodec { kProto, kJson };

struct RpcProtocol {
  RpcWire wire = RpcWire::kConnectUnary;
  RpcCodec codec = RpcCodec::kProto;

  // "connect", "grpc" or "grpc-web": the transport label of the RPC metrics.
  std::string_view TransportName() const;
  // Whether the request is length-prefixed (everything but Connect unary).
  bool Enveloped() const { return wire != RpcWire::kConnectUnary; }
};

// The protocol a Content-Type names; nullopt when it names none of them.
std::optional<RpcProtocol> RpcProtocolFor(std::string_view content_type);

// Whether the Content-Type is one of the gRPC family (gRPC or gRPC-Web): errors the server answers
// before a method runs are rendered with RpcErrorResponse for these.
bool IsGrpcContentType(std::string_view content_type);

// The single request message of a call. Unwraps the envelope (and base64 for gRPC-Web text) and
// decompresses a compressed message per grpc-encoding / connect-content-encoding (gzip, zstd),
// never producing more than `max_message_bytes`. Errors: InvalidArgument for a malformed envelope
// or not exactly one message, Unimplemented for an unknown message encoding, ResourceExhausted
// (413) when the message is too large.
absl::StatusOr<std::string> RpcRequestMessage(const RpcProtocol& protocol,
                                              const HttpRequest& request, size_t max_message_bytes);

// The caller's deadline from Connect-Timeout-Ms or grpc-timeout, if it set one. Errors:
// InvalidArgument for a malformed value.
absl::StatusOr<std::optional<absl::Time>> RpcDeadline(const RpcProtocol& protocol,
                                                      const HttpRequest& request);

// A successful answer carrying `message` (serialized in the protocol's codec).
HttpResponse RpcSuccessResponse(const RpcProtocol& protocol, std::string message);
// An error answer: Connect error JSON with its HTTP status, a Connect end-of-stream message, or
// a gRPC / gRPC-Web trailers-only response (HTTP 200 with grpc-status and grpc-message).
HttpResponse RpcErrorResponse(const RpcProtocol& protocol, const absl::Status& status);

// Frames `payload` with the 5-byte envelope prefix (flags, big-endian length).
std::string RpcEnvelope(uint8_t flags, std::string_view payload);

}  // namespace embers::server

#endif  // EMBERS_SERVER_RPC_PROTOCOL_H_
