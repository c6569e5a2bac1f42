// Tests of MetastoreFsm without any consensus engine: deterministic apply, request-id
// de-duplication, snapshot round trips.
#include "metastore/raft/metastore_fsm.h"

#include <gtest/gtest.h>

#include "base/varint.h"
#include "metastore/raft/fsm_snapshot_format.h"
#include "xxhash.h"
#include "zstd.h"

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

// The snapshot bytes of a capture: its pieces joined, as libraft writes them into one file.
std::string Serialized(StateCapture& capture) {
  capture.Prepare();
  absl::StatusOr<std::vector<std::string_view>> pieces = capture.Serialize();
  EXPECT_TRUE(pieces.ok()) << pieces.status();
  std::string out;
  if (pieces.ok()) {
    for (std::string_view p : *pieces) out.append(p);
  }
  return out;
}

// What the consensus engine does: capture on the apply thread, serialise later.
std::string Snapshot(MetastoreFsm& fsm) { return Serialized(*fsm.Capture()); }

using Sections = std::vector<std::pair<uint32_t, std::string>>;

// The earlier formats, built as their writers built them.
std::string VersionTwoSections(const Sections& sections) {
  std::string out;
  for (const auto& [tag, bytes] : sections) {
    PutFixed32(&out, tag);
    PutFixed64(&out, bytes.size());
    out += bytes;
    PutFixed64(&out, XXH64(bytes.data(), bytes.size(), 0));
  }
  return out;
}
std::string VersionTwo(const Sections& sections) {
  std::string out = "EMFS";
  PutFixed32(&out, 2);
  return out + VersionTwoSections(sections);
}
std::string VersionThree(const Sections& sections) {
  const std::string raw = VersionTwoSections(sections);
  std::string out = "EMFS";
  PutFixed32(&out, 3);
  PutFixed64(&out, raw.size());
  std::string frame(ZSTD_compressBound(raw.size()), '\0');
  frame.resize(ZSTD_compress(frame.data(), frame.size(), raw.data(), raw.size(), 1));
  return out + frame;
}
// The current format, through the writer, each section passed on in pieces of `piece` bytes,
// into an output with little reserved (so that it overflows into further buffers).
std::string VersionFour(const Sections& sections, size_t piece = 1000, size_t* buffers = nullptr) {
  FsmSnapshotScratch scratch;
  SnapshotOutput out;
  out.Reserve(4096);
  FsmSnapshotWriter writer(&scratch, &out);
  for (const auto& [tag, bytes] : sections) {
    writer.AddSection(static_cast<FsmSection>(tag), [&, &b = bytes](FsmSnapshotWriter::Sink sink) {
      for (size_t at = 0; at < b.size(); at += piece) sink(std::string_view(b).substr(at, piece));
    });
  }
  writer.Finish();
  if (buffers != nullptr) *buffers = out.pieces().size();
  return out.ToString();
}

Sections Parsed(std::string_view snapshot) {
  std::string storage;
  auto sections = ParseFsmSnapshot(snapshot, &storage);
  EXPECT_TRUE(sections.ok()) << sections.status();
  Sections out;
  if (sections.ok()) {
    for (const auto& [tag, bytes] : *sections) {
      out.emplace_back(static_cast<uint32_t>(tag), std::string(bytes));
    }
  }
  return out;
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

  const std::string got = Serialized(*capture);
  EXPECT_TRUE(got == want) << "the capture changed after it was taken";

  BlockIndex restored_index;
  MetastoreFsm restored(&restored_index, 2500);
  ASSERT_TRUE(restored.Restore(got).ok());
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

  ASSERT_TRUE(restored.Restore(Serialized(*later)).ok());
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

// Snapshots are written streamed and compressed (version 4); those written compressed in one
// piece (version 3) or uncompressed (version 2) before restore to the same state.
TEST(MetastoreFsmTest, RestoresVersionTwoAndThreeSnapshots) {
  BlockIndex index;
  MetastoreFsm fsm(&index);
  for (uint64_t s = 1; s <= 50; ++s) ASSERT_TRUE(fsm.Apply(s, AddCommand(Block(s))).ok());
  const std::string snap = Snapshot(fsm);
  ASSERT_EQ(snap[4], 4);
  const Sections sections = Parsed(snap);
  ASSERT_EQ(sections.size(), 3u);
  const std::string v2 = VersionTwo(sections);
  EXPECT_LT(snap.size() * 2, v2.size());  // 50 similar blocks compress well
  for (const std::string& old : {v2, VersionThree(sections)}) {
    BlockIndex restored_index;
    MetastoreFsm restored(&restored_index);
    ASSERT_TRUE(restored.Restore(old).ok()) << "version " << static_cast<int>(old[4]);
    EXPECT_EQ(restored_index.BlockCount(), 50u);
    EXPECT_EQ(restored.applied_index(), 50u);
    EXPECT_EQ(Snapshot(restored), snap);
  }
}

// Sections passed on in pieces of any size (one byte, a few KB, several MB) come back whole,
// however the compressed output was split into buffers.
TEST(MetastoreFsmTest, StreamedSectionsRoundTrip) {
  std::string big(5 << 20, '\0');
  uint64_t x = 88172645463325252ull;
  for (char& c : big) {  // half random, half runs: some of it compresses
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    c = static_cast<char>((x & 256) != 0 ? x : 'a');
  }
  const Sections sections = {{1, "header"}, {2, big}, {3, ""}};
  for (size_t piece : {size_t{1} << 10, size_t{3} << 20, size_t{1} << 30}) {
    size_t buffers = 0;
    const std::string snap = VersionFour(sections, piece, &buffers);
    EXPECT_GT(buffers, 1u);  // 4 KB reserved: the writer took more buffers as it went
    EXPECT_TRUE(Parsed(snap) == sections) << "pieces of " << piece;
  }
  EXPECT_TRUE(Parsed(VersionFour({{1, "abc"}}, 1)) == (Sections{{1, "abc"}}));
  // The output reserved by Prepare: a snapshot of a few thousand blocks fits in it (one piece).
  BlockIndex index;
  MetastoreFsm fsm(&index);
  for (uint64_t s = 1; s <= 5000; ++s) ASSERT_TRUE(fsm.Apply(s, AddCommand(Block(s))).ok());
  std::unique_ptr<StateCapture> capture = fsm.Capture();
  capture->Prepare();
  absl::StatusOr<std::vector<std::string_view>> pieces = capture->Serialize();
  ASSERT_TRUE(pieces.ok());
  EXPECT_EQ(pieces->size(), 1u);
}

// A newer writer's version or section is refused with a message saying so, damaged or cut
// snapshots are refused, and nothing changes.
TEST(MetastoreFsmTest, UnknownVersionOrSectionIsRefused) {
  BlockIndex index;
  MetastoreFsm fsm(&index);
  ASSERT_TRUE(fsm.Apply(1, AddCommand(Block(1))).ok());
  std::string snap = Snapshot(fsm);
  const Sections sections = Parsed(snap);

  std::string v5 = snap;
  v5[4] = 5;
  absl::Status s = fsm.Restore(v5);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("unknown format version 5"), std::string_view::npos) << s;
  // Cut short anywhere, or with bytes after the frame.
  for (size_t cut : {size_t{9}, snap.size() / 2, snap.size() - 1}) {
    s = fsm.Restore(std::string_view(snap).substr(0, cut));
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << "cut at " << cut;
  }
  s = fsm.Restore(snap + "x");
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("data after the compressed frame"), std::string_view::npos) << s;
  // A version-3 snapshot claiming another length.
  std::string wrong_length = VersionThree(sections);
  wrong_length[8] ^= 1;
  EXPECT_EQ(fsm.Restore(wrong_length).code(), absl::StatusCode::kDataLoss);

  const Sections unknown = {{1, ""}, {7, "x"}};
  for (const std::string& bad :
       {VersionTwo(unknown), VersionThree(unknown), VersionFour(unknown)}) {
    s = fsm.Restore(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
    EXPECT_NE(s.message().find("unknown section tag 7"), std::string_view::npos) << s;
  }

  // A section missing, out of order, or damaged.
  for (const std::string& bad : {VersionTwo({{1, ""}}), VersionFour({{1, ""}})}) {
    EXPECT_EQ(fsm.Restore(bad).code(), absl::StatusCode::kDataLoss);
  }
  Sections reordered = sections;
  std::swap(reordered[0], reordered[1]);
  s = fsm.Restore(VersionFour(reordered));
  EXPECT_NE(s.message().find("out of order"), std::string_view::npos) << s;
  std::string damaged = VersionTwo(sections);
  damaged[20] ^= 1;
  EXPECT_EQ(fsm.Restore(damaged).code(), absl::StatusCode::kDataLoss);
  damaged = snap;
  damaged[snap.size() / 2] ^= 0x10;
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
