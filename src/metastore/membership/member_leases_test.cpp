#include "metastore/membership/member_leases.h"

#include <gtest/gtest.h>

#include "metastore/membership/membership_testing.h"

namespace embers::metastore {
namespace {

using testing::Writer;

TEST(MemberLeasesTest, OnlyAChangedRecordIsReplicated) {
  MemberLeases leases;
  EXPECT_TRUE(leases.OnHeartbeat(Writer("a"), std::nullopt, 0).has_value());
  v1::Member stored = Writer("a");
  stored.set_slot(3);
  EXPECT_FALSE(leases.OnHeartbeat(Writer("a"), stored, 1000).has_value());
  std::optional<v1::Member> leaving =
      leases.OnHeartbeat(Writer("a", v1::MEMBER_STATE_LEAVING), stored, 2000);
  ASSERT_TRUE(leaving.has_value());
  EXPECT_EQ(leaving->state(), v1::MEMBER_STATE_LEAVING);
  stored.set_state(v1::MEMBER_STATE_UNHEALTHY);
  EXPECT_TRUE(leases.OnHeartbeat(Writer("a"), stored, 3000).has_value());  // back from expiry
}

TEST(MemberLeasesTest, ExpiredMembersBecomeUnhealthyThenAreForgotten) {
  MemberLeases leases({.lease = absl::Seconds(5), .forget_after = absl::Minutes(1)});
  v1::ClusterView view;
  *view.add_members() = Writer("a");
  *view.add_members() = Writer("b");
  leases.OnHeartbeat(Writer("a"), view.members(0), 0);
  leases.OnHeartbeat(Writer("b"), view.members(1), 0);
  leases.OnHeartbeat(Writer("b"), view.members(1), 4000);
  EXPECT_EQ(leases.Expire(view, 4999).upsert_size(), 0);
  v1::UpdateMembersCommand c = leases.Expire(view, 5000);
  ASSERT_EQ(c.upsert_size(), 1);
  EXPECT_EQ(c.upsert(0).id(), "a");
  EXPECT_EQ(c.upsert(0).state(), v1::MEMBER_STATE_UNHEALTHY);

  view.mutable_members(0)->set_state(v1::MEMBER_STATE_UNHEALTHY);
  view.mutable_members(0)->set_updated_at_ms(5000);
  leases.OnHeartbeat(Writer("b"), view.members(1), 61000);
  EXPECT_EQ(leases.Expire(view, 64999).remove_size(), 0);
  c = leases.Expire(view, 65000);
  ASSERT_EQ(c.remove_size(), 1);
  EXPECT_EQ(c.remove(0), "a");
  EXPECT_EQ(c.upsert_size(), 0);
}

TEST(MemberLeasesTest, ANewLeaderGivesEveryMemberAFullLease) {
  MemberLeases leases({.lease = absl::Seconds(5)});
  v1::ClusterView view;
  *view.add_members() = Writer("a");
  leases.Reset(view, 100000);
  EXPECT_EQ(leases.Expire(view, 104000).upsert_size(), 0);
  EXPECT_EQ(leases.Expire(view, 105000).upsert_size(), 1);
  EXPECT_EQ(leases.AgeMs("a", 105000), 5000);
  EXPECT_EQ(leases.AgeMs("nobody", 105000), -1);
}

TEST(MemberLeasesTest, EntriesOfIdsNotInTheTableAreDropped) {
  MemberLeases leases({.lease = absl::Seconds(5)});
  leases.OnHeartbeat(Writer("ghost"), std::nullopt, 0);  // its proposal never applied
  v1::ClusterView empty;
  leases.Expire(empty, 5000);
  EXPECT_EQ(leases.AgeMs("ghost", 5000), -1);
}

}  // namespace
}  // namespace embers::metastore
