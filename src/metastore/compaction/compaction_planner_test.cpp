// PlanCompaction: job cutting by count and age, assignment order and capacity, leases, reports
// from stale workers, output checks, failures and parking. Plans are applied with
// CompactionState::ApplyPlan, as the replicas do, so the tests follow jobs through their life.
#include "metastore/compaction/compaction_planner.h"

#include <random>
#include <set>

#include <gtest/gtest.h>

#include "metastore/index/test_blocks.h"

namespace embers::metastore {
namespace {

using testing::BlockBuilder;
using testing::DatasetSpec;
using testing::TestId;

constexpr int64_t kT0 = 1700000000000;

v1::BlockMeta Block(uint64_t seq, uint32_t level, const std::string& tenant, uint32_t shard = 1) {
  return BlockBuilder(TestId(kT0 + static_cast<int64_t>(seq), seq), tenant, shard, level)
      .Add(DatasetSpec{
          tenant.empty() ? "t1" : tenant, "api", kT0, kT0 + 1000, {{{"service_name", "api"}}}, 100})
      .Build();
}

class PlannerTest : public ::testing::Test {
 protected:
  void Add(const v1::BlockMeta& b, int64_t now = kT0) {
    ASSERT_TRUE(index_.AddBlock(b).ok());
    state_.Enqueue(b, now);
  }
  void AddSegments(uint64_t first, uint64_t count, int64_t now = kT0) {
    for (uint64_t s = first; s < first + count; ++s) Add(Block(s, 0, ""), now);
  }
  CompactionPlan Poll(const std::string& worker, uint32_t capacity, int64_t now,
                      std::vector<v1::CompactionJobStatusUpdate> updates = {}) {
    v1::PollCompactionJobsRequest req;
    req.set_worker_id(worker);
    req.set_job_capacity(capacity);
    for (auto& u : updates) *req.add_status_updates() = u;
    CompactionPlan plan = PlanCompaction(*state_.Capture(), req, now, options_);
    EXPECT_TRUE(state_.ApplyPlan(plan.update, ++raft_index_, now, &index_).ok());
    return plan;
  }
  const v1::CompactionJobState& Job(const std::string& name) {
    view_ = state_.Capture();
    return *view_->jobs.at(name);
  }
  static v1::CompactionJobStatusUpdate Update(const v1::CompactionJobState& job,
                                              v1::CompactionJobStatus status) {
    v1::CompactionJobStatusUpdate u;
    u.set_name(job.name());
    u.set_token(job.token());
    u.set_status(status);
    return u;
  }

  BlockIndex index_;
  CompactionState state_;
  // Upstream's batch sizes, which these tests count in (Embers' level-0 default is 16).
  CompactionPlannerOptions options_{.max_blocks = {20, 10, 10}};
  uint64_t raft_index_ = 100;
  std::shared_ptr<const CompactionStateView> view_;
};

TEST_F(PlannerTest, CutsFullBatchesAndAgedRests) {
  AddSegments(1, 45);
  CompactionPlan plan = Poll("w1", 0, kT0 + 1000);
  ASSERT_EQ(plan.update.new_jobs_size(), 2);  // 2 x 20; the other 5 are young
  EXPECT_EQ(plan.update.new_jobs(0).source_blocks_size(), 20);
  EXPECT_EQ(plan.update.new_jobs(0).source_blocks(0), Block(1, 0, "").id());
  EXPECT_EQ(plan.update.new_jobs(1).source_blocks(0), Block(21, 0, "").id());
  EXPECT_TRUE(plan.assigned.empty());  // no capacity
  EXPECT_EQ(state_.Capture()->jobs.size(), 2u);

  plan = Poll("w1", 0, kT0 + 35000);
  EXPECT_EQ(plan.update.new_jobs_size(), 0);
  plan = Poll("w1", 0, kT0 + 36000);  // the oldest remaining block waited 36 s
  ASSERT_EQ(plan.update.new_jobs_size(), 1);
  EXPECT_EQ(plan.update.new_jobs(0).source_blocks_size(), 5);
  EXPECT_TRUE(state_.Capture()->batches.empty());
}

TEST_F(PlannerTest, CutsSmallerJobsOnceTheyHoldEnoughBytes) {
  options_.max_bytes[0] = 450;  // Block() objects are 100 bytes of data plus a 64-byte footer
  AddSegments(1, 7);
  CompactionPlan plan = Poll("w1", 0, kT0 + 1000);
  ASSERT_EQ(plan.update.new_jobs_size(), 2);  // 3 + 3 blocks hold 492 bytes each; 1 waits
  EXPECT_EQ(plan.update.new_jobs(0).source_blocks_size(), 3);
  EXPECT_EQ(plan.update.new_jobs(1).source_blocks_size(), 3);
}

TEST_F(PlannerTest, AssignsLowestLevelOldestFirstUpToCapacity) {
  options_.max_blocks = {2, 2, 2};
  Add(Block(1, 1, "t1"));
  Add(Block(2, 1, "t1"));
  AddSegments(10, 4);
  CompactionPlan plan = Poll("w1", 2, kT0);
  ASSERT_EQ(plan.assigned.size(), 2u);
  EXPECT_EQ(Job(plan.assigned[0]).compaction_level(), 0u);
  EXPECT_EQ(Job(plan.assigned[1]).compaction_level(), 0u);
  EXPECT_LT(Job(plan.assigned[0]).seq(), Job(plan.assigned[1]).seq());
  EXPECT_EQ(Job(plan.assigned[0]).token(), raft_index_);  // the assigning entry's index
  plan = Poll("w2", 5, kT0);
  ASSERT_EQ(plan.assigned.size(), 1u);
  EXPECT_EQ(Job(plan.assigned[0]).compaction_level(), 1u);
  EXPECT_EQ(Job(plan.assigned[0]).worker(), "w2");
}

TEST_F(PlannerTest, RenewsLeasesOnlyForTheCurrentHolder) {
  AddSegments(1, 20);
  CompactionPlan plan = Poll("w1", 1, kT0);
  ASSERT_EQ(plan.assigned.size(), 1u);
  v1::CompactionJobState job = Job(plan.assigned[0]);
  EXPECT_EQ(job.lease_expires_at(), kT0 + 15000);

  // Early in the lease nothing is written; the job is kept.
  plan = Poll("w1", 0, kT0 + 1000, {Update(job, v1::COMPACTION_STATUS_IN_PROGRESS)});
  EXPECT_TRUE(plan.empty());
  EXPECT_EQ(plan.kept, std::vector<std::string>{job.name()});
  // Past half of it, renewed.
  plan = Poll("w1", 0, kT0 + 9000, {Update(job, v1::COMPACTION_STATUS_IN_PROGRESS)});
  ASSERT_EQ(plan.update.renewed_size(), 1);
  EXPECT_EQ(Job(job.name()).lease_expires_at(), kT0 + 24000);
  // A report with an older token is not taken.
  v1::CompactionJobStatusUpdate stale = Update(job, v1::COMPACTION_STATUS_SUCCESS);
  stale.set_token(job.token() - 1);
  plan = Poll("w9", 0, kT0 + 9500, {stale});
  EXPECT_TRUE(plan.empty());
  EXPECT_TRUE(plan.kept.empty());
}

TEST_F(PlannerTest, ExpiredLeaseIsReassignedAndParkedAtTheFailureLimit) {
  AddSegments(1, 20);
  std::string name = Poll("w1", 1, kT0).assigned.at(0);
  // w1 dies. After the lease, w2 gets the job with a new token; w1's late report is refused.
  uint64_t first_token = Job(name).token();
  CompactionPlan plan = Poll("w2", 1, kT0 + 15000);
  ASSERT_EQ(plan.assigned, std::vector<std::string>{name});
  EXPECT_EQ(Job(name).failures(), 1u);
  EXPECT_GT(Job(name).token(), first_token);
  v1::CompactionJobStatusUpdate late;
  late.set_name(name);
  late.set_token(first_token);
  late.set_status(v1::COMPACTION_STATUS_SUCCESS);
  *late.mutable_compacted_blocks()->add_new_blocks() = Block(500, 1, "t1");
  plan = Poll("w1", 0, kT0 + 15001, {late});
  EXPECT_TRUE(plan.update.completed().empty());
  // Two more expiries: parked, with the reason.
  Poll("w3", 1, kT0 + 30000);
  EXPECT_EQ(Job(name).failures(), 2u);
  plan = Poll("w4", 1, kT0 + 45000);
  EXPECT_TRUE(plan.assigned.empty());
  EXPECT_EQ(Job(name).status(), v1::COMPACTION_STATUS_FAILURE);
  EXPECT_NE(Job(name).last_error().find("lease expired"), std::string::npos);
}

TEST_F(PlannerTest, ReportedFailureBacksOff) {
  AddSegments(1, 20);
  v1::CompactionJobState job = Job(Poll("w1", 1, kT0).assigned.at(0));
  v1::CompactionJobStatusUpdate f = Update(job, v1::COMPACTION_STATUS_FAILURE);
  f.set_error("object is corrupt");
  CompactionPlan plan = Poll("w1", 1, kT0 + 100, {f});
  EXPECT_TRUE(plan.assigned.empty());  // not before the backoff
  EXPECT_EQ(Job(job.name()).status(), v1::COMPACTION_STATUS_UNSPECIFIED);
  EXPECT_EQ(Job(job.name()).last_error(), "object is corrupt");
  plan = Poll("w1", 1, kT0 + 100 + 15000);
  EXPECT_EQ(plan.assigned, std::vector<std::string>{job.name()});
}

TEST_F(PlannerTest, ChecksOutputsBeforeTheyReachTheIndex) {
  AddSegments(1, 20);
  v1::CompactionJobState job = Job(Poll("w1", 1, kT0).assigned.at(0));
  v1::CompactionJobStatusUpdate bad = Update(job, v1::COMPACTION_STATUS_SUCCESS);
  *bad.mutable_compacted_blocks()->add_new_blocks() = Block(900, 1, "t1", /*shard=*/7);
  CompactionPlan plan = Poll("w1", 0, kT0 + 100, {bad});
  EXPECT_TRUE(plan.update.completed().empty());
  ASSERT_EQ(plan.update.failed_size(), 1);
  EXPECT_NE(plan.update.failed(0).error().find("shard 7"), std::string::npos);
  EXPECT_EQ(index_.BlockCount(), 20u);

  job = Job(Poll("w1", 1, kT0 + 100 + 15000).assigned.at(0));
  v1::CompactionJobStatusUpdate ok = Update(job, v1::COMPACTION_STATUS_SUCCESS);
  *ok.mutable_compacted_blocks()->add_new_blocks() = Block(901, 1, "t1");
  plan = Poll("w1", 0, kT0 + 20000, {ok});
  ASSERT_EQ(plan.update.completed_size(), 1);
  EXPECT_EQ(index_.BlockCount(), 1u);
  EXPECT_TRUE(state_.Capture()->jobs.empty());
}

TEST_F(PlannerTest, BoundsTheJobQueue) {
  options_.max_jobs = 3;
  AddSegments(1, 200);
  CompactionPlan plan = Poll("w1", 0, kT0);
  EXPECT_EQ(plan.update.new_jobs_size(), 3);
  EXPECT_EQ(Poll("w1", 0, kT0).update.new_jobs_size(), 0);
}

// Simulated workers with random capacities, failures and crashes: every block ends in exactly
// one place, nothing is compacted twice, and with time everything below the top level that can
// be compacted is.
TEST_F(PlannerTest, RandomWorkersNeverLoseOrDuplicateBlocks) {
  options_.max_blocks = {4, 3, 3};
  options_.max_failures = 1000;  // crashes here are random, not poison jobs
  std::mt19937 rng(7);
  AddSegments(1, 300);
  uint64_t next_output = 10000;
  struct Held {
    v1::CompactionJobState job;
  };
  std::map<std::string, std::vector<Held>> held;  // worker → jobs
  int64_t now = kT0;
  for (int round = 0; round < 4000; ++round) {
    now += 1000;
    std::string worker = "w" + std::to_string(rng() % 3);
    std::vector<v1::CompactionJobStatusUpdate> updates;
    std::vector<Held>& mine = held[worker];
    if (rng() % 50 == 0) mine.clear();  // the worker crashed: its leases will expire
    for (const Held& h : mine) {
      v1::CompactionJobStatusUpdate u = Update(h.job, v1::COMPACTION_STATUS_IN_PROGRESS);
      if (rng() % 2 == 0) {
        u.set_status(v1::COMPACTION_STATUS_SUCCESS);
        std::set<std::string> tenants;
        if (h.job.tenant().empty()) {
          tenants = {"t1"};
        } else {
          tenants = {h.job.tenant()};
        }
        for (const std::string& t : tenants) {
          *u.mutable_compacted_blocks()->add_new_blocks() =
              Block(next_output++, h.job.compaction_level() + 1, t);
        }
      } else if (rng() % 10 == 0) {
        u.set_status(v1::COMPACTION_STATUS_FAILURE);
        u.set_error("transient");
      }
      updates.push_back(u);
    }
    CompactionPlan plan = Poll(worker, static_cast<uint32_t>(rng() % 3), now, updates);
    std::vector<Held> next;
    for (const std::string& name : plan.kept) next.push_back({Job(name)});
    for (const std::string& name : plan.assigned) {
      const v1::CompactionJobState& j = Job(name);
      if (j.status() == v1::COMPACTION_STATUS_IN_PROGRESS && j.worker() == worker) {
        next.push_back({j});
      }
    }
    mine = std::move(next);

    // Invariant: every indexed block below the top level is queued or a job's source, once.
    auto view = state_.Capture();
    std::multiset<std::string> placed;
    for (const auto& [key, batch] : view->batches) {
      for (const QueuedBlock& q : *batch) placed.insert(q.id.ToString());
    }
    for (const auto& [name, job] : view->jobs) {
      for (const std::string& s : job->source_blocks()) placed.insert(s);
    }
    std::set<std::string> unique(placed.begin(), placed.end());
    ASSERT_EQ(unique.size(), placed.size()) << "a block is in two places";
  }
  // Drain: no more crashes or failures.
  for (int round = 0; round < 2000; ++round) {
    now += 60 * 60 * 1000;  // an hour a round: every age threshold passes
    for (auto& [worker, mine] : held) {
      std::vector<v1::CompactionJobStatusUpdate> updates;
      for (const Held& h : mine) {
        v1::CompactionJobStatusUpdate u = Update(h.job, v1::COMPACTION_STATUS_SUCCESS);
        std::string t = h.job.tenant().empty() ? "t1" : h.job.tenant();
        *u.mutable_compacted_blocks()->add_new_blocks() =
            Block(next_output++, h.job.compaction_level() + 1, t);
        updates.push_back(u);
      }
      CompactionPlan plan = Poll(worker, 4, now, updates);
      mine.clear();
      for (const std::string& name : plan.assigned) mine.push_back({Job(name)});
    }
  }
  auto view = state_.Capture();
  EXPECT_TRUE(view->batches.empty());
  EXPECT_TRUE(view->jobs.empty());
  // Every block left in the index is at the top level: 300 segments became a few L3 blocks.
  EXPECT_GT(index_.BlockCount(), 0u);
  EXPECT_LE(index_.BlockCount(), 300u / (4 * 3 * 3) + 3);
}

}  // namespace
}  // namespace embers::metastore
