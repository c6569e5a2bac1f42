#include "server/status_mapping.h"

#include <gtest/gtest.h>

#include "base/status.h"
#include "nlohmann/json.hpp"

namespace embers::server {
namespace {

TEST(StatusMapping, ConnectCodesAndHttpStatuses) {
  EXPECT_EQ(ConnectCodeName(absl::StatusCode::kInvalidArgument), "invalid_argument");
  EXPECT_EQ(HttpStatusFor(absl::InvalidArgumentError("x")), 400);
  EXPECT_EQ(HttpStatusFor(absl::UnauthenticatedError("x")), 401);
  EXPECT_EQ(HttpStatusFor(absl::NotFoundError("x")), 404);
  EXPECT_EQ(HttpStatusFor(absl::ResourceExhaustedError("x")), 429);
  EXPECT_EQ(HttpStatusFor(absl::UnavailableError("x")), 503);
  EXPECT_EQ(HttpStatusFor(absl::UnimplementedError("x")), 501);
}

TEST(StatusMapping, OverridesFromBaseStatus) {
  EXPECT_EQ(HttpStatusFor(PayloadTooLargeError("big")), 413);
  EXPECT_EQ(HttpStatusFor(UnsupportedMediaTypeError("fmt")), 415);
  EXPECT_EQ(HttpStatusFor(UnprocessableError("conv")), 422);
  // Annotating keeps the override.
  EXPECT_EQ(HttpStatusFor(Annotate(PayloadTooLargeError("big"), "profile")), 413);
}

TEST(StatusMapping, ClientSideReverseMapping) {
  for (absl::StatusCode code : {absl::StatusCode::kInvalidArgument, absl::StatusCode::kNotFound,
                                absl::StatusCode::kUnavailable, absl::StatusCode::kUnauthenticated,
                                absl::StatusCode::kDeadlineExceeded, absl::StatusCode::kDataLoss}) {
    EXPECT_EQ(StatusCodeForConnectName(ConnectCodeName(code)), code);
  }
  EXPECT_EQ(StatusCodeForConnectName("no_such_code"), absl::StatusCode::kUnknown);
  EXPECT_EQ(StatusCodeForHttpStatus(200), absl::StatusCode::kOk);
  EXPECT_EQ(StatusCodeForHttpStatus(400), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusCodeForHttpStatus(401), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(StatusCodeForHttpStatus(403), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(StatusCodeForHttpStatus(404), absl::StatusCode::kNotFound);
  EXPECT_EQ(StatusCodeForHttpStatus(413), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(StatusCodeForHttpStatus(415), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusCodeForHttpStatus(429), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(StatusCodeForHttpStatus(500), absl::StatusCode::kInternal);
  EXPECT_EQ(StatusCodeForHttpStatus(502), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusCodeForHttpStatus(503), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusCodeForHttpStatus(504), absl::StatusCode::kDeadlineExceeded);
}

TEST(StatusMapping, GrpcRoundTrip) {
  absl::Status st = absl::FailedPreconditionError("nope");
  grpc::Status g = ToGrpcStatus(st);
  EXPECT_EQ(g.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(FromGrpcStatus(g), st);
}

TEST(StatusMapping, ConnectErrorBody) {
  HttpResponse r = ErrorResponse(absl::InvalidArgumentError("bad \"selector\""), true);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.content_type, "application/json");
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["code"], "invalid_argument");
  EXPECT_EQ(j["message"], "bad \"selector\"");
}

}  // namespace
}  // namespace embers::server
