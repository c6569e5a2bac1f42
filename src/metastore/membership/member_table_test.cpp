#include "metastore/membership/member_table.h"

#include <gtest/gtest.h>

#include "metastore/membership/membership_testing.h"

namespace embers::metastore {
namespace {

using testing::Writer;

v1::UpdateMembersCommand Upsert(std::initializer_list<v1::Member> members) {
  v1::UpdateMembersCommand c;
  for (const v1::Member& m : members) *c.add_upsert() = m;
  return c;
}

TEST(MemberTableTest, NewMembersTakeTheLowestFreeSlotOfTheirKind) {
  MemberTable t;
  ASSERT_TRUE(t.Apply(Upsert({Writer("a"), Writer("b"), Writer("c")}), 1000, 5).ok());
  v1::Member backend = Writer("q");
  backend.set_kind(v1::MEMBER_KIND_QUERY_BACKEND);
  ASSERT_TRUE(t.Apply(Upsert({backend}), 1000, 6).ok());
  EXPECT_EQ(t.Find("a")->slot(), 0u);
  EXPECT_EQ(t.Find("c")->slot(), 2u);
  EXPECT_EQ(t.Find("q")->slot(), 0u);  // slots are per kind

  v1::UpdateMembersCommand remove;
  remove.add_remove("b");
  ASSERT_TRUE(t.Apply(remove, 2000, 7).ok());
  ASSERT_TRUE(t.Apply(Upsert({Writer("d")}), 3000, 8).ok());
  EXPECT_EQ(t.Find("d")->slot(), 1u);  // the hole is filled first
  EXPECT_EQ(t.version(), 8u);
}

TEST(MemberTableTest, ARepeatedRecordChangesNothingAndKeepsTheVersion) {
  MemberTable t;
  int changes = 0;
  t.SetOnChange([&](uint64_t) { changes++; });
  ASSERT_TRUE(t.Apply(Upsert({Writer("a")}), 1000, 5).ok());
  ASSERT_TRUE(t.Apply(Upsert({Writer("a")}), 2000, 9).ok());
  EXPECT_EQ(t.version(), 5u);
  EXPECT_EQ(changes, 1);
  ASSERT_TRUE(t.Apply(Upsert({Writer("a", v1::MEMBER_STATE_LEAVING)}), 3000, 10).ok());
  EXPECT_EQ(t.version(), 10u);
  EXPECT_EQ(t.Find("a")->state(), v1::MEMBER_STATE_LEAVING);
  EXPECT_EQ(t.Find("a")->joined_at_ms(), 1000);
  EXPECT_EQ(t.Find("a")->updated_at_ms(), 3000);
  EXPECT_EQ(changes, 2);
}

TEST(MemberTableTest, InvalidMembersAreRefusedAndChangeNothing) {
  MemberTable t;
  v1::Member bad = Writer("x");
  bad.set_address("no-port");
  EXPECT_EQ(t.Apply(Upsert({Writer("a"), bad}), 1, 1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(t.Find("a").has_value());
  v1::Member no_kind = Writer("y");
  no_kind.set_kind(v1::MEMBER_KIND_UNSPECIFIED);
  EXPECT_FALSE(MemberTable::Validate(no_kind).ok());
  v1::Member long_id = Writer(std::string(300, 'i'));
  EXPECT_FALSE(MemberTable::Validate(long_id).ok());
}

TEST(MemberTableTest, TheTableIsBounded) {
  MemberTable t;
  v1::UpdateMembersCommand c;
  for (size_t i = 0; i < MemberTable::kMaxMembers; i++) *c.add_upsert() = Writer(std::to_string(i));
  ASSERT_TRUE(t.Apply(c, 1, 1).ok());
  EXPECT_EQ(t.Apply(Upsert({Writer("one-more")}), 1, 2).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(t.Apply(Upsert({Writer("7", v1::MEMBER_STATE_LEAVING)}), 1, 3).ok());
}

TEST(MemberTableTest, SnapshotRoundTripKeepsSlotsRulesAndVersion) {
  MemberTable t;
  ASSERT_TRUE(t.Apply(Upsert({Writer("a"), Writer("b")}), 1000, 5).ok());
  v1::PlacementRules rules;
  rules.set_default_dataset_shards(1);
  v1::DatasetPlacement* d = rules.add_datasets();
  d->set_tenant_id("t");
  d->set_dataset("svc");
  d->set_dataset_shards(4);
  ASSERT_TRUE(t.ApplyRules(rules, 6).ok());

  v1::RaftSnapshotHeader header;
  t.AppendTo(&header);
  v1::RaftSnapshotHeader wire;
  ASSERT_TRUE(wire.ParseFromString(header.SerializeAsString()));
  absl::StatusOr<MemberTable::Decoded> decoded = MemberTable::Decode(wire);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  MemberTable restored;
  restored.Install(std::move(*decoded));
  EXPECT_EQ(restored.version(), 6u);
  EXPECT_EQ(restored.Find("b")->slot(), 1u);
  EXPECT_EQ(restored.rules().datasets(0).dataset_shards(), 4u);
  EXPECT_EQ(restored.View().SerializeAsString(), t.View().SerializeAsString());

  *wire.add_members() = wire.members(0);  // a duplicate id is damage
  EXPECT_EQ(MemberTable::Decode(wire).status().code(), absl::StatusCode::kDataLoss);
}

TEST(MemberTableTest, ViewIsSortedByKindAndSlot) {
  MemberTable t;
  v1::Member worker = Writer("w");
  worker.set_kind(v1::MEMBER_KIND_COMPACTION_WORKER);
  ASSERT_TRUE(t.Apply(Upsert({worker, Writer("z"), Writer("a")}), 1, 1).ok());
  v1::ClusterView v = t.View();
  ASSERT_EQ(v.members_size(), 3);
  EXPECT_EQ(v.members(0).id(), "z");  // slot 0: registered first in the command
  EXPECT_EQ(v.members(1).id(), "a");
  EXPECT_EQ(v.members(2).id(), "w");
}

}  // namespace
}  // namespace embers::metastore
