// CompactionPollService: the metastore node's CompactionService — the leader's side of the
// compaction protocol (reference §7.3, compaction_planner.h for the rules).
//
// One poll: plan on a captured CompactionState (PlanCompaction), propose the plan as one
// UpdateCompactionPlanCommand, wait until it is applied here, then answer from the applied state:
// the jobs that this worker now holds (with the token the apply gave them and the sources'
// metadata from the index) and the tombstones due for deletion. A poll that changes nothing (an
// idle worker, leases far from expiry) writes nothing to the Raft log.
//
// Polls are handled one at a time on the service's own thread, so two plans never race for the
// same jobs on this leader; the conditional apply (compaction_state.h) covers plans of a deposed
// leader. No read barrier is needed: a plan made on a state slightly behind the log only has some
// of its elements skipped when applied.
//
// Held polls: a worker holding no job, with capacity and a max_wait_ms, gets no empty answer at
// once: the poll is held (at most max_poll_wait, and short of the call's deadline) and planned
// again whenever the compaction state changes (a block queued, a job done), so a batch that fills
// becomes a job and reaches an idle worker within milliseconds rather than a poll interval later.
// Held polls count against max_pending_polls; stopping answers them Unavailable.
//
// Tombstones are handed out once their deletion delay (-compaction.cleanup-delay, counted from
// the leader time they were recorded) has passed, and not again for `cleanup_lease` unless the
// worker reports them done; those leases live only in the leader's memory (a new leader hands the
// tombstones out again: deleting is idempotent).
//
// Followers answer Unavailable naming the leader, like every metastore write. Requests are checked
// as if the caller were hostile: a worker id is required, capacities and list sizes are bounded,
// reported outputs are validated before they can reach the index.
#ifndef EMBERS_METASTORE_RAFT_COMPACTION_POLL_SERVICE_H_
#define EMBERS_METASTORE_RAFT_COMPACTION_POLL_SERVICE_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "metastore/compaction/compaction_planner.h"
#include "metastore/compaction/compaction_state.h"
#include "metastore/compaction_service.h"
#include "metastore/index/block_index.h"
#include "metastore/raft/replicated_index_service.h"

namespace embers::metastore::raft {

struct CompactionServiceOptions {
  CompactionPlannerOptions planner;
  // -compaction.cleanup-delay: how long replaced or expired objects stay readable (queries planned
  // before the swap still read them) before a worker deletes them.
  absl::Duration cleanup_delay = absl::Minutes(15);
  // How long a tombstone handed to a worker is not handed out again.
  absl::Duration cleanup_lease = absl::Minutes(2);
  // Polls waiting for the planner thread or held for work; beyond it a poll answers Unavailable
  // (retry later).
  size_t max_pending_polls = 256;
  // The longest a poll is held for work, whatever the worker asks.
  absl::Duration max_poll_wait = absl::Seconds(5);
  // How often held polls look for a change of the compaction state.
  absl::Duration held_poll_recheck = absl::Milliseconds(5);
  // Bounds on what one request may carry.
  uint32_t max_job_capacity = 64;
  uint32_t max_cleanup_capacity = 64;
  int max_status_updates = 4096;
};

class CompactionPollService final : public CompactionService {
 public:
  // ms since the epoch; by default the clock that stamps the service's proposals.
  using Clock = std::function<int64_t()>;

  // None of the pointers is owned; all must outlive the service. `is_ready_leader` says whether
  // this node is the leader and has applied its post-election barrier.
  CompactionPollService(ReplicatedIndexService* service, Consensus* consensus,
                        const BlockIndex* index, const CompactionState* state,
                        std::function<bool()> is_ready_leader, CompactionServiceOptions options,
                        Clock clock = nullptr);
  // Pending polls complete with Unavailable.
  ~CompactionPollService() override;

  void PollCompactionJobs(const CallContext& ctx, const v1::PollCompactionJobsRequest& request,
                          v1::PollCompactionJobsResponse* response, UnaryDone done) override;
  // Answered from this node's replica (no leader needed).
  void GetCompactionStatus(const CallContext& ctx, const v1::GetCompactionStatusRequest& request,
                           v1::GetCompactionStatusResponse* response, UnaryDone done) override;

  // The status as GetCompactionStatus answers it.
  v1::CompactionStatus Status() const;

 private:
  struct Poll {
    const v1::PollCompactionJobsRequest* request;
    v1::PollCompactionJobsResponse* response;
    UnaryDone done;
    absl::Time hold_until;            // how long it may be held for work (InfinitePast: answer now)
    uint64_t planned_generation = 0;  // the compaction state it was last planned on
  };

  void Loop();
  // Plans `poll` and answers it, or holds it when there is nothing to answer and it may wait.
  void Answer(Poll poll);
  // Sets `*idle` when the answer is empty and the poll changed nothing (it may then be held).
  absl::Status Handle(const v1::PollCompactionJobsRequest& request,
                      v1::PollCompactionJobsResponse* response, bool* idle);
  // Adds the tombstones due for deletion to `response` and leases them.
  void HandOutCleanup(const v1::PollCompactionJobsRequest& request, int64_t now_ms,
                      v1::PollCompactionJobsResponse* response);

  ReplicatedIndexService* service_;
  Consensus* consensus_;
  const BlockIndex* index_;
  const CompactionState* state_;
  std::function<bool()> is_ready_leader_;
  const CompactionServiceOptions options_;
  Clock clock_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Poll> pending_;  // guarded by mu_
  std::deque<Poll> held_;     // guarded by mu_: polls waiting for work, oldest first
  bool stopping_ = false;     // guarded by mu_
  // Tombstone name → leader time (ms) until which it is not handed out again. Only the planner
  // thread touches it; expired entries are dropped on every poll, so it holds at most the
  // tombstones handed out within one lease.
  std::map<std::string, int64_t, std::less<>> cleanup_leases_;
  std::thread thread_;
};

}  // namespace embers::metastore::raft

#endif  // EMBERS_METASTORE_RAFT_COMPACTION_POLL_SERVICE_H_
