// Tests of MetastoreFsm without any consensus engine: deterministic apply, request-id
// de-duplication, snapshot round trips.
#include "metastore/raft/metastore_fsm.h"

#include <gtest/gtest.h>

#include "base/varint.h"
#include "metastore/raft/fsm_snapshot_format.h"

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

// What the consensus engine does: capture on the apply thread, serialise later.
std::string Snapshot(MetastoreFsm& fsm) {
  std::unique_ptr<StateCapture> capture = fsm.Capture();
  absl::StatusOr<std::string> bytes = capture->Serialize();
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : std::string();
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
  std::string snap = Snapshot(fsm);

  BlockIndex restored_index;
  MetastoreFsm restored(&restored_index);
  ASSERT_TRUE(restored.Restore(snap).ok());
  EXPECT_EQ(restored.applied_index(), 20u);
  EXPECT_EQ(restored.dedup_entries(), 20u);
  EXPECT_EQ(restored_index.EncodeSnapshot(), index.EncodeSnapshot());
  // Same state → same snapshot bytes.
  EXPECT_EQ(Snapshot(restored), snap);
}

TEST(MetastoreFsmTest, CorruptSnapshotIsRejectedAndStateKept) {
  BlockIndex index;
  MetastoreFsm fsm(&index);
  ASSERT_TRUE(fsm.Apply(1, AddCommand(Block(1))).ok());
  std::string snap = Snapshot(fsm);
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
  ASSERT_TRUE(restored.Restore(Snapshot(fsm)).ok());
  EXPECT_EQ(restored.NodeEndpoint(2), "10.0.0.2:9096");
  EXPECT_EQ(restored.NodeEndpoint(1), "");
}

TEST(MetastoreFsmTest, TenantSettingsAreReplicatedStateAndSurviveSnapshots) {
  BlockIndex index;
  MetastoreFsm fsm(&index);
  v1::RaftCommand c;
  c.set_leader_time_ms(1000);
  c.mutable_set_tenant_setting()->set_tenant_id("t");
  c.mutable_set_tenant_setting()->mutable_setting()->set_name("pyroscope.ui.theme");
  c.mutable_set_tenant_setting()->mutable_setting()->set_value("dark");
  ASSERT_TRUE(fsm.Apply(1, MetastoreFsm::EncodeCommand(c)).ok());
  ASSERT_EQ(fsm.settings().Get("t").size(), 1u);
  EXPECT_EQ(fsm.settings().Get("t")[0].modified_at_ms(), 1000);  // the command's leader time
  // An older write is an error result of its log entry, on every replica alike.
  c.mutable_set_tenant_setting()->mutable_setting()->set_value("light");
  c.mutable_set_tenant_setting()->mutable_setting()->set_modified_at_ms(999);
  EXPECT_EQ(fsm.Apply(2, MetastoreFsm::EncodeCommand(c)).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(fsm.settings().Get("t")[0].value(), "dark");

  BlockIndex index2;
  MetastoreFsm restored(&index2);
  ASSERT_TRUE(restored.Restore(Snapshot(fsm)).ok());
  ASSERT_EQ(restored.settings().Get("t").size(), 1u);
  EXPECT_EQ(restored.settings().Get("t")[0].value(), "dark");
  EXPECT_EQ(restored.settings().Get("t")[0].modified_at_ms(), 1000);
}

std::string EndpointCommand(uint64_t node, const std::string& address) {
  v1::RaftCommand c;
  c.mutable_set_node_endpoint()->set_node_id(node);
  c.mutable_set_node_endpoint()->set_grpc_address(address);
  return MetastoreFsm::EncodeCommand(c);
}

// A capture serialised after later commands (more blocks, dedup evictions, endpoint changes)
// equals the snapshot a twin FSM that stopped at the capture gives; restoring it gives that
// state back, dedup window included.
TEST(MetastoreFsmTest, CaptureIsTheStateWhenTakenNotWhenSerialised) {
  BlockIndex index, twin_index;
  MetastoreFsm fsm(&index, /*dedup_window=*/2500);
  MetastoreFsm twin(&twin_index, /*dedup_window=*/2500);
  uint64_t raft_index = 0;
  auto apply_both = [&](const std::string& command) {
    ++raft_index;
    ASSERT_TRUE(fsm.Apply(raft_index, command).ok());
    ASSERT_TRUE(twin.Apply(raft_index, command).ok());
  };
  for (uint64_t i = 1; i <= 3000; i++) apply_both(AddCommand(Block(i), kT0 + i));
  apply_both(EndpointCommand(1, "10.0.0.1:9095"));
  const std::string want = Snapshot(twin);
  std::unique_ptr<StateCapture> capture = fsm.Capture();

  for (uint64_t i = 3001; i <= 7000; i++) {
    ASSERT_TRUE(fsm.Apply(++raft_index, AddCommand(Block(i), kT0 + i)).ok());
  }
  ASSERT_TRUE(fsm.Apply(++raft_index, EndpointCommand(1, "10.0.0.9:9095")).ok());
  std::unique_ptr<StateCapture> later = fsm.Capture();  // a second capture in between
  ASSERT_TRUE(fsm.Apply(++raft_index, AddCommand(Block(7001))).ok());

  absl::StatusOr<std::string> got = capture->Serialize();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == want) << "the capture changed after it was taken";

  BlockIndex restored_index;
  MetastoreFsm restored(&restored_index, 2500);
  ASSERT_TRUE(restored.Restore(*got).ok());
  EXPECT_EQ(restored.applied_index(), 3001u);
  EXPECT_EQ(restored.leader_time_ms(), kT0 + 3000);
  EXPECT_EQ(restored.dedup_entries(), 2500u);
  EXPECT_EQ(restored.NodeEndpoint(1), "10.0.0.1:9095");
  EXPECT_EQ(restored_index.BlockCount(), 3000u);
  // Block 1 was evicted from the window at the capture, block 3000 was in it: a retry of 3000
  // is answered from the window (the block stays), a retry of 1 re-applies harmlessly.
  EXPECT_TRUE(restored.Apply(3002, AddCommand(Block(3000))).ok());
  EXPECT_EQ(restored.dedup_entries(), 2500u);
  EXPECT_TRUE(restored.Apply(3003, AddCommand(Block(1))).ok());
  EXPECT_EQ(restored.dedup_entries(), 2500u);  // 1 remembered again, the oldest evicted

  absl::StatusOr<std::string> later_bytes = later->Serialize();
  ASSERT_TRUE(later_bytes.ok());
  ASSERT_TRUE(restored.Restore(*later_bytes).ok());
  EXPECT_EQ(restored_index.BlockCount(), 7000u);
  EXPECT_EQ(restored.NodeEndpoint(1), "10.0.0.9:9095");
}

// Snapshots of the previous format (version 1: header length, header, index) still restore.
TEST(MetastoreFsmTest, RestoresVersionOneSnapshots) {
  BlockIndex index;
  MetastoreFsm fsm(&index);
  ASSERT_TRUE(fsm.Apply(1, AddCommand(Block(1))).ok());
  ASSERT_TRUE(fsm.Apply(2, EndpointCommand(2, "10.0.0.2:9095")).ok());
  v1::RaftSnapshotHeader header;
  header.set_applied_index(2);
  header.set_leader_time_ms(kT0);
  v1::AppliedRequest* r = header.add_recent_requests();
  r->set_request_id("add_block/" + Block(1).id());
  auto* e = header.add_node_endpoints();
  e->set_node_id(2);
  e->set_grpc_address("10.0.0.2:9095");
  std::string v1_snapshot = "EMFS";
  PutFixed32(&v1_snapshot, 1);
  PutFixed32(&v1_snapshot, static_cast<uint32_t>(header.ByteSizeLong()));
  header.AppendToString(&v1_snapshot);
  v1_snapshot += index.EncodeSnapshot();

  BlockIndex restored_index;
  MetastoreFsm restored(&restored_index);
  ASSERT_TRUE(restored.Restore(v1_snapshot).ok());
  EXPECT_EQ(restored.applied_index(), 2u);
  EXPECT_EQ(restored.dedup_entries(), 1u);
  EXPECT_EQ(restored.NodeEndpoint(2), "10.0.0.2:9095");
  EXPECT_EQ(restored_index.EncodeSnapshot(), index.EncodeSnapshot());
  // Written again, it is the current format, and the same state.
  EXPECT_EQ(Snapshot(restored), Snapshot(fsm));
}

// A newer writer's version or section is refused with a message saying so, and nothing changes.
// Snapshots are written compressed (version 3); those written uncompressed before (version 2)
// restore to the same state.
TEST(MetastoreFsmTest, RestoresUncompressedVersionTwoSnapshots) {
  BlockIndex index;
  MetastoreFsm fsm(&index);
  for (uint64_t s = 1; s <= 50; ++s) ASSERT_TRUE(fsm.Apply(s, AddCommand(Block(s))).ok());
  const std::string snap = Snapshot(fsm);
  ASSERT_EQ(snap[4], 3);
  std::string storage;
  auto sections = ParseFsmSnapshot(snap, &storage);
  ASSERT_TRUE(sections.ok()) << sections.status();
  FsmSnapshotWriter writer;
  for (const auto& [tag, bytes] : *sections) {
    writer.AddSection(tag, [&, b = bytes](std::string* out) { out->append(b); });
  }
  const std::string v2 = std::move(writer).Finish(/*compress=*/false);
  ASSERT_EQ(v2[4], 2);
  EXPECT_LT(snap.size() * 2, v2.size());  // 50 similar blocks compress well

  BlockIndex restored_index;
  MetastoreFsm restored(&restored_index);
  ASSERT_TRUE(restored.Restore(v2).ok());
  EXPECT_EQ(restored_index.BlockCount(), 50u);
  EXPECT_EQ(restored.applied_index(), 50u);
  EXPECT_EQ(Snapshot(restored), snap);
}

TEST(MetastoreFsmTest, UnknownVersionOrSectionIsRefused) {
  BlockIndex index;
  MetastoreFsm fsm(&index);
  ASSERT_TRUE(fsm.Apply(1, AddCommand(Block(1))).ok());
  std::string snap = Snapshot(fsm);

  std::string v4 = snap;
  v4[4] = 4;
  absl::Status s = fsm.Restore(v4);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("unknown format version 4"), std::string_view::npos) << s;
  // A compressed snapshot cut short, or claiming another length.
  EXPECT_EQ(fsm.Restore(std::string_view(snap).substr(0, snap.size() - 2)).code(),
            absl::StatusCode::kDataLoss);
  std::string wrong_length = snap;
  wrong_length[8] ^= 1;
  EXPECT_EQ(fsm.Restore(wrong_length).code(), absl::StatusCode::kDataLoss);

  for (bool compress : {true, false}) {
    FsmSnapshotWriter writer;
    writer.AddSection(FsmSection::kHeader, [](std::string*) {});
    writer.AddSection(static_cast<FsmSection>(7), [](std::string* out) { out->append("x"); });
    s = fsm.Restore(std::move(writer).Finish(compress));
    EXPECT_NE(s.message().find("unknown section tag 7"), std::string_view::npos) << s;
  }
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("unknown section tag 7"), std::string_view::npos) << s;

  // A section missing, or a damaged one.
  FsmSnapshotWriter header_only;
  header_only.AddSection(FsmSection::kHeader, [](std::string*) {});
  EXPECT_EQ(fsm.Restore(std::move(header_only).Finish(false)).code(), absl::StatusCode::kDataLoss);
  header_only = FsmSnapshotWriter();
  header_only.AddSection(FsmSection::kHeader, [](std::string*) {});
  s = fsm.Restore(std::move(header_only).Finish());
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  std::string damaged = snap;
  damaged[20] ^= 1;
  EXPECT_EQ(fsm.Restore(damaged).code(), absl::StatusCode::kDataLoss);

  EXPECT_EQ(index.BlockCount(), 1u);
  EXPECT_EQ(fsm.applied_index(), 1u);
  EXPECT_TRUE(fsm.Restore(snap).ok());
}

}  // namespace
}  // namespace embers::metastore::raft

namespace embers::metastore::raft {
namespace {

// The compaction planner's state is replicated state: applied like the index, and carried by
// snapshots (and rebuilt from the index for a snapshot that predates it).
TEST(MetastoreFsmTest, CompactionStateIsAppliedAndSnapshotted) {
  BlockIndex index;
  MetastoreFsm fsm(&index);
  for (uint64_t s = 1; s <= 4; ++s) ASSERT_TRUE(fsm.Apply(s, AddCommand(Block(s))).ok());
  std::shared_ptr<const CompactionStateView> view = fsm.compaction().Capture();
  ASSERT_EQ(view->batches.size(), 1u);
  const auto& [key, batch] = *view->batches.begin();
  v1::RaftCommand plan;
  plan.set_leader_time_ms(kT0 + 10);
  v1::CompactionPlanUpdate* u = plan.mutable_update_compaction_plan()->mutable_plan();
  *u->add_new_jobs() = CompactionState::NewJob(key, std::span<const QueuedBlock>(*batch).first(3));
  u->add_assigned()->set_name(u->new_jobs(0).name());
  ASSERT_TRUE(fsm.Apply(5, MetastoreFsm::EncodeCommand(plan)).ok());
  view = fsm.compaction().Capture();
  ASSERT_EQ(view->jobs.size(), 1u);
  EXPECT_EQ(view->jobs.begin()->second->token(), 5u);  // the assigning entry's index
  EXPECT_EQ(view->batches.begin()->second->size(), 1u);

  BlockIndex restored_index;
  MetastoreFsm restored(&restored_index);
  ASSERT_TRUE(restored.Restore(Snapshot(fsm)).ok());
  EXPECT_EQ(CompactionState::Encode(*restored.compaction().Capture()),
            CompactionState::Encode(*fsm.compaction().Capture()));
}

}  // namespace
}  // namespace embers::metastore::raft
