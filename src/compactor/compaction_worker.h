// CompactionWorker: the compaction-worker component (-target=compaction-worker, inside `all`;
// reference §7.4, DESIGN §2).
//
// It polls the metastore's CompactionService with the status of the jobs it holds, its free
// capacity and the tombstones it has executed. New jobs run on its job threads
// (-compaction-worker.job-concurrency): the executor merges the job's source objects into larger
// blocks and uploads them (compaction_job_executor.h); the next poll reports the outputs and the
// metastore swaps them for the sources. A job that is missing from a poll's assignments was
// reassigned (its lease ran out): it is cancelled and forgotten. Output ids are deterministic, so
// two workers that ran one job wrote the same objects and no half-written block can ever be
// indexed: blocks reach the index only with a completion, after their upload.
//
// Tombstones handed out by the metastore are executed on a cleanup thread: every object they name
// is deleted (idempotent), then they are reported as cleaned and the metastore forgets them.
//
// Errors: a transient failure (Unavailable, DeadlineExceeded: the bucket or the network) is
// retried inside the job with backoff while the lease is kept; anything else is reported as
// FAILURE with the error, and the metastore parks the job after -compaction.max-failures. A
// worker that cannot reach the metastore keeps its results and reports them once it can.
//
// Threading: Start/Stop from the owner; everything else on the worker's own threads.
#ifndef EMBERS_COMPACTOR_COMPACTION_WORKER_H_
#define EMBERS_COMPACTOR_COMPACTION_WORKER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/worker_pool.h"
#include "metastore/compaction_service.h"
#include "metastore/v1/compaction.pb.h"
#include "objstore/bucket.h"

namespace embers::compactor {

namespace v1 = ::metastore::v1;

// What a job wrote, as the executor reports it.
struct CompactionJobResult {
  std::vector<v1::BlockMeta> outputs;
  uint64_t input_bytes = 0;
  uint64_t output_bytes = 0;
  uint64_t input_rows = 0;
  uint64_t output_rows = 0;
  uint64_t duplicate_rows = 0;
  uint64_t samples = 0;
  uint64_t missing_sources = 0;
};

// Runs one job: reads job.source_metas from the bucket, writes the outputs, returns their
// metadata. Must return promptly with Cancelled once `cancel` is set.
using CompactionJobExecutor = std::function<absl::StatusOr<CompactionJobResult>(
    const v1::CompactionJob& job, const std::atomic<bool>& cancel)>;

struct CompactionWorkerOptions {
  // Unique per process: host name and pid.
  std::string worker_id;
  int job_concurrency = 1;                                 // -compaction-worker.job-concurrency
  absl::Duration poll_interval = absl::Milliseconds(500);  // -compaction-worker.job-poll-interval
  absl::Duration poll_timeout = absl::Seconds(10);  // one poll, retries to the leader included
  uint32_t cleanup_capacity = 8;                    // tombstones taken per poll
  int transient_retries = 3;                        // per job, for Unavailable/DeadlineExceeded
  absl::Duration retry_backoff = absl::Milliseconds(500);
};

class CompactionWorker {
 public:
  // `bucket` and `metastore` must outlive the worker.
  CompactionWorker(CompactionWorkerOptions options, objstore::Bucket* bucket,
                   metastore::CompactionService* metastore, CompactionJobExecutor executor);
  ~CompactionWorker();  // Stop()s
  CompactionWorker(const CompactionWorker&) = delete;
  CompactionWorker& operator=(const CompactionWorker&) = delete;

  void Start();
  // No new jobs; running ones may finish and are reported by `deadline`, then cancelled.
  void Stop(absl::Time deadline);

  // Counters for tests and logs.
  struct Stats {
    uint64_t polls = 0;
    uint64_t poll_errors = 0;
    uint64_t jobs_started = 0;
    uint64_t jobs_succeeded = 0;
    uint64_t jobs_failed = 0;
    uint64_t jobs_abandoned = 0;
    uint64_t tombstones_cleaned = 0;
    uint64_t objects_deleted = 0;
  };
  Stats stats() const;

 private:
  enum class JobState { kRunning, kSucceeded, kFailed };
  struct Job {
    v1::CompactionJob spec;
    uint64_t token = 0;
    std::atomic<bool> cancel{false};
    JobState state = JobState::kRunning;  // guarded by mu_
    CompactionJobResult result;           // guarded by mu_ once not running
    std::string error;                    // guarded by mu_
  };

  void PollLoop();
  // One poll; false when it failed (the reports are kept for the next one).
  bool PollOnce();
  void RunJob(std::shared_ptr<Job> job);
  void CleanupLoop();
  absl::Status Clean(const v1::BlockTombstones& tombstone);

  const CompactionWorkerOptions options_;
  objstore::Bucket* bucket_;
  metastore::CompactionService* metastore_;
  CompactionJobExecutor executor_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;   // guarded by mu_: no new jobs, loops exit
  bool wake_poll_ = false;  // guarded by mu_: a job finished, report it now
  bool exit_ = false;       // guarded by mu_: the poll and cleanup threads return
  std::map<std::string, std::shared_ptr<Job>> jobs_;  // held jobs; guarded by mu_
  int running_ = 0;                                   // guarded by mu_
  // Tombstones to execute, and the names executed since the last poll; guarded by mu_. At most
  // cleanup_capacity are asked for while the queue is not empty, so it stays bounded.
  std::deque<v1::BlockTombstones> cleanup_;
  std::vector<std::string> cleaned_;
  Stats stats_;  // guarded by mu_

  std::unique_ptr<WorkerPool> pool_;
  std::thread poll_thread_;
  std::thread cleanup_thread_;
};

}  // namespace embers::compactor

#endif  // EMBERS_COMPACTOR_COMPACTION_WORKER_H_
