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
