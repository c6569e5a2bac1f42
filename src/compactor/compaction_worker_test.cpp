// CompactionWorker against a real single-node metastore (Raft on loopback, temp dir) and a memory
// bucket, with a test executor standing in for the merge kernel: jobs flow from queued segments
// to indexed outputs, tombstoned objects are deleted after the delay and the tombstones
// forgotten, a job whose lease is lost is abandoned and finished elsewhere, failures are
// reported and parked.
#include "compactor/compaction_worker.h"

#include <chrono>
#include <future>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/status.h"
#include "base/strings.h"
#include "base/test_ports.h"
#include "block/object_writer.h"
#include "metastore/index/test_blocks.h"
#include "metastore/raft/metastore_node.h"
#include "objstore/memory_bucket.h"
#include "objstore/test_temp_dir.h"

namespace embers::compactor {
namespace {

using metastore::testing::BlockBuilder;
using metastore::testing::DatasetSpec;
using metastore::testing::TestId;

constexpr int64_t kT0 = 1700000000000;

absl::Status Wait(const std::function<void(UnaryDone)>& call) {
  auto promise = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> f = promise->get_future();
  call([promise](absl::Status s) { promise->set_value(std::move(s)); });
  return f.get();
}

bool WaitFor(const std::function<bool()>& cond, absl::Duration timeout = absl::Seconds(20)) {
  absl::Time deadline = absl::Now() + timeout;
  while (!cond()) {
    if (absl::Now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

std::string TenantOf(const v1::BlockMeta& b, int32_t ref) {
  return ref >= 0 && ref < b.string_table_size() ? b.string_table(ref) : "";
}

// Stands in for the merge kernel: one output per tenant of the sources, uploaded as a small
// object, with a deterministic id.
absl::StatusOr<CompactionJobResult> FakeCompact(objstore::Bucket* bucket,
                                                const v1::CompactionJob& job) {
  std::set<std::string> tenants;
  for (const v1::BlockMeta& m : job.source_metas()) {
    for (const v1::Dataset& d : m.datasets()) tenants.insert(TenantOf(m, d.tenant()));
  }
  CompactionJobResult r;
  uint64_t seq = std::hash<std::string>()(job.name()) & 0xffffffff;
  for (const std::string& t : tenants) {
    v1::BlockMeta out =
        BlockBuilder(TestId(kT0 + 500000, seq++), t, job.shard(), job.compaction_level() + 1)
            .Add(DatasetSpec{t, "api", kT0, kT0 + 1000, {{{"service_name", "api"}}}, 100})
            .Build();
    EMBERS_RETURN_IF_ERROR(bucket->Put(block::ObjectKey(out), "compacted"));
    r.outputs.push_back(std::move(out));
  }
  return r;
}

class CompactionWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    metastore::MetastoreNodeOptions o;
    o.data_dir = dir_.path();
    o.bind_address = StrCat("127.0.0.1:", embers::testing::FreeLoopbackPort());
    o.raft.election_timeout_ms = 300;
    o.raft.heartbeat_timeout_ms = 30;
    o.compaction.planner.max_blocks = {4, 4, 4};
    o.compaction.planner.lease_duration = absl::Milliseconds(1500);
    o.compaction.planner.failure_backoff = absl::Milliseconds(10);
    o.compaction.cleanup_delay = absl::ZeroDuration();
    ConfigureNode(o);
    auto node = metastore::MetastoreNode::Open(std::move(o));
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = std::move(*node);
    ASSERT_TRUE(node_->WaitReady(absl::Seconds(10)).ok());
  }
  virtual void ConfigureNode(metastore::MetastoreNodeOptions&) {}

  // Indexes a segment holding data of two tenants and puts a placeholder object at its key.
  void AddSegment(uint64_t seq) {
    v1::BlockMeta b =
        BlockBuilder(TestId(kT0 + static_cast<int64_t>(seq), seq), "", 1, 0)
            .Add(DatasetSpec{"t1", "api", kT0, kT0 + 1000, {{{"service_name", "api"}}}, 100})
            .Add(DatasetSpec{"t2", "api", kT0, kT0 + 1000, {{{"service_name", "api"}}}, 100})
            .Build();
    ASSERT_TRUE(bucket_.Put(block::ObjectKey(b), "segment").ok());
    v1::AddBlockRequest req;
    *req.mutable_block() = b;
    v1::AddBlockResponse resp;
    ASSERT_TRUE(Wait([&](UnaryDone d) {
                  node_->index_service()->AddBlock(CallContext{}, req, &resp, std::move(d));
                }).ok());
  }

  std::unique_ptr<CompactionWorker> NewWorker(std::string id, CompactionJobExecutor executor,
                                              absl::Duration poll = absl::Milliseconds(50)) {
    CompactionWorkerOptions o;
    o.worker_id = std::move(id);
    o.job_concurrency = 2;
    o.poll_interval = poll;
    o.retry_backoff = absl::Milliseconds(10);
    auto w = std::make_unique<CompactionWorker>(o, &bucket_, node_->compaction_service(),
                                                std::move(executor));
    w->Start();
    return w;
  }

  v1::CompactionStatus Status() {
    v1::GetCompactionStatusRequest req;
    v1::GetCompactionStatusResponse resp;
    EXPECT_TRUE(Wait([&](UnaryDone d) {
                  node_->compaction_service()->GetCompactionStatus(CallContext{}, req, &resp,
                                                                   std::move(d));
                }).ok());
    return resp.status();
  }

  size_t Segments() {
    auto keys = objstore::ListKeys(bucket_, "segments/");
    return keys.ok() ? keys->size() : 0;
  }

  objstore::TempDir dir_;
  objstore::MemoryBucket bucket_;
  std::unique_ptr<metastore::MetastoreNode> node_;
};

TEST_F(CompactionWorkerTest, CompactsSegmentsAndDeletesTheReplacedObjects) {
  for (uint64_t s = 1; s <= 8; ++s) AddSegment(s);
  auto worker = NewWorker("w1", [this](const v1::CompactionJob& job, const std::atomic<bool>&) {
    return FakeCompact(&bucket_, job);
  });
  const metastore::BlockIndex& index = node_->local_index();
  // 8 segments → 2 jobs → 2 blocks per tenant at level 1, which wait for more (4 make a job).
  ASSERT_TRUE(WaitFor(
      [&] { return index.BlockCountsByLevel().size() > 1 && index.BlockCountsByLevel()[0] == 0; }));
  EXPECT_EQ(index.BlockCountsByLevel()[1], 4u);  // 2 jobs x 2 tenants
  // With no deletion delay the segments go and their tombstones are forgotten.
  ASSERT_TRUE(WaitFor([&] { return Segments() == 0 && index.Tombstones().empty(); }))
      << Segments() << " segments, " << index.Tombstones().size() << " tombstones";
  EXPECT_EQ(worker->stats().jobs_succeeded, 2u);
  EXPECT_EQ(worker->stats().objects_deleted, 8u);
  v1::CompactionStatus status = Status();
  EXPECT_EQ(status.deleted_objects(), 8u);
  EXPECT_EQ(status.levels(0).jobs_completed(), 2u);
  EXPECT_EQ(status.levels(1).queued_blocks(), 4u);
  worker->Stop(absl::Now() + absl::Seconds(5));
}

TEST_F(CompactionWorkerTest, AbandonsAJobWhoseLeaseWasLostAndAnotherWorkerFinishesIt) {
  for (uint64_t s = 1; s <= 4; ++s) AddSegment(s);
  std::atomic<bool> slow_started{false};
  // The slow worker polls less often than its lease lasts, so the lease runs out mid-job.
  auto slow = NewWorker(
      "slow",
      [&](const v1::CompactionJob&,
          const std::atomic<bool>& cancel) -> absl::StatusOr<CompactionJobResult> {
        slow_started = true;
        while (!cancel) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return absl::CancelledError("cancelled");
      },
      absl::Seconds(3));
  ASSERT_TRUE(WaitFor([&] { return slow_started.load(); }));
  auto fast = NewWorker("fast", [this](const v1::CompactionJob& job, const std::atomic<bool>&) {
    return FakeCompact(&bucket_, job);
  });
  const metastore::BlockIndex& index = node_->local_index();
  ASSERT_TRUE(WaitFor([&] { return index.BlockCountsByLevel()[0] == 0; }));
  EXPECT_EQ(fast->stats().jobs_succeeded, 1u);
  // The slow worker learns at its next poll that the job is no longer its own.
  ASSERT_TRUE(WaitFor([&] { return slow->stats().jobs_abandoned == 1; }));
  EXPECT_EQ(slow->stats().jobs_succeeded, 0u);
  slow->Stop(absl::Now());
  fast->Stop(absl::Now());
}

TEST_F(CompactionWorkerTest, ReportsFailuresUntilTheJobIsParked) {
  for (uint64_t s = 1; s <= 4; ++s) AddSegment(s);
  std::atomic<int> calls{0};
  auto worker = NewWorker(
      "w1",
      [&](const v1::CompactionJob&,
          const std::atomic<bool>&) -> absl::StatusOr<CompactionJobResult> {
        ++calls;
        return absl::DataLossError("object segments/1/anonymous/X/block.bin: checksum mismatch");
      });
  ASSERT_TRUE(WaitFor([&] { return worker->stats().jobs_failed == 3; }));
  v1::CompactionStatus status;
  ASSERT_TRUE(WaitFor([&] {
    status = Status();
    return status.parked_jobs_size() == 1;
  }));
  EXPECT_NE(status.parked_jobs(0).last_error().find("checksum mismatch"), std::string::npos);
  // Parked: never handed out again; the segments stay indexed.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(node_->local_index().BlockCount(), 4u);
  worker->Stop(absl::Now());
}

TEST_F(CompactionWorkerTest, RetriesTransientErrorsInsideTheJob) {
  for (uint64_t s = 1; s <= 4; ++s) AddSegment(s);
  std::atomic<int> calls{0};
  auto worker = NewWorker("w1",
                          [&](const v1::CompactionJob& job,
                              const std::atomic<bool>&) -> absl::StatusOr<CompactionJobResult> {
                            if (++calls < 3)
                              return absl::UnavailableError("bucket: connection reset");
                            return FakeCompact(&bucket_, job);
                          });
  ASSERT_TRUE(WaitFor([&] { return worker->stats().jobs_succeeded == 1; }));
  EXPECT_EQ(worker->stats().jobs_failed, 0u);
  EXPECT_EQ(calls.load(), 3);
  worker->Stop(absl::Now());
}

TEST_F(CompactionWorkerTest, MalformedPollsAreRejected) {
  auto poll = [&](const v1::PollCompactionJobsRequest& req) {
    v1::PollCompactionJobsResponse resp;
    return Wait([&](UnaryDone d) {
      node_->compaction_service()->PollCompactionJobs(CallContext{}, req, &resp, std::move(d));
    });
  };
  v1::PollCompactionJobsRequest req;
  req.set_job_capacity(1);
  EXPECT_EQ(poll(req).code(), absl::StatusCode::kInvalidArgument);  // no worker id
  req.set_worker_id("w1");
  EXPECT_TRUE(poll(req).ok());
  req.set_job_capacity(65);  // one poll may not ask for an unbounded number of jobs
  absl::Status s = poll(req);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("job_capacity"), std::string::npos) << s;
  req.set_job_capacity(1);
  req.add_status_updates()->set_name("job-a");
  req.add_status_updates()->set_name("job-a");
  EXPECT_EQ(poll(req).code(), absl::StatusCode::kInvalidArgument);  // reported twice
}

// A poll that may wait is held while there is nothing to hand out, and answered with the job as
// soon as a batch fills — not when its wait runs out (a minute here, past the test's patience).
class HeldPollTest : public CompactionWorkerTest {
  void ConfigureNode(metastore::MetastoreNodeOptions& o) override {
    o.compaction.max_poll_wait = absl::Minutes(1);
    o.compaction.max_pending_polls = 3;
  }
};

// Held polls count against the bound on waiting polls: past it a poll is refused, not queued.
TEST_F(HeldPollTest, HeldPollsAreBounded) {
  struct Call {
    v1::PollCompactionJobsRequest request;
    v1::PollCompactionJobsResponse response;
    std::promise<absl::Status> done;
  };
  std::vector<std::unique_ptr<Call>> calls;
  std::vector<std::future<absl::Status>> answers;
  for (int i = 0; i < 4; ++i) {
    auto c = std::make_unique<Call>();
    c->request.set_worker_id(StrCat("w", i));
    c->request.set_job_capacity(1);
    c->request.set_max_wait_ms(60000);
    answers.push_back(c->done.get_future());
    Call* raw = c.get();
    calls.push_back(std::move(c));
    node_->compaction_service()->PollCompactionJobs(
        CallContext{}, raw->request, &raw->response,
        [raw](absl::Status s) { raw->done.set_value(std::move(s)); });
    if (i < 3) {
      // Held (nothing to hand out) before the next one comes.
      EXPECT_EQ(answers[i].wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
    }
  }
  ASSERT_EQ(answers[3].wait_for(std::chrono::seconds(20)), std::future_status::ready);
  absl::Status refused = answers[3].get();
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable) << refused;
  EXPECT_NE(std::string(refused.message()).find("busy"), std::string::npos) << refused;
  node_.reset();  // the held ones are answered when the metastore stops
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(answers[i].wait_for(std::chrono::seconds(20)), std::future_status::ready);
    EXPECT_EQ(answers[i].get().code(), absl::StatusCode::kUnavailable);
  }
}

TEST_F(HeldPollTest, AnIdleWorkersPollIsAnsweredWhenABatchFills) {
  struct Call {
    v1::PollCompactionJobsRequest request;
    v1::PollCompactionJobsResponse response;
    std::promise<absl::Status> done;
  };
  auto start = [&](Call& c, std::string worker) {
    c.request.set_worker_id(worker);
    c.request.set_job_capacity(1);
    c.request.set_max_wait_ms(60000);
    node_->compaction_service()->PollCompactionJobs(
        CallContext{}, c.request, &c.response,
        [&c](absl::Status s) { c.done.set_value(std::move(s)); });
    return c.done.get_future();
  };
  Call held;
  std::future<absl::Status> answered = start(held, "w1");
  for (uint64_t s = 1; s <= 3; ++s) AddSegment(s);  // a batch of 4 is not full yet
  EXPECT_EQ(answered.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout)
      << "an empty poll was answered although it may wait";
  AddSegment(4);
  ASSERT_EQ(answered.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  ASSERT_TRUE(answered.get().ok());
  ASSERT_EQ(held.response.compaction_jobs_size(), 1);
  EXPECT_EQ(held.response.compaction_jobs(0).source_blocks_size(), 4);
  EXPECT_EQ(held.response.assignments_size(), 1);

  // A worker that holds a job is answered at once (it has leases to renew and reports to make).
  Call busy;
  busy.request.set_worker_id("w1");
  busy.request.set_job_capacity(1);
  busy.request.set_max_wait_ms(60000);
  v1::CompactionJobStatusUpdate* u = busy.request.add_status_updates();
  u->set_name(held.response.assignments(0).name());
  u->set_token(held.response.assignments(0).token());
  u->set_status(v1::COMPACTION_STATUS_IN_PROGRESS);
  node_->compaction_service()->PollCompactionJobs(
      CallContext{}, busy.request, &busy.response,
      [&busy](absl::Status s) { busy.done.set_value(std::move(s)); });
  std::future<absl::Status> busy_answered = busy.done.get_future();
  ASSERT_EQ(busy_answered.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_TRUE(busy_answered.get().ok());
  EXPECT_EQ(busy.response.assignments_size(), 1);

  // A held poll is answered Unavailable when the metastore stops. (Another worker: w1 would get
  // its job handed out again, as it did not report it.)
  Call stopped;
  std::future<absl::Status> stopped_answered = start(stopped, "w2");
  EXPECT_EQ(stopped_answered.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  node_.reset();
  ASSERT_EQ(stopped_answered.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_EQ(stopped_answered.get().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace embers::compactor
