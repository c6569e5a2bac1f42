// CompactionState: queueing, the conditional application of plans, completion swapping blocks in
// the index, failures and parking, copy-on-write captures and snapshots.
#include "metastore/compaction/compaction_state.h"

#include <gtest/gtest.h>

#include "metastore/index/test_blocks.h"

namespace embers::metastore {
namespace {

using testing::BlockBuilder;
using testing::DatasetSpec;
using testing::TestId;

constexpr int64_t kT0 = 1700000000000;  // a partition boundary is every 6 h

v1::BlockMeta Segment(uint64_t seq, uint32_t shard = 1, int64_t data_time = kT0) {
  return BlockBuilder(TestId(kT0 + static_cast<int64_t>(seq), seq), "", shard, 0)
      .Add(DatasetSpec{"t1", "api", data_time, data_time + 1000, {{{"service_name", "api"}}}, 1000})
      .Add(DatasetSpec{"t2", "db", data_time, data_time + 500, {{{"service_name", "db"}}}, 500})
      .Build();
}

v1::BlockMeta Output(const std::string& tenant, uint64_t seq, uint32_t level, uint32_t shard = 1) {
  return BlockBuilder(TestId(kT0 + 100000 + static_cast<int64_t>(seq), seq), tenant, shard, level)
      .Add(DatasetSpec{tenant, "api", kT0, kT0 + 1000, {{{"service_name", "api"}}}, 4000})
      .Build();
}

CompactionBatchKey L0Key(uint32_t shard = 1) {
  return {.level = 0, .partition = BlockIndex::PartitionOf(kT0), .tenant = "", .shard = shard};
}

// Adds segments to the index and the queue, as the state machine does.
void AddSegments(BlockIndex& index, CompactionState& state, uint64_t first, uint64_t count,
                 int64_t now = kT0) {
  for (uint64_t s = first; s < first + count; ++s) {
    v1::BlockMeta b = Segment(s);
    ASSERT_TRUE(index.AddBlock(b).ok());
    state.Enqueue(b, now);
  }
}

v1::CompactionJobState NewJob(const CompactionStateView& view, const CompactionBatchKey& key,
                              size_t count) {
  const CompactionBatch& batch = *view.batches.at(key);
  return CompactionState::NewJob(key, std::span<const QueuedBlock>(batch.data(), count));
}

TEST(CompactionStateTest, QueuesBlocksBelowTheTopLevelPerBatch) {
  BlockIndex index;
  CompactionState state;
  AddSegments(index, state, 1, 3);
  v1::BlockMeta other_shard = Segment(10, /*shard=*/2);
  state.Enqueue(other_shard, kT0);
  state.Enqueue(Output("t1", 1, kMaxCompactionLevel), kT0);  // final level: not queued
  auto view = state.Capture();
  ASSERT_EQ(view->batches.size(), 2u);
  const CompactionBatch& b = *view->batches.at(L0Key());
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].id.ToString(), Segment(1).id());
  EXPECT_EQ(b[0].size, Segment(1).size());
  EXPECT_EQ(view->batches.at(L0Key(2))->size(), 1u);
}

TEST(CompactionStateTest, JobTakesQueuedBlocksOnceAndAssignmentIsFencedByToken) {
  BlockIndex index;
  CompactionState state;
  AddSegments(index, state, 1, 5);
  v1::CompactionJobState job = NewJob(*state.Capture(), L0Key(), 3);

  v1::CompactionPlanUpdate plan;
  *plan.add_new_jobs() = job;
  v1::CompactionJobAssign* a = plan.add_assigned();
  a->set_name(job.name());
  a->set_expected_token(0);
  a->set_worker("w1");
  a->set_lease_expires_at(kT0 + 15000);
  ASSERT_TRUE(state.ApplyPlan(plan, /*raft_index=*/42, kT0, &index).ok());
  auto view = state.Capture();
  ASSERT_EQ(view->batches.at(L0Key())->size(), 2u);  // 3 of 5 left the queue
  const v1::CompactionJobState& j = *view->jobs.at(job.name());
  EXPECT_EQ(j.status(), v1::COMPACTION_STATUS_IN_PROGRESS);
  EXPECT_EQ(j.token(), 42u);
  EXPECT_EQ(j.worker(), "w1");
  EXPECT_EQ(j.source_bytes(), 3 * Segment(1).size());

  // The same plan again (a retried or interleaved proposal) changes nothing: the blocks are no
  // longer queued and the token moved on.
  ASSERT_TRUE(state.ApplyPlan(plan, 43, kT0, &index).ok());
  view = state.Capture();
  EXPECT_EQ(view->jobs.size(), 1u);
  EXPECT_EQ(view->jobs.at(job.name())->token(), 42u);
  EXPECT_EQ(view->batches.at(L0Key())->size(), 2u);
}

TEST(CompactionStateTest, CompletionSwapsSourcesForOutputsAndQueuesThemOneLevelUp) {
  BlockIndex index;
  CompactionState state;
  AddSegments(index, state, 1, 4);
  v1::CompactionJobState job = NewJob(*state.Capture(), L0Key(), 4);
  v1::CompactionPlanUpdate plan;
  *plan.add_new_jobs() = job;
  v1::CompactionJobAssign* a = plan.add_assigned();
  a->set_name(job.name());
  a->set_worker("w1");
  a->set_lease_expires_at(kT0 + 15000);
  ASSERT_TRUE(state.ApplyPlan(plan, 7, kT0, &index).ok());

  // A stale token completes nothing.
  v1::CompactionPlanUpdate stale;
  v1::CompactionJobCompleted* c = stale.add_completed();
  c->set_name(job.name());
  c->set_token(6);
  *c->add_new_blocks() = Output("t1", 1, 1);
  ASSERT_TRUE(state.ApplyPlan(stale, 8, kT0 + 10, &index).ok());
  EXPECT_EQ(index.BlockCount(), 4u);

  v1::CompactionPlanUpdate done;
  c = done.add_completed();
  c->set_name(job.name());
  c->set_token(7);
  *c->add_new_blocks() = Output("t1", 1, 1);
  *c->add_new_blocks() = Output("t2", 2, 1);
  ASSERT_TRUE(state.ApplyPlan(done, 9, kT0 + 20, &index).ok());
  EXPECT_EQ(index.BlockCount(), 2u);  // 4 segments out, 2 per-tenant blocks in
  auto view = state.Capture();
  EXPECT_TRUE(view->jobs.empty());
  EXPECT_EQ(view->completed[0], 1u);
  EXPECT_FALSE(view->batches.contains(L0Key()));
  CompactionBatchKey l1{
      .level = 1, .partition = BlockIndex::PartitionOf(kT0), .tenant = "t1", .shard = 1};
  ASSERT_TRUE(view->batches.contains(l1));
  EXPECT_EQ(view->batches.at(l1)->front().added_at_ms, kT0 + 20);
  // The sources are tombstoned under the job's name, with their bytes.
  std::vector<v1::BlockTombstones> tombs = index.Tombstones();
  ASSERT_EQ(tombs.size(), 1u);
  EXPECT_EQ(tombs[0].name(), job.name());
  EXPECT_EQ(tombs[0].blocks_size(), 4);
  EXPECT_EQ(tombs[0].bytes(), 4 * Segment(1).size());
  EXPECT_EQ(tombs[0].created_at(), kT0 + 20);
  // A late retry of a source segment does not come back.
  EXPECT_EQ(*index.AddBlock(Segment(1)), BlockIndex::AddResult::kTombstoned);

  // Deleting the tombstone's objects counts them.
  v1::CompactionPlanUpdate cleaned;
  cleaned.add_deleted_tombstones(job.name());
  ASSERT_TRUE(state.ApplyPlan(cleaned, 10, kT0 + 30, &index).ok());
  EXPECT_TRUE(index.Tombstones().empty());
  view = state.Capture();
  EXPECT_EQ(view->deleted_objects, 4u);
  EXPECT_EQ(view->deleted_bytes, 4 * Segment(1).size());
}

TEST(CompactionStateTest, FailuresRequeueWithBackoffThenPark) {
  BlockIndex index;
  CompactionState state;
  AddSegments(index, state, 1, 2);
  v1::CompactionJobState job = NewJob(*state.Capture(), L0Key(), 2);
  v1::CompactionPlanUpdate plan;
  *plan.add_new_jobs() = job;
  plan.add_assigned()->set_name(job.name());
  ASSERT_TRUE(state.ApplyPlan(plan, 5, kT0, &index).ok());

  v1::CompactionPlanUpdate fail;
  v1::CompactionJobFailed* f = fail.add_failed();
  f->set_name(job.name());
  f->set_token(5);
  f->set_failures(1);
  f->set_error("boom");
  f->set_retry_after(kT0 + 15000);
  ASSERT_TRUE(state.ApplyPlan(fail, 6, kT0 + 1, &index).ok());
  const v1::CompactionJobState* j = state.Capture()->jobs.at(job.name()).get();
  EXPECT_EQ(j->status(), v1::COMPACTION_STATUS_UNSPECIFIED);
  EXPECT_EQ(j->lease_expires_at(), kT0 + 15000);
  EXPECT_EQ(j->last_error(), "boom");
  EXPECT_EQ(j->failures(), 1u);

  v1::CompactionPlanUpdate again;
  v1::CompactionJobAssign* a = again.add_assigned();
  a->set_name(job.name());
  a->set_expected_token(5);
  a->set_failures(1);
  ASSERT_TRUE(state.ApplyPlan(again, 11, kT0 + 20000, &index).ok());
  v1::CompactionPlanUpdate park;
  f = park.add_failed();
  f->set_name(job.name());
  f->set_token(11);
  f->set_failures(3);
  f->set_park(true);
  f->set_error("still broken");
  ASSERT_TRUE(state.ApplyPlan(park, 12, kT0 + 20001, &index).ok());
  j = state.Capture()->jobs.at(job.name()).get();
  EXPECT_EQ(j->status(), v1::COMPACTION_STATUS_FAILURE);
  // A parked job is never assigned again.
  v1::CompactionPlanUpdate revive;
  a = revive.add_assigned();
  a->set_name(job.name());
  a->set_expected_token(11);
  ASSERT_TRUE(state.ApplyPlan(revive, 13, kT0 + 30000, &index).ok());
  EXPECT_EQ(state.Capture()->jobs.at(job.name())->status(), v1::COMPACTION_STATUS_FAILURE);
  // Its blocks stay in the index.
  EXPECT_EQ(index.BlockCount(), 2u);
}

TEST(CompactionStateTest, RetentionDequeuesRemovedBlocks) {
  BlockIndex index;
  CompactionState state;
  AddSegments(index, state, 1, 3);
  v1::BlockTombstones t;
  t.set_tenant("");
  t.set_shard(1);
  t.add_blocks(Segment(1).id());
  t.add_blocks(Segment(3).id());
  state.Dequeue(t);
  auto view = state.Capture();
  ASSERT_EQ(view->batches.at(L0Key())->size(), 1u);
  EXPECT_EQ(view->batches.at(L0Key())->front().id.ToString(), Segment(2).id());
  t.clear_blocks();
  t.add_blocks(Segment(2).id());
  state.Dequeue(t);
  EXPECT_TRUE(state.Capture()->batches.empty());
}

TEST(CompactionStateTest, CapturedViewsDoNotChange) {
  BlockIndex index;
  CompactionState state;
  AddSegments(index, state, 1, 3);
  auto before = state.Capture();
  const std::string encoded_before = CompactionState::Encode(*before);
  AddSegments(index, state, 4, 2);
  v1::CompactionPlanUpdate plan;
  *plan.add_new_jobs() = NewJob(*state.Capture(), L0Key(), 4);
  ASSERT_TRUE(state.ApplyPlan(plan, 3, kT0, &index).ok());
  EXPECT_EQ(before->batches.at(L0Key())->size(), 3u);
  EXPECT_TRUE(before->jobs.empty());
  EXPECT_EQ(CompactionState::Encode(*before), encoded_before);
  auto after = state.Capture();
  EXPECT_EQ(after->batches.at(L0Key())->size(), 1u);
  EXPECT_EQ(after->jobs.size(), 1u);
}

TEST(CompactionStateTest, SnapshotRoundTripAndCorruption) {
  BlockIndex index;
  CompactionState state;
  AddSegments(index, state, 1, 5);
  v1::CompactionPlanUpdate plan;
  v1::CompactionJobState job = NewJob(*state.Capture(), L0Key(), 2);
  *plan.add_new_jobs() = job;
  v1::CompactionJobAssign* a = plan.add_assigned();
  a->set_name(job.name());
  a->set_worker("w");
  ASSERT_TRUE(state.ApplyPlan(plan, 9, kT0, &index).ok());
  std::string bytes = CompactionState::Encode(*state.Capture());

  auto decoded = CompactionState::Decode(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  CompactionState restored;
  restored.Reset(*decoded);
  EXPECT_EQ(CompactionState::Encode(*restored.Capture()), bytes);
  EXPECT_EQ(restored.Capture()->jobs.at(job.name())->token(), 9u);
  EXPECT_EQ(restored.Capture()->next_seq, 1u);

  EXPECT_TRUE(CompactionState::Decode("").ok());  // snapshots from before compaction
  std::string bad = bytes;
  bad[bad.size() / 2] ^= 0x40;
  EXPECT_EQ(CompactionState::Decode(bad).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(CompactionState::Decode(bytes.substr(0, bytes.size() - 3)).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(CompactionStateTest, MalformedPlansAreRejectedWhole) {
  BlockIndex index;
  CompactionState state;
  AddSegments(index, state, 1, 3);
  v1::CompactionPlanUpdate plan;
  *plan.add_new_jobs() = NewJob(*state.Capture(), L0Key(), 2);
  v1::CompactionJobState* bad = plan.add_new_jobs();
  bad->set_name("x");
  bad->add_source_blocks("not-a-ulid");
  EXPECT_EQ(state.ApplyPlan(plan, 1, kT0, &index).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(state.Capture()->jobs.empty());
  EXPECT_EQ(state.Capture()->batches.at(L0Key())->size(), 3u);
}

}  // namespace
}  // namespace embers::metastore
