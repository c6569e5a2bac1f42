// CompactionState: the replicated half of compaction planning — the blocks waiting to be compacted
// and the compaction jobs (reference §7.1-7.3, DESIGN §6).
//
// Every block indexed below the top level joins a batch keyed by (level, partition, tenant,
// shard): level-0 segments (tenant "") of one shard and 6 h data partition wait together, compacted
// blocks per tenant. The metastore leader cuts jobs from the batches and assigns them to workers
// (compaction_planner.h); it does not change this state itself but proposes a
// CompactionPlanUpdate through Raft, and every replica applies it here (ApplyPlan). Each element
// of a plan applies only where the state still matches what the leader saw — the named blocks
// are still queued, the job still has the token the leader read — so a plan computed by a
// deposed leader, or on a state a little behind the log, can never assign a job twice or complete
// it twice. A completed job replaces its sources by its outputs in the BlockIndex in the same
// apply (atomically for readers of the index), tombstones the sources and queues the outputs for
// the next level.
//
// The fencing token of an assignment is the Raft index of the entry that made it: unique and
// increasing, so an update from a worker whose lease expired (older token) is refused.
//
// Snapshots: Capture() returns an immutable view in O(batches + jobs) without copying blocks or
// jobs (copy-on-write: the first change of a batch or job still referenced by a view copies that
// one element), so the state can be serialised on another thread while commands keep applying.
//
// Determinism: the state depends only on the applied commands and their leader times.
// Thread safety: mutations come from the apply thread only; Capture() and the status from any
// thread.
#ifndef EMBERS_METASTORE_COMPACTION_COMPACTION_STATE_H_
#define EMBERS_METASTORE_COMPACTION_COMPACTION_STATE_H_

#include <array>
#include <atomic>
#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "metastore/index/block_id.h"
#include "metastore/index/block_index.h"
#include "metastore/v1/compaction.pb.h"
#include "metastore/v1/types.pb.h"

namespace embers::metastore {

// Blocks at this level are final: never queued again (Pyroscope's level 3).
inline constexpr uint32_t kMaxCompactionLevel = 3;
// Parked jobs kept for the status page; beyond it the oldest is forgotten (its blocks stay in the
// index, uncompacted, until retention removes them).
inline constexpr size_t kMaxParkedCompactionJobs = 1000;

struct CompactionBatchKey {
  uint32_t level = 0;
  int64_t partition = 0;  // start of the 6 h data partition, ms (BlockIndex::kPartitionDurationMs)
  std::string tenant;     // "" for level-0 segments
  uint32_t shard = 0;

  friend auto operator<=>(const CompactionBatchKey&, const CompactionBatchKey&) = default;
  friend bool operator==(const CompactionBatchKey&, const CompactionBatchKey&) = default;
};

struct QueuedBlock {
  BlockId id;
  int64_t added_at_ms = 0;  // leader time of the command that indexed it
  uint64_t size = 0;
};

using CompactionBatch = std::vector<QueuedBlock>;  // oldest first
using CompactionJobPtr = std::shared_ptr<const v1::CompactionJobState>;

// The whole state at one point. Elements are shared with the live state and never change.
struct CompactionStateView {
  std::map<CompactionBatchKey, std::shared_ptr<const CompactionBatch>> batches;
  std::map<std::string, CompactionJobPtr, std::less<>> jobs;
  uint64_t next_seq = 0;
  std::array<uint64_t, kMaxCompactionLevel> completed{};  // jobs completed, by source level
  uint64_t deleted_objects = 0;
  uint64_t deleted_bytes = 0;
};

class CompactionState {
 public:
  CompactionState();
  CompactionState(const CompactionState&) = delete;
  CompactionState& operator=(const CompactionState&) = delete;

  // ---- Apply thread.

  // Queues a block just indexed (ignored at or above kMaxCompactionLevel).
  void Enqueue(const v1::BlockMeta& block, int64_t now_ms);
  // Queues every block of the index below the top level: after restoring a snapshot written
  // before compaction existed, whose blocks were never queued.
  void EnqueueAll(const BlockIndex& index, int64_t now_ms);
  // Forgets queued blocks that left the index without compaction (retention).
  void Dequeue(const v1::BlockTombstones& removed);
  // Applies a leader's plan; completions replace blocks in `index`. Elements that no longer match
  // the state are skipped. Returns an error only for a malformed plan (every replica rejects it
  // alike).
  absl::Status ApplyPlan(const v1::CompactionPlanUpdate& plan, uint64_t raft_index, int64_t now_ms,
                         BlockIndex* index);

  // ---- Any thread.

  std::shared_ptr<const CompactionStateView> Capture() const;
  // Changes with every change of the state. Read it before Capture(): a view captured after
  // reading a generation holds at least what that generation had.
  uint64_t Generation() const { return generation_.load(std::memory_order_acquire); }
  // Serialises a view as length-prefixed CompactionSnapshotRecords (deterministic bytes).
  static std::string Encode(const CompactionStateView& view);
  // Parses what Encode wrote ("" is the empty state). DataLoss for corrupt data.
  static absl::StatusOr<std::shared_ptr<CompactionStateView>> Decode(std::string_view data);
  // Replaces the whole state (snapshot restore) with a decoded one.
  void Reset(std::shared_ptr<CompactionStateView> state);

  // A new job of `blocks` (queued in the batch `key`), as a plan proposes it. Its name is
  // deterministic — a hash of the block ids, the tenant, shard and level, as Pyroscope names jobs —
  // and becomes the tombstone name of its sources.
  static v1::CompactionJobState NewJob(const CompactionBatchKey& key,
                                       std::span<const QueuedBlock> blocks);

 private:
  // The live state; copied (pointers only) on the first change after a Capture() shares it.
  CompactionStateView& Mutable();
  CompactionBatch& MutableBatch(const CompactionBatchKey& key);
  v1::CompactionJobState& MutableJob(const std::string& name);
  void CompleteJob(const v1::CompactionJobCompleted& c, int64_t now_ms, BlockIndex* index);
  void ParkOrRequeue(const v1::CompactionJobFailed& f);

  mutable std::shared_mutex mu_;
  std::shared_ptr<CompactionStateView> state_;
  // Bumped under mu_ by every change, so a reader that saw it waits in Capture() for the change.
  std::atomic<uint64_t> generation_{0};
};

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_COMPACTION_COMPACTION_STATE_H_
