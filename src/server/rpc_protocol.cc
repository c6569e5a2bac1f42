#include "server/rpc_protocol.h"

#include <cstdint>

#include "absl/strings/escaping.h"
#include "base/compression.h"
#include "base/status.h"
#include "base/strings.h"
#include "nlohmann/json.hpp"
#include "server/status_mapping.h"

namespace embers::server {
namespace {

constexpr uint8_t kFlagCompressed = 0x01;
constexpr uint8_t kFlagConnectEndStream = 0x02;
constexpr uint8_t kFlagGrpcWebTrailers = 0x80;
constexpr size_t kEnvelopePrefixBytes = 5;

std::string_view MediaType(std::string_view content_type) {
  return StripWhitespace(content_type.substr(0, content_type.find(';')));
}

// "application/grpc+json" → kJson; no suffix or "+proto" → kProto; anything else: nullopt.
std::optional<RpcCodec> CodecSuffix(std::string_view suffix) {
  if (suffix.empty() || EqualsIgnoreCase(suffix, "+proto")) return RpcCodec::kProto;
  if (EqualsIgnoreCase(suffix, "+json")) return RpcCodec::kJson;
  return std::nullopt;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

// grpc-message is percent-encoded: every byte outside printable ASCII, and '%' itself.
std::string PercentEncodeGrpcMessage(std::string_view message) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(message.size());
  for (unsigned char c : message) {
    if (c >= 0x20 && c <= 0x7e && c != '%') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

std::string_view MessageEncodingHeader(const RpcProtocol& protocol) {
  return protocol.wire == RpcWire::kConnectStream ? "connect-content-encoding" : "grpc-encoding";
}

absl::StatusOr<std::string> Decompress(std::string_view encoding, std::string_view data,
                                       size_t max_bytes) {
  if (EqualsIgnoreCase(encoding, "gzip")) return GunzipBounded(data, max_bytes);
  if (EqualsIgnoreCase(encoding, "zstd")) return ZstdDecompressBounded(data, max_bytes);
  return absl::UnimplementedError(
      StrCat("unsupported message encoding \"", encoding, "\" (gzip, zstd, identity)"));
}

// gRPC's TimeoutValue TimeoutUnit: at most 8 digits and one of H M S m u n.
absl::StatusOr<absl::Duration> ParseGrpcTimeout(std::string_view value) {
  if (value.size() < 2 || value.size() > 9) {
    return absl::InvalidArgumentError(StrCat("invalid grpc-timeout header \"", value, "\""));
  }
  int64_t amount = 0;
  if (!ParseInt64(value.substr(0, value.size() - 1), &amount) || amount < 0) {
    return absl::InvalidArgumentError(StrCat("invalid grpc-timeout header \"", value, "\""));
  }
  switch (value.back()) {
    case 'H':
      return absl::Hours(amount);
    case 'M':
      return absl::Minutes(amount);
    case 'S':
      return absl::Seconds(amount);
    case 'm':
      return absl::Milliseconds(amount);
    case 'u':
      return absl::Microseconds(amount);
    case 'n':
      return absl::Nanoseconds(amount);
    default:
      return absl::InvalidArgumentError(StrCat("invalid grpc-timeout unit in \"", value, "\""));
  }
}

std::string_view ResponseContentType(const RpcProtocol& protocol) {
  const bool json = protocol.codec == RpcCodec::kJson;
  switch (protocol.wire) {
    case RpcWire::kConnectUnary:
      return json ? "application/json" : "application/proto";
    case RpcWire::kConnectStream:
      return json ? "application/connect+json" : "application/connect+proto";
    case RpcWire::kGrpc:
      return json ? "application/grpc+json" : "application/grpc+proto";
    case RpcWire::kGrpcWeb:
      return json ? "application/grpc-web+json" : "application/grpc-web+proto";
    case RpcWire::kGrpcWebText:
      return "application/grpc-web-text+proto";
  }
  return "application/proto";
}

// gRPC-Web carries trailers as an HTTP/1-style header block in a body frame flagged 0x80.
std::string GrpcWebTrailerFrame(const absl::Status& status) {
  std::string block = StrCat("grpc-status: ", static_cast<int>(status.code()), "\r\n");
  if (!status.ok()) {
    block +=
        StrCat("grpc-message: ", PercentEncodeGrpcMessage(std::string(status.message())), "\r\n");
  }
  return RpcEnvelope(kFlagGrpcWebTrailers, block);
}

}  // namespace

std::string_view RpcProtocol::TransportName() const {
  switch (wire) {
    case RpcWire::kConnectUnary:
    case RpcWire::kConnectStream:
      return "connect";
    case RpcWire::kGrpc:
      return "grpc";
    case RpcWire::kGrpcWeb:
    case RpcWire::kGrpcWebText:
      return "grpc-web";
  }
  return "connect";
}

std::optional<RpcProtocol> RpcProtocolFor(std::string_view content_type) {
  const std::string_view media = MediaType(content_type);
  if (EqualsIgnoreCase(media, "application/proto") ||
      EqualsIgnoreCase(media, "application/protobuf") ||
      EqualsIgnoreCase(media, "application/x-protobuf")) {
    return RpcProtocol{RpcWire::kConnectUnary, RpcCodec::kProto};
  }
  if (EqualsIgnoreCase(media, "application/json")) {
    return RpcProtocol{RpcWire::kConnectUnary, RpcCodec::kJson};
  }
  // Longest prefixes first: "application/grpc" is a prefix of the gRPC-Web types.
  struct Family {
    std::string_view prefix;
    RpcWire wire;
  };
  static constexpr Family kFamilies[] = {
      {"application/grpc-web-text", RpcWire::kGrpcWebText},
      {"application/grpc-web", RpcWire::kGrpcWeb},
      {"application/grpc", RpcWire::kGrpc},
      {"application/connect", RpcWire::kConnectStream},
  };
  for (const Family& family : kFamilies) {
    if (!StartsWithIgnoreCase(media, family.prefix)) continue;
    std::optional<RpcCodec> codec = CodecSuffix(media.substr(family.prefix.size()));
    // Connect streaming always names its codec; gRPC-Web text is proto only.
    if (!codec ||
        (family.wire == RpcWire::kConnectStream && media.size() == family.prefix.size()) ||
        (family.wire == RpcWire::kGrpcWebText && *codec != RpcCodec::kProto)) {
      return std::nullopt;
    }
    return RpcProtocol{family.wire, *codec};
  }
  return std::nullopt;
}

bool IsGrpcContentType(std::string_view content_type) {
  return StartsWithIgnoreCase(MediaType(content_type), "application/grpc");
}

std::string RpcEnvelope(uint8_t flags, std::string_view payload) {
  std::string out;
  out.reserve(kEnvelopePrefixBytes + payload.size());
  const auto size = static_cast<uint32_t>(payload.size());
  out.push_back(static_cast<char>(flags));
  out.push_back(static_cast<char>(size >> 24));
  out.push_back(static_cast<char>(size >> 16));
  out.push_back(static_cast<char>(size >> 8));
  out.push_back(static_cast<char>(size));
  out.append(payload);
  return out;
}

absl::StatusOr<std::string> RpcRequestMessage(const RpcProtocol& protocol,
                                              const HttpRequest& request,
                                              size_t max_message_bytes) {
  if (!protocol.Enveloped()) return request.body;
  std::string decoded;
  std::string_view body = request.body;
  if (protocol.wire == RpcWire::kGrpcWebText) {
    if (!absl::Base64Unescape(absl::string_view(body.data(), body.size()), &decoded)) {
      return absl::InvalidArgumentError("invalid gRPC-Web text request: body is not base64");
    }
    body = decoded;
  }
  if (body.size() < kEnvelopePrefixBytes) {
    return absl::InvalidArgumentError(StrCat("invalid ", protocol.TransportName(),
                                             " request: expected one length-prefixed "
                                             "message, got ",
                                             body.size(), " bytes"));
  }
  const auto flags = static_cast<uint8_t>(body[0]);
  const uint32_t length = (static_cast<uint32_t>(static_cast<uint8_t>(body[1])) << 24) |
                          (static_cast<uint32_t>(static_cast<uint8_t>(body[2])) << 16) |
                          (static_cast<uint32_t>(static_cast<uint8_t>(body[3])) << 8) |
                          static_cast<uint32_t>(static_cast<uint8_t>(body[4]));
  if (body.size() - kEnvelopePrefixBytes != length) {
    return absl::InvalidArgumentError(StrCat("invalid ", protocol.TransportName(),
                                             " request: the message prefix says ", length,
                                             " bytes but ", body.size() - kEnvelopePrefixBytes,
                                             " follow (a unary method takes exactly one message)"));
  }
  if ((flags & ~kFlagCompressed) != 0) {
    return absl::InvalidArgumentError(StrCat("invalid ", protocol.TransportName(),
                                             " request: unexpected message flags ",
                                             static_cast<int>(flags)));
  }
  std::string_view message = body.substr(kEnvelopePrefixBytes);
  if ((flags & kFlagCompressed) == 0) {
    if (message.size() > max_message_bytes) {
      return PayloadTooLargeError(StrCat("request message of ", message.size(),
                                         " bytes exceeds the limit of ", max_message_bytes));
    }
    return std::string(message);
  }
  std::string_view encoding = request.Header(MessageEncodingHeader(protocol));
  if (encoding.empty() || EqualsIgnoreCase(encoding, "identity")) {
    return absl::InvalidArgumentError(StrCat("invalid ", protocol.TransportName(),
                                             " request: the message is flagged compressed "
                                             "but ",
                                             MessageEncodingHeader(protocol),
                                             " names no encoding"));
  }
  absl::StatusOr<std::string> inflated = Decompress(encoding, message, max_message_bytes);
  if (!inflated.ok()) return Annotate(inflated.status(), "request message");
  return inflated;
}

absl::StatusOr<std::optional<absl::Time>> RpcDeadline(const RpcProtocol& protocol,
                                                      const HttpRequest& request) {
  if (protocol.wire == RpcWire::kConnectUnary || protocol.wire == RpcWire::kConnectStream) {
    std::string_view t = request.Header("connect-timeout-ms");
    if (t.empty()) return std::nullopt;
    int64_t ms = 0;
    if (!ParseInt64(t, &ms) || ms < 0 || t.size() > 10) {
      return absl::InvalidArgumentError(StrCat("invalid Connect-Timeout-Ms header \"", t, "\""));
    }
    return absl::Now() + absl::Milliseconds(ms);
  }
  std::string_view t = request.Header("grpc-timeout");
  if (t.empty()) return std::nullopt;
  absl::StatusOr<absl::Duration> timeout = ParseGrpcTimeout(t);
  if (!timeout.ok()) return timeout.status();
  return absl::Now() + *timeout;
}

HttpResponse RpcSuccessResponse(const RpcProtocol& protocol, std::string message) {
  HttpResponse out;
  out.content_type = std::string(ResponseContentType(protocol));
  switch (protocol.wire) {
    case RpcWire::kConnectUnary:
      out.body = std::move(message);
      break;
    case RpcWire::kConnectStream:
      out.body = RpcEnvelope(0, message);
      out.body += RpcEnvelope(kFlagConnectEndStream, "{}");
      break;
    case RpcWire::kGrpc:
      out.body = RpcEnvelope(0, message);
      out.trailers.emplace_back("grpc-status", "0");
      break;
    case RpcWire::kGrpcWeb:
    case RpcWire::kGrpcWebText:
      out.body = RpcEnvelope(0, message);
      out.body += GrpcWebTrailerFrame(absl::OkStatus());
      if (protocol.wire == RpcWire::kGrpcWebText)
        out.body = absl::Base64Escape(absl::string_view(out.body.data(), out.body.size()));
      break;
  }
  return out;
}

HttpResponse RpcErrorResponse(const RpcProtocol& protocol, const absl::Status& status) {
  switch (protocol.wire) {
    case RpcWire::kConnectUnary:
      return ErrorResponse(status, /*connect_format=*/true);
    case RpcWire::kConnectStream: {
      // Streaming errors travel in the end-of-stream message; the HTTP status stays 200.
      nlohmann::json end;
      end["error"]["code"] = std::string(ConnectCodeName(status.code()));
      end["error"]["message"] = std::string(status.message());
      HttpResponse out;
      out.content_type = std::string(ResponseContentType(protocol));
      out.body = RpcEnvelope(kFlagConnectEndStream,
                             end.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      return out;
    }
    case RpcWire::kGrpc:
    case RpcWire::kGrpcWeb:
    case RpcWire::kGrpcWebText: {
      // Trailers-only: the status rides in the response headers and the body is empty.
      HttpResponse out;
      out.content_type = std::string(ResponseContentType(protocol));
      out.headers.emplace_back("grpc-status", std::to_string(static_cast<int>(status.code())));
      out.headers.emplace_back("grpc-message",
                               PercentEncodeGrpcMessage(std::string(status.message())));
      return out;
    }
  }
  return ErrorResponse(status, true);
}

}  // namespace embers::server
