// MetastoreFsm: the metastore's replicated state machine — RaftCommands applied to a BlockIndex.
//
// The consensus engine (raft_consensus.h) calls Apply for every committed log entry on every
// replica, in log order, and Snapshot/Restore to bound the log. ReplicatedIndexService builds
// the commands (EncodeCommand) and proposes them.
//
// Determinism: Apply depends only on the command bytes and the state; time comes from the
// leader inside the command (leader_time_ms), never from the local clock.
//
// Idempotency: a proposal whose leader lost leadership has an unknown outcome (libraft-notes
// gotcha 3), so clients retry with the same request id. The state machine remembers the results
// of the last `dedup_window` request ids (part of the snapshot, so every replica agrees) and
// answers a known id with its recorded result without applying it again. Beyond the window the
// commands are still safe to repeat: AddBlock is idempotent by block id and ReplaceBlocks by
// tombstone name.
//
// Batches: a RaftCommandBatch applies its commands in order, each with its own request id (so a
// block retried alone after its batch's outcome was unknown is recognised). The batch's result is
// OK when every command succeeded; otherwise the first failure's code, with the per-command
// results attached as a RaftBatchResults payload under kBatchResultsPayload (BatchResults reads
// it back).
//
// Node endpoints: SetNodeEndpointCommand fills a replicated table node id → gRPC address (part of
// the snapshot) that NodeEndpoint() reads, so any replica can name the leader's gRPC endpoint.
// Tenant settings (settings.v1, tenant_settings.h) are kept the same way: a small bounded table
// applied from SetTenantSettingRequest commands and stored in the snapshot header; so is the
// member table with the placement rules (membership/member_table.h).
//
// Snapshots: Capture() runs on the apply thread and only takes cheap views of each part of the
// state: the header (applied index, leader time, the dedup window's chunks, the endpoint table)
// and BlockIndex::Capture(). The capture's Prepare maps its output buffers on a normal-priority
// thread; its Serialize then runs on the engine's idle-priority snapshot thread while commands
// keep applying, and streams one section per part through the compressor into those buffers
// (fsm_snapshot_format.h, version 4).
// Restore decodes and checks every section before changing any part, so a bad snapshot leaves
// the whole state as it was.
//
// The compaction planner's state (compaction_state.h) is the third section. Adding a part of
// the replicated state to snapshots:
//  1. a tag in FsmSection (fsm_snapshot_format.h) and its case in IsKnown there;
//  2. in Capture(): store the part's cheap capture in the FsmCapture (metastore_fsm.cc);
//  3. in FsmCapture::Serialize: one writer.AddSection(tag, ...) call, in tag order;
//  4. in Restore(): decode the section (absent in older snapshots: decide what that means)
//     next to the others, and install it with them after every section decoded.
//
// Thread safety: Apply/Capture/Restore are called by one thread at a time (the engine's);
// applied_index() and leader_time_ms() may be read from any thread. Readers query the BlockIndex
// directly (it has its own lock).
#ifndef EMBERS_METASTORE_RAFT_METASTORE_FSM_H_
#define EMBERS_METASTORE_RAFT_METASTORE_FSM_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "metastore/compaction/compaction_state.h"
#include "metastore/index/block_index.h"
#include "metastore/membership/member_table.h"
#include "metastore/raft/consensus.h"
#include "metastore/raft/dedup_window.h"
#include "metastore/raft/fsm_snapshot_format.h"
#include "metastore/tenant_settings.h"
#include "metastore/v1/raft_log.pb.h"

namespace embers::metastore::raft {

class MetastoreFsm final : public StateMachine {
 public:
  static constexpr size_t kDefaultDedupWindow = 100000;
  static constexpr std::string_view kBatchResultsPayload =
      "type.googleapis.com/metastore.v1.RaftBatchResults";

  // `index` must outlive the state machine; it is the state.
  explicit MetastoreFsm(BlockIndex* index, size_t dedup_window = kDefaultDedupWindow);

  absl::Status Apply(uint64_t index, std::string_view command) override;
  std::unique_ptr<StateCapture> Capture() override;
  absl::Status Restore(std::string_view snapshot) override;

  static std::string EncodeCommand(const v1::RaftCommand& command);
  // The result of command i of a batch of `n` whose combined result was `batch_result`.
  static std::vector<absl::Status> BatchResults(const absl::Status& batch_result, size_t n);

  // The gRPC address node `node_id` announced ("" when unknown). Any thread.
  std::string NodeEndpoint(uint64_t node_id) const;

  // Raft index of the last applied command (0: none).
  uint64_t applied_index() const { return applied_index_.load(std::memory_order_acquire); }
  int64_t leader_time_ms() const { return leader_time_ms_.load(std::memory_order_acquire); }
  size_t dedup_entries() const { return dedup_.size(); }
  // The replicated compaction planner state (queued blocks, jobs). Read from any thread.
  const CompactionState& compaction() const { return compaction_; }
  // Every tenant's settings.v1 pairs. Read from any thread.
  const TenantSettings& settings() const { return settings_; }
  // The cluster's members and placement rules (membership.proto). Read from any thread.
  const MemberTable& members() const { return members_; }
  MemberTable& mutable_members() { return members_; }  // to set its change callback

  // What consecutive snapshots share (captures hold it: they may outlive the FSM).
  struct SnapshotScratch {
    std::mutex mu;              // held while a capture serialises
    FsmSnapshotScratch writer;  // guarded by mu
    std::atomic<size_t> last_compressed_bytes{0};
  };

 private:
  absl::Status ApplyCommand(const v1::RaftCommand& command);
  // One command with de-duplication by request id.
  absl::Status ApplyOne(const v1::RaftCommand& command);
  absl::Status ApplyBatch(const v1::RaftCommandBatch& batch);

  BlockIndex* index_;
  CompactionState compaction_;
  TenantSettings settings_;
  MemberTable members_;
  std::atomic<uint64_t> applied_index_{0};
  std::atomic<int64_t> leader_time_ms_{0};
  DedupWindow dedup_;
  std::shared_ptr<SnapshotScratch> snapshot_scratch_ = std::make_shared<SnapshotScratch>();
  // Commands are parsed into an arena whose first block is this buffer, reused by every Apply
  // (one thread at a time): a batch of a thousand blocks is otherwise tens of thousands of small
  // allocations and frees on every replica.
  std::unique_ptr<char[]> arena_block_;
  mutable std::mutex endpoints_mu_;
  std::map<uint64_t, std::string> endpoints_;  // guarded by endpoints_mu_
};

}  // namespace embers::metastore::raft

#endif  // EMBERS_METASTORE_RAFT_METASTORE_FSM_H_
