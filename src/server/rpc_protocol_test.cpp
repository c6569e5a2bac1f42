#include "server/rpc_protocol.h"

#include <gtest/gtest.h>

#include "absl/status/status.h"

namespace embers::server {
namespace {

HttpRequest Body(std::string body) {
  HttpRequest r;
  r.body = std::move(body);
  return r;
}

TEST(RpcProtocolTest, ContentTypesNameTheirProtocol) {
  struct Case {
    const char* content_type;
    RpcWire wire;
    RpcCodec codec;
  } cases[] = {
      {"application/proto", RpcWire::kConnectUnary, RpcCodec::kProto},
      {"application/json; charset=utf-8", RpcWire::kConnectUnary, RpcCodec::kJson},
      {"application/connect+proto", RpcWire::kConnectStream, RpcCodec::kProto},
      {"application/connect+json", RpcWire::kConnectStream, RpcCodec::kJson},
      {"application/grpc", RpcWire::kGrpc, RpcCodec::kProto},
      {"Application/GRPC+proto", RpcWire::kGrpc, RpcCodec::kProto},
      {"application/grpc+json", RpcWire::kGrpc, RpcCodec::kJson},
      {"application/grpc-web+proto", RpcWire::kGrpcWeb, RpcCodec::kProto},
      {"application/grpc-web-text", RpcWire::kGrpcWebText, RpcCodec::kProto},
  };
  for (const Case& c : cases) {
    std::optional<RpcProtocol> p = RpcProtocolFor(c.content_type);
    ASSERT_TRUE(p.has_value()) << c.content_type;
    EXPECT_EQ(p->wire, c.wire) << c.content_type;
    EXPECT_EQ(p->codec, c.codec) << c.content_type;
  }
  for (const char* bad : {"", "text/plain", "application/connect", "application/grpc+xml",
                          "application/grpc-web-text+json", "application/grpcx"}) {
    EXPECT_FALSE(RpcProtocolFor(bad).has_value()) << bad;
  }
  EXPECT_TRUE(IsGrpcContentType("application/grpc-web"));
  EXPECT_FALSE(IsGrpcContentType("application/proto"));
}

TEST(RpcProtocolTest, UnwrapsExactlyOneMessage) {
  const RpcProtocol grpc{RpcWire::kGrpc, RpcCodec::kProto};
  auto one = RpcRequestMessage(grpc, Body(RpcEnvelope(0, "abc")), 100);
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(*one, "abc");
  // Two messages, a short prefix, a length past the end, unknown flags: all InvalidArgument.
  for (const std::string& bad : {RpcEnvelope(0, "a") + RpcEnvelope(0, "b"), std::string("\0\0", 2),
                                 RpcEnvelope(0, "abc").substr(0, 6), RpcEnvelope(4, "x")}) {
    EXPECT_EQ(RpcRequestMessage(grpc, Body(bad), 100).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  // Over the limit: 413-style ResourceExhausted.
  EXPECT_EQ(
      RpcRequestMessage(grpc, Body(RpcEnvelope(0, std::string(101, 'x'))), 100).status().code(),
      absl::StatusCode::kResourceExhausted);
  // A compressed flag needs an encoding header; an unknown one is Unimplemented.
  HttpRequest compressed = Body(RpcEnvelope(1, "zz"));
  EXPECT_EQ(RpcRequestMessage(grpc, compressed, 100).status().code(),
            absl::StatusCode::kInvalidArgument);
  compressed.headers["grpc-encoding"] = "snappy";
  EXPECT_EQ(RpcRequestMessage(grpc, compressed, 100).status().code(),
            absl::StatusCode::kUnimplemented);
  // gRPC-Web text is base64 of the same framing.
  const RpcProtocol text{RpcWire::kGrpcWebText, RpcCodec::kProto};
  auto decoded = RpcRequestMessage(text, Body("AAAAAAJoaQ=="), 100);  // envelope of "hi"
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, "hi");
}

TEST(RpcProtocolTest, DeadlinesFromEitherHeader) {
  const RpcProtocol grpc{RpcWire::kGrpc, RpcCodec::kProto};
  HttpRequest r;
  r.headers["grpc-timeout"] = "1500m";
  const absl::Time before = absl::Now();
  auto d = RpcDeadline(grpc, r);
  ASSERT_TRUE(d.ok() && d->has_value());
  EXPECT_GE(**d - before, absl::Milliseconds(1500));
  EXPECT_LT(**d - before, absl::Seconds(60));
  for (const char* bad : {"10", "1x", "123456789S", "-1S"}) {
    r.headers["grpc-timeout"] = bad;
    EXPECT_EQ(RpcDeadline(grpc, r).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  const RpcProtocol connect{RpcWire::kConnectStream, RpcCodec::kJson};
  EXPECT_FALSE(RpcDeadline(connect, HttpRequest{})->has_value());
}

TEST(RpcProtocolTest, ResponsesCarryTheStatusWhereEachProtocolExpectsIt) {
  const absl::Status bad = absl::InvalidArgumentError("bad 100%");
  HttpResponse grpc = RpcErrorResponse({RpcWire::kGrpc, RpcCodec::kProto}, bad);
  EXPECT_EQ(grpc.status, 200);
  EXPECT_TRUE(grpc.body.empty());
  ASSERT_EQ(grpc.headers.size(), 2u);
  EXPECT_EQ(grpc.headers[0].second, "3");
  EXPECT_EQ(grpc.headers[1].second, "bad 100%25");

  HttpResponse ok = RpcSuccessResponse({RpcWire::kGrpc, RpcCodec::kProto}, "m");
  EXPECT_EQ(ok.body, RpcEnvelope(0, "m"));
  ASSERT_EQ(ok.trailers.size(), 1u);
  EXPECT_EQ(ok.trailers[0].second, "0");

  HttpResponse web = RpcSuccessResponse({RpcWire::kGrpcWeb, RpcCodec::kProto}, "m");
  EXPECT_EQ(web.body, RpcEnvelope(0, "m") + RpcEnvelope(0x80, "grpc-status: 0\r\n"));

  HttpResponse stream = RpcErrorResponse({RpcWire::kConnectStream, RpcCodec::kJson}, bad);
  EXPECT_EQ(stream.status, 200);
  EXPECT_EQ(stream.body,
            RpcEnvelope(2, R"({"error":{"code":"invalid_argument","message":"bad 100%"}})"));

  HttpResponse unary = RpcErrorResponse({RpcWire::kConnectUnary, RpcCodec::kProto}, bad);
  EXPECT_EQ(unary.status, 400);
}

}  // namespace
}  // namespace embers::server
