// CompactionPlanner: what the metastore leader decides when a compaction-worker polls (reference
// §7.1-7.3): which queued blocks become jobs, which jobs the worker gets, which leases it renews,
// and what becomes of the jobs it reports on.
//
// PlanCompaction is a pure function of a captured CompactionStateView, the worker's request and
// the leader's clock; the CompactionPollService (compaction_poll_service.h) proposes its result
// as one Raft command and every replica applies it (CompactionState::ApplyPlan). Only the leader
// runs it, so replicas never need identical planning code or settings.
//
// Rules:
//  - Jobs: a batch (level, partition, tenant, shard) yields a job of max_blocks(level) blocks,
//    oldest first — or of fewer, once they hold max_bytes(level) — as often as it holds that
//    many; the rest becomes a smaller job once its oldest block waited max_age(level). At most
//    max_jobs jobs exist (queued, running and parked), and a poll creates at most
//    max_new_jobs_per_poll.
//  - Assignment: up to the worker's capacity, queued jobs of the lowest level first (oldest first
//    within a level), then running jobs whose lease expired. A lease lasts lease_duration; the
//    token is the Raft index of the entry that assigns it.
//  - Failures: a job fails when its worker reports FAILURE or its lease expires. It is queued
//    again after failure_backoff × failures, and parked (never assigned again, kept with its last
//    error for the status page) once it failed max_failures times.
//  - A worker's report is taken only from the worker holding the job's current token; otherwise
//    the job is left out of the answer's assignments and the worker abandons it. Outputs of a
//    completed job are checked (valid metadata, the job's shard, the next level, one tenant per
//    block, the job's tenant above level 0, no id twice) before they can reach the index.
#ifndef EMBERS_METASTORE_COMPACTION_COMPACTION_PLANNER_H_
#define EMBERS_METASTORE_COMPACTION_COMPACTION_PLANNER_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "metastore/compaction/compaction_state.h"
#include "metastore/v1/compaction.pb.h"

namespace embers::metastore {

struct CompactionPlannerOptions {
  // Per source level (-compaction.batch-max-blocks, -compaction.batch-max-age).
  std::array<uint32_t, kMaxCompactionLevel> max_blocks = {16, 10, 10};
  std::array<absl::Duration, kMaxCompactionLevel> max_age = {absl::Seconds(36), absl::Minutes(12),
                                                             absl::Hours(3)};
  // A batch also becomes a job once its oldest blocks hold this many bytes
  // (-compaction.batch-max-bytes): at a high ingest rate level-0 jobs stay small and come sooner.
  std::array<uint64_t, kMaxCompactionLevel> max_bytes = {16ull << 20, 512ull << 20, 4ull << 30};
  absl::Duration lease_duration = absl::Seconds(15);  // -compaction.job-lease-duration
  uint32_t max_failures = 3;                          // -compaction.max-failures
  absl::Duration failure_backoff = absl::Seconds(15);
  size_t max_jobs = 10000;  // -compaction.max-job-queue-size
  size_t max_new_jobs_per_poll = 64;
};

struct CompactionPlan {
  v1::CompactionPlanUpdate update;
  // Jobs the poll assigns to the worker (in update.assigned), and held jobs it goes on with.
  std::vector<std::string> assigned;
  std::vector<std::string> kept;

  bool empty() const;
};

CompactionPlan PlanCompaction(const CompactionStateView& state,
                              const v1::PollCompactionJobsRequest& request, int64_t now_ms,
                              const CompactionPlannerOptions& options);

// Checks the outputs a worker reports for `job` (see the rules above).
absl::Status ValidateCompactionOutputs(
    const v1::CompactionJobState& job,
    const google::protobuf::RepeatedPtrField<v1::BlockMeta>& outputs);

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_COMPACTION_COMPACTION_PLANNER_H_
