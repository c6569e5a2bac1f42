// The not-leader answer as a client reads it: leader id and gRPC address, and nothing from
// answers that are not redirects.
#include "metastore/leader_redirect.h"

#include <gtest/gtest.h>

namespace embers::metastore {
namespace {

TEST(LeaderRedirectTest, AppendsAndParsesTheLeadersGrpcAddress) {
  absl::Status s =
      absl::UnavailableError("not the metastore leader; leader_id=2 leader_address=10.0.0.2:9099");
  EXPECT_TRUE(IsNotLeaderError(s));
  EXPECT_EQ(LeaderIdFromError(s), 2u);
  EXPECT_EQ(LeaderGrpcAddressFromError(s), std::nullopt);

  absl::Status with = WithLeaderGrpcAddress(s, "10.0.0.2:9095");
  EXPECT_EQ(with.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(LeaderGrpcAddressFromError(with), "10.0.0.2:9095");
  EXPECT_EQ(LeaderIdFromError(with), 2u);
  // Unknown endpoint: unchanged.
  EXPECT_EQ(WithLeaderGrpcAddress(s, ""), s);
}

TEST(LeaderRedirectTest, OtherAnswersAreNotRedirects) {
  absl::Status no_leader =
      absl::UnavailableError("not the metastore leader; leader_id=0 leader_address=");
  EXPECT_TRUE(IsNotLeaderError(no_leader));
  EXPECT_EQ(LeaderIdFromError(no_leader), std::nullopt);
  EXPECT_EQ(LeaderGrpcAddressFromError(no_leader), std::nullopt);

  absl::Status other = absl::InvalidArgumentError(
      "not the metastore leader; leader_id=2 leader_grpc_address=10.0.0.2:9095");
  EXPECT_FALSE(IsNotLeaderError(other));
  EXPECT_EQ(LeaderGrpcAddressFromError(other), std::nullopt);
  EXPECT_EQ(WithLeaderGrpcAddress(other, "x:1"), other);
  EXPECT_EQ(LeaderGrpcAddressFromError(absl::UnavailableError("connection refused")), std::nullopt);
}

}  // namespace
}  // namespace embers::metastore
