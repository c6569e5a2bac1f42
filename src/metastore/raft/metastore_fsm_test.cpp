// Tests of MetastoreFsm without any consensus engine: deterministic apply, request-id
// de-duplication, snapshot round trips.
#include "metastore/raft/metastore_fsm.h"

#include <gtest/gtest.h>

#include "metastore/index/test_blocks.h"

namespace embers::metastore::raft {
namespace {

using testing::BlockBuilder;
using testing::DatasetSpec;
using testing::TestId;

constexpr int64_t kT0 = 1700000000000;

v1::BlockMeta Block(uint64_t seq, const std::string& service = "api") {
  return BlockBuilder(TestId(kT0 + static_cast<int64_t>(seq), seq), "t1", 1)
      .Add(DatasetSpec{"t1", service, kT0, kT0 + 1000, {{{"service_name", service}}}})
      .Build();
}

std::string AddCommand(const v1::BlockMeta& block, int64_t time_ms = kT0) {
  v1::RaftCommand c;
  c.set_request_id("add_block/" + block.id());
  c.set_leader_time_ms(time_ms);
  *c.mutable_add_block()->mutable_block() = block;
  return MetastoreFsm::EncodeCommand(c);
}

TEST(MetastoreFsmTest, AppliesAddBlockAndTracksIndex) {
  BlockIndex index;
  MetastoreFsm fsm(&index);
  EXPECT_TRUE(fsm.Apply(1, AddCommand(Block(1))).ok());
  EXPECT_TRUE(fsm.Apply(2, AddCommand(Block(2), kT0 + 5)).ok());
  EXPECT_EQ(index.BlockCount(), 2u);
  EXPECT_EQ(fsm.applied_index(), 2u);
  EXPECT_EQ(fsm.leader_time_ms(), kT0 + 5);
}

TEST(MetastoreFsmTest, MalformedAndEmptyCommandsAreErrorResultsNotStalls) {
  BlockIndex index;
  MetastoreFsm fsm(&index);
  EXPECT_EQ(fsm.Apply(1, "\xff\xff\xff").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(fsm.Apply(2, "").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(fsm.applied_index(), 2u);
}

TEST(MetastoreFsmTest, RetriedRequestIdAnswersRecordedResult) {
  BlockIndex index;
  MetastoreFsm fsm(&index);
  v1::BlockMeta b = Block(1);
  ASSERT_TRUE(fsm.Apply(1, AddCommand(b)).ok());
  // Replace it, then retry the original add: the request id answers OK without resurrecting it.
  v1::ReplaceBlocksRequest replace;
  replace.mutable_tombstones()->set_name("job-1");
  replace.mutable_tombstones()->set_tenant("t1");
  replace.mutable_tombstones()->set_shard(1);
  replace.mutable_tombstones()->add_blocks(b.id());
  v1::RaftCommand rc;
  rc.set_request_id("replace_blocks/job-1");
  *rc.mutable_replace_blocks() = replace;
  ASSERT_TRUE(fsm.Apply(2, MetastoreFsm::EncodeCommand(rc)).ok());
  EXPECT_EQ(index.BlockCount(), 0u);
  EXPECT_TRUE(fsm.Apply(3, AddCommand(b)).ok());
  EXPECT_EQ(index.BlockCount(), 0u);
  EXPECT_TRUE(fsm.Apply(4, MetastoreFsm::EncodeCommand(rc)).ok());
  EXPECT_EQ(fsm.dedup_entries(), 2u);
}

TEST(MetastoreFsmTest, DedupWindowIsBounded) {
  BlockIndex index;
  MetastoreFsm fsm(&index, /*dedup_window=*/3);
  for (uint64_t i = 1; i <= 10; i++) ASSERT_TRUE(fsm.Apply(i, AddCommand(Block(i))).ok());
  EXPECT_EQ(fsm.dedup_entries(), 3u);
  // Outside the window a retry is still harmless: AddBlock is idempotent by id.
  ASSERT_TRUE(fsm.Apply(11, AddCommand(Block(1))).ok());
  EXPECT_EQ(index.BlockCount(), 10u);
}

TEST(MetastoreFsmTest, SnapshotRoundTripRestoresIndexAndDedupState) {
  BlockIndex index;
  MetastoreFsm fsm(&index);
  for (uint64_t i = 1; i <= 20; i++) {
    ASSERT_TRUE(fsm.Apply(i, AddCommand(Block(i, i % 2 ? "api" : "db"))).ok());
  }
  std::string snap = fsm.Snapshot();

  BlockIndex restored_index;
  MetastoreFsm restored(&restored_index);
  ASSERT_TRUE(restored.Restore(snap).ok());
  EXPECT_EQ(restored.applied_index(), 20u);
  EXPECT_EQ(restored.dedup_entries(), 20u);
  EXPECT_EQ(restored_index.EncodeSnapshot(), index.EncodeSnapshot());
  // Same state → same snapshot bytes.
  EXPECT_EQ(restored.Snapshot(), snap);
}

TEST(MetastoreFsmTest, CorruptSnapshotIsRejectedAndStateKept) {
  BlockIndex index;
  MetastoreFsm fsm(&index);
  ASSERT_TRUE(fsm.Apply(1, AddCommand(Block(1))).ok());
  std::string snap = fsm.Snapshot();
  EXPECT_FALSE(fsm.Restore("nope").ok());
  EXPECT_FALSE(fsm.Restore(snap.substr(0, snap.size() - 3)).ok());
  snap[1] = 'X';
  EXPECT_FALSE(fsm.Restore(snap).ok());
  EXPECT_EQ(index.BlockCount(), 1u);
}

v1::RaftCommand AddCommandProto(const v1::BlockMeta& block) {
  v1::RaftCommand c;
  c.ParseFromString(AddCommand(block));
  return c;
}

TEST(MetastoreFsmTest, BatchAppliesEachCommandWithItsOwnResult) {
  BlockIndex index;
  MetastoreFsm fsm(&index);
  ASSERT_TRUE(fsm.Apply(1, AddCommand(Block(1))).ok());

  v1::RaftCommand batch;
  batch.set_leader_time_ms(kT0 + 9);
  *batch.mutable_batch()->add_commands() = AddCommandProto(Block(2));
  v1::RaftCommand nested;
  nested.mutable_batch();
  *batch.mutable_batch()->add_commands() = nested;                     // rejected on its own
  *batch.mutable_batch()->add_commands() = AddCommandProto(Block(1));  // a retry: recorded OK
  *batch.mutable_batch()->add_commands() = AddCommandProto(Block(3));
  absl::Status result = fsm.Apply(2, MetastoreFsm::EncodeCommand(batch));
  EXPECT_EQ(result.code(), absl::StatusCode::kInvalidArgument);

  std::vector<absl::Status> each = MetastoreFsm::BatchResults(result, 4);
  ASSERT_EQ(each.size(), 4u);
  EXPECT_TRUE(each[0].ok()) << each[0];
  EXPECT_EQ(each[1].code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(each[2].ok()) << each[2];
  EXPECT_TRUE(each[3].ok()) << each[3];
  EXPECT_EQ(index.BlockCount(), 3u);
  EXPECT_EQ(fsm.applied_index(), 2u);
  EXPECT_EQ(fsm.leader_time_ms(), kT0 + 9);

  // Each block of the batch is remembered under its own id: retried alone, it is not re-applied.
  EXPECT_TRUE(fsm.Apply(3, AddCommand(Block(3))).ok());
  EXPECT_EQ(index.BlockCount(), 3u);

  // A batch-wide failure (no payload, e.g. not the leader) is every command's result.
  std::vector<absl::Status> all = MetastoreFsm::BatchResults(absl::UnavailableError("x"), 2);
  EXPECT_EQ(all[0].code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(all[1].code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(MetastoreFsm::BatchResults(absl::OkStatus(), 3)[2].ok());
}

TEST(MetastoreFsmTest, NodeEndpointsAreReplicatedStateAndSurviveSnapshots) {
  BlockIndex index;
  MetastoreFsm fsm(&index);
  EXPECT_EQ(fsm.NodeEndpoint(2), "");
  v1::RaftCommand c;
  c.mutable_set_node_endpoint()->set_node_id(2);
  c.mutable_set_node_endpoint()->set_grpc_address("10.0.0.2:9095");
  ASSERT_TRUE(fsm.Apply(1, MetastoreFsm::EncodeCommand(c)).ok());
  c.mutable_set_node_endpoint()->set_grpc_address("10.0.0.2:9096");  // re-announced after a move
  ASSERT_TRUE(fsm.Apply(2, MetastoreFsm::EncodeCommand(c)).ok());
  EXPECT_EQ(fsm.NodeEndpoint(2), "10.0.0.2:9096");

  BlockIndex index2;
  MetastoreFsm restored(&index2);
  ASSERT_TRUE(restored.Restore(fsm.Snapshot()).ok());
  EXPECT_EQ(restored.NodeEndpoint(2), "10.0.0.2:9096");
  EXPECT_EQ(restored.NodeEndpoint(1), "");
}

}  // namespace
}  // namespace embers::metastore::raft
