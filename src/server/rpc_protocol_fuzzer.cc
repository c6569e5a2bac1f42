// libFuzzer entry point for the RPC wire translation of the HTTP port (rpc_protocol.h): every
// Connect-streaming, gRPC and gRPC-Web request body and its grpc-timeout / encoding headers come
// from the network. The input's first byte picks the protocol and the compression header, the
// rest is the body. Checked: nothing crashes, an unwrapped message never exceeds the limit, and
// a message wrapped by RpcEnvelope unwraps to itself (the prefix is read as it is written).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "server/rpc_protocol.h"

namespace {

constexpr size_t kLimit = 1 << 20;
constexpr const char* kContentTypes[] = {"application/connect+proto", "application/connect+json",
                                         "application/grpc",          "application/grpc+json",
                                         "application/grpc-web",      "application/grpc-web-text"};
constexpr const char* kEncodings[] = {"", "identity", "gzip", "zstd"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  const std::string_view content_type = kContentTypes[selector % 6];
  std::optional<embers::server::RpcProtocol> protocol =
      embers::server::RpcProtocolFor(content_type);
  if (!protocol) std::abort();
  embers::server::HttpRequest request;
  request.body.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  const char* encoding = kEncodings[(selector / 6) % 4];
  if (*encoding != '\0') {
    request.headers["grpc-encoding"] = encoding;
    request.headers["connect-content-encoding"] = encoding;
  }
  // The body's leading bytes double as timeout headers (most are malformed, which must not crash).
  request.headers["grpc-timeout"] = request.body.substr(0, selector % 11);
  request.headers["connect-timeout-ms"] = request.body.substr(0, selector % 13);
  (void)embers::server::RpcDeadline(*protocol, request);
  absl::StatusOr<std::string> message =
      embers::server::RpcRequestMessage(*protocol, request, kLimit);
  if (message.ok() && message->size() > kLimit) std::abort();
  (void)embers::server::RpcErrorResponse(*protocol, message.status());

  if (protocol->wire != embers::server::RpcWire::kGrpcWebText) {
    embers::server::HttpRequest wrapped;
    wrapped.body = embers::server::RpcEnvelope(0, request.body);
    absl::StatusOr<std::string> round = RpcRequestMessage(*protocol, wrapped, kLimit);
    if (request.body.size() <= kLimit && (!round.ok() || *round != request.body)) std::abort();
  }
  return 0;
}
