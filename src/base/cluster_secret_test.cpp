#include "base/cluster_secret.h"

#include <map>
#include <string>

#include <gtest/gtest.h>

namespace embers {
namespace {

TEST(ClusterSecret, MatchesOnlyTheSameBytes) {
  EXPECT_TRUE(ClusterSecretMatches("s3cret", "s3cret"));
  EXPECT_FALSE(ClusterSecretMatches("s3cret", "s3creT"));
  EXPECT_FALSE(ClusterSecretMatches("s3cret", "s3cre"));
  EXPECT_FALSE(ClusterSecretMatches("s3cret", "s3cret!"));
  EXPECT_FALSE(ClusterSecretMatches("s3cret", ""));
  EXPECT_FALSE(ClusterSecretMatches("", "x"));
  EXPECT_TRUE(ClusterSecretMatches(std::string("a\0b", 3), std::string("a\0b", 3)));
  EXPECT_FALSE(ClusterSecretMatches(std::string("a\0b", 3), std::string("a\0c", 3)));
}

struct FakeClientContext {
  std::multimap<std::string, std::string> metadata;
  void AddMetadata(const std::string& key, const std::string& value) {
    metadata.emplace(key, value);
  }
};

TEST(ClusterSecret, IsAttachedOnlyWhenSet) {
  FakeClientContext none;
  AttachClusterSecret(&none, "");
  EXPECT_TRUE(none.metadata.empty());
  FakeClientContext set;
  AttachClusterSecret(&set, "s3cret");
  ASSERT_EQ(set.metadata.size(), 1u);
  EXPECT_EQ(set.metadata.begin()->first, kClusterSecretMetadataKey);
  EXPECT_EQ(set.metadata.begin()->second, "s3cret");
}

TEST(ClusterSecret, ARefusedSecretIsThisProcesssMisconfiguration) {
  absl::Status st = InternalCallStatus(absl::StatusCode::kUnauthenticated, "segment-writer a:1",
                                       "internal call with a wrong cluster secret");
  EXPECT_EQ(st.code(), absl::StatusCode::kInternal);
  EXPECT_NE(st.message().find("-server.cluster-secret"), std::string_view::npos) << st;
  EXPECT_NE(st.message().find("segment-writer a:1"), std::string_view::npos) << st;
  absl::Status other = InternalCallStatus(absl::StatusCode::kInvalidArgument, "peer", "bad");
  EXPECT_EQ(other, absl::InvalidArgumentError("peer: bad"));
  EXPECT_TRUE(InternalCallStatus(absl::StatusCode::kOk, "peer", "").ok());
}

}  // namespace
}  // namespace embers
