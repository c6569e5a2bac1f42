// Tests of the engine-independent helpers: bootstrap peer parsing and the not-leader error.
#include <gtest/gtest.h>

#include "metastore/raft/consensus.h"
#include "metastore/raft/raft_consensus.h"

namespace embers::metastore::raft {
namespace {

TEST(RaftPeersTest, ParsesList) {
  absl::StatusOr<std::vector<RaftPeer>> peers =
      ParseRaftPeers(" 1=10.0.0.1:9099, 2=10.0.0.2:9099,3=10.0.0.3:9099");
  ASSERT_TRUE(peers.ok()) << peers.status();
  ASSERT_EQ(peers->size(), 3u);
  EXPECT_EQ((*peers)[1].id, 2u);
  EXPECT_EQ((*peers)[1].address, "10.0.0.2:9099");
  EXPECT_TRUE(ParseRaftPeers("")->empty());
}

TEST(RaftPeersTest, RejectsMalformedAndDuplicates) {
  for (const char* bad :
       {"1", "x=1.2.3.4:1", "0=1.2.3.4:1", "1=1.2.3.4", "1=a:1,1=b:1", "1=a:1,2=a:1"}) {
    EXPECT_EQ(ParseRaftPeers(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(NotLeaderErrorTest, CarriesTheLeaderAddress) {
  absl::Status s = NotLeaderError(2, "127.0.0.1:9100");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(LeaderAddressFromError(s), "127.0.0.1:9100");
  // Still found when a transport wraps the message.
  absl::Status wrapped = absl::UnavailableError(std::string("metastore: ") +
                                                std::string(s.message()) + " (attempt 1)");
  EXPECT_EQ(LeaderAddressFromError(wrapped), "127.0.0.1:9100");
  EXPECT_EQ(LeaderAddressFromError(NotLeaderError(0, "")), std::nullopt);
  EXPECT_EQ(LeaderAddressFromError(absl::UnavailableError("down")), std::nullopt);
}

}  // namespace
}  // namespace embers::metastore::raft
