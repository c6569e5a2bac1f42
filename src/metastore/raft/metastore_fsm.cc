#include "metastore/raft/metastore_fsm.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <utility>

#include "absl/strings/cord.h"
#include "base/status.h"
#include "base/strings.h"
#include "google/protobuf/arena.h"
#include "metastore/raft/fsm_snapshot_format.h"

namespace embers::metastore::raft {

namespace {

constexpr size_t kArenaBlockBytes = 4 << 20;

// The FSM's own part of a capture: the fields of RaftSnapshotHeader.
struct HeaderCapture {
  uint64_t applied_index = 0;
  int64_t leader_time_ms = 0;
  DedupWindow::Captured dedup;
  std::map<uint64_t, std::string> endpoints;
  google::protobuf::RepeatedPtrField<v1::SetTenantSettingRequest> settings;
  v1::RaftSnapshotHeader members;  // only its member fields are set

  void SerializeTo(std::string* out) const {
    v1::RaftSnapshotHeader header;
    header.set_applied_index(applied_index);
    header.set_leader_time_ms(leader_time_ms);
    dedup.AppendTo(header.mutable_recent_requests());
    for (const auto& [id, address] : endpoints) {
      v1::SetNodeEndpointCommand* e = header.add_node_endpoints();
      e->set_node_id(id);
      e->set_grpc_address(address);
    }
    *header.mutable_tenant_settings() = settings;
    *header.mutable_members() = members.members();
    *header.mutable_placement_rules() = members.placement_rules();
    header.set_cluster_version(members.cluster_version());
    header.AppendToString(out);
  }
};

// Every part of the state as of one applied command; serialised on the engine's snapshot thread.
class FsmCapture final : public StateCapture {
 public:
  FsmCapture(HeaderCapture header, std::unique_ptr<IndexCapture> index,
             std::shared_ptr<const CompactionStateView> compaction,
             std::shared_ptr<MetastoreFsm::SnapshotScratch> scratch)
      : header_(std::move(header)),
        index_(std::move(index)),
        compaction_(std::move(compaction)),
        scratch_(std::move(scratch)) {}

  void Prepare() override {
    // The output is sized from the previous snapshot's compressed size plus a quarter (or ~40
    // bytes per block for the first one, about what level-1 zstd makes of the index records),
    // so that the serialiser normally writes only into memory mapped here. Populating 50 MB
    // takes ~10 ms of this normal-priority thread.
    const size_t last = scratch_->last_compressed_bytes.load();
    const size_t expected = (last > 0 ? last / 4 * 5 : index_->block_count() * 40) +
                            header_.dedup.size() * 32 + (1 << 20);
    output_.Reserve(expected);
  }

  absl::StatusOr<std::vector<std::string_view>> Serialize() override {
    std::lock_guard<std::mutex> lock(scratch_->mu);  // one writer per scratch at a time
    FsmSnapshotWriter writer(&scratch_->writer, &output_);
    writer.AddSection(FsmSection::kHeader, [&](FsmSnapshotWriter::Sink sink) {
      std::string bytes;
      header_.SerializeTo(&bytes);
      sink(bytes);
    });
    writer.AddSection(FsmSection::kIndex,
                      [&](FsmSnapshotWriter::Sink sink) { index_->SerializeTo(sink); });
    writer.AddSection(FsmSection::kCompaction, [&](FsmSnapshotWriter::Sink sink) {
      sink(CompactionState::Encode(*compaction_));
    });
    writer.Finish();
    scratch_->last_compressed_bytes.store(output_.size());
    return output_.pieces();
  }

 private:
  HeaderCapture header_;
  std::unique_ptr<IndexCapture> index_;
  std::shared_ptr<const CompactionStateView> compaction_;
  std::shared_ptr<MetastoreFsm::SnapshotScratch> scratch_;
  // The snapshot bytes, kept until the engine destroys the capture on a normal-priority thread.
  SnapshotOutput output_;
};

}  // namespace

MetastoreFsm::MetastoreFsm(BlockIndex* index, size_t dedup_window)
    : index_(index), dedup_(dedup_window), arena_block_(new char[kArenaBlockBytes]) {}

std::string MetastoreFsm::EncodeCommand(const v1::RaftCommand& command) {
  std::string out;
  command.SerializeToString(&out);
  return out;
}

absl::Status MetastoreFsm::Apply(uint64_t index, std::string_view command) {
  // Whatever happens, the entry is consumed: a malformed entry is an error result on every
  // replica alike, never a stall of the log.
  applied_index_.store(index, std::memory_order_release);
  google::protobuf::ArenaOptions arena_options;
  arena_options.initial_block = arena_block_.get();
  arena_options.initial_block_size = kArenaBlockBytes;
  arena_options.max_block_size = 1 << 20;
  google::protobuf::Arena arena(arena_options);
  v1::RaftCommand& cmd = *google::protobuf::Arena::CreateMessage<v1::RaftCommand>(&arena);
  if (!cmd.ParseFromArray(command.data(), static_cast<int>(command.size()))) {
    return absl::InvalidArgumentError(StrCat("malformed raft command at index ", index));
  }
  if (cmd.leader_time_ms() > leader_time_ms_.load(std::memory_order_relaxed)) {
    leader_time_ms_.store(cmd.leader_time_ms(), std::memory_order_release);
  }
  if (cmd.has_batch()) return ApplyBatch(cmd.batch());
  return ApplyOne(cmd);
}

absl::Status MetastoreFsm::ApplyOne(const v1::RaftCommand& cmd) {
  if (!cmd.request_id().empty()) {
    const absl::Status* recorded = dedup_.Find(cmd.request_id());
    if (recorded != nullptr) return *recorded;  // a retry of an applied request
  }
  absl::Status result = ApplyCommand(cmd);
  if (!cmd.request_id().empty()) dedup_.Remember(cmd.request_id(), result);
  return result;
}

absl::Status MetastoreFsm::ApplyBatch(const v1::RaftCommandBatch& batch) {
  v1::RaftBatchResults results;
  absl::Status first_error;
  for (const v1::RaftCommand& c : batch.commands()) {
    absl::Status s =
        c.has_batch() ? absl::InvalidArgumentError("nested raft command batch") : ApplyOne(c);
    v1::AppliedRequest* r = results.add_results();
    r->set_request_id(c.request_id());
    r->set_code(static_cast<int32_t>(s.code()));
    r->set_message(std::string(s.message()));
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  if (first_error.ok()) return first_error;
  absl::Status out(first_error.code(),
                   StrCat("raft command batch: ", ToStd(first_error.message())));
  out.SetPayload(ToAbsl(kBatchResultsPayload), absl::Cord(results.SerializeAsString()));
  return out;
}

std::vector<absl::Status> MetastoreFsm::BatchResults(const absl::Status& batch_result, size_t n) {
  std::vector<absl::Status> out(n, batch_result);
  if (batch_result.ok()) return out;
  auto payload = batch_result.GetPayload(ToAbsl(kBatchResultsPayload));
  v1::RaftBatchResults results;
  // No payload: the batch as a whole failed (not the leader, outcome unknown): every command
  // shares that result.
  if (!payload || !results.ParseFromString(std::string(*payload)) ||
      static_cast<size_t>(results.results_size()) != n) {
    return out;
  }
  for (size_t i = 0; i < n; i++) {
    const v1::AppliedRequest& r = results.results(static_cast<int>(i));
    out[i] = absl::Status(static_cast<absl::StatusCode>(r.code()), r.message());
  }
  return out;
}

std::string MetastoreFsm::NodeEndpoint(uint64_t node_id) const {
  std::lock_guard<std::mutex> lock(endpoints_mu_);
  auto it = endpoints_.find(node_id);
  return it == endpoints_.end() ? std::string() : it->second;
}

absl::Status MetastoreFsm::ApplyCommand(const v1::RaftCommand& command) {
  switch (command.command_case()) {
    case v1::RaftCommand::kAddBlock: {
      // kAdded, kDuplicate and kTombstoned are all success for the writer.
      const v1::BlockMeta& block = command.add_block().block();
      absl::StatusOr<BlockIndex::AddResult> r = index_->AddBlock(block);
      if (r.ok() && *r == BlockIndex::AddResult::kAdded)
        compaction_.Enqueue(block, leader_time_ms());
      return r.status();
    }
    case v1::RaftCommand::kReplaceBlocks: {
      // Retention: blocks removed without compaction leave the compaction queue too.
      absl::Status s = index_->ReplaceBlocks(command.replace_blocks());
      if (s.ok()) compaction_.Dequeue(command.replace_blocks().tombstones());
      return s;
    }
    case v1::RaftCommand::kUpdateCompactionPlan:
      return compaction_.ApplyPlan(command.update_compaction_plan().plan(), applied_index(),
                                   leader_time_ms(), index_);
    case v1::RaftCommand::kDeleteTombstones: {
      const auto& names = command.delete_tombstones().names();
      index_->DeleteTombstones(std::vector<std::string>(names.begin(), names.end()));
      return absl::OkStatus();
    }
    case v1::RaftCommand::kSetNodeEndpoint: {
      const v1::SetNodeEndpointCommand& e = command.set_node_endpoint();
      std::lock_guard<std::mutex> lock(endpoints_mu_);
      endpoints_[e.node_id()] = e.grpc_address();
      return absl::OkStatus();
    }
    case v1::RaftCommand::kSetTenantSetting:
      return settings_.Set(command.set_tenant_setting(), leader_time_ms()).status();
    case v1::RaftCommand::kUpdateMembers:
      return members_.Apply(command.update_members(), leader_time_ms(), applied_index());
    case v1::RaftCommand::kSetPlacementRules:
      return members_.ApplyRules(command.set_placement_rules().rules(), applied_index());
    case v1::RaftCommand::kBatch:  // handled in Apply; here only when nested
    case v1::RaftCommand::COMMAND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("raft command without a known type");
}

std::unique_ptr<StateCapture> MetastoreFsm::Capture() {
  HeaderCapture header;
  header.applied_index = applied_index();
  header.leader_time_ms = leader_time_ms();
  header.dedup = dedup_.Capture();
  {
    std::lock_guard<std::mutex> lock(endpoints_mu_);
    header.endpoints = endpoints_;  // a handful of nodes
  }
  settings_.AppendTo(&header.settings);  // bounded (tenant_settings.h), usually a few entries
  members_.AppendTo(&header.members);    // bounded (member_table.h), usually a few dozen
  return std::make_unique<FsmCapture>(std::move(header), index_->Capture(), compaction_.Capture(),
                                      snapshot_scratch_);
}

absl::Status MetastoreFsm::Restore(std::string_view snapshot) {
  std::string decompressed;  // backs `sections` where the snapshot is compressed
  EMBERS_ASSIGN_OR_RETURN(auto sections, ParseFsmSnapshot(snapshot, &decompressed));
  auto section = [&](FsmSection tag) -> absl::StatusOr<std::string_view> {
    auto it = sections.find(tag);
    if (it == sections.end()) {
      return absl::DataLossError(
          StrCat("metastore snapshot: no section ", static_cast<uint32_t>(tag)));
    }
    return it->second;
  };
  // Decode everything first: a bad section must leave every part unchanged.
  EMBERS_ASSIGN_OR_RETURN(std::string_view header_bytes, section(FsmSection::kHeader));
  v1::RaftSnapshotHeader header;
  if (!header.ParseFromArray(header_bytes.data(), static_cast<int>(header_bytes.size()))) {
    return absl::DataLossError("metastore snapshot: malformed header");
  }
  EMBERS_ASSIGN_OR_RETURN(std::string_view index_bytes, section(FsmSection::kIndex));
  EMBERS_ASSIGN_OR_RETURN(BlockIndex::DecodedSnapshot index,
                          BlockIndex::DecodeSnapshot(index_bytes));
  // Checked here with the other parts; snapshots from before settings have none.
  EMBERS_ASSIGN_OR_RETURN(TenantSettings::Decoded settings,
                          TenantSettings::Decode(header.tenant_settings()));
  // Snapshots from before membership have no members: components register again.
  EMBERS_ASSIGN_OR_RETURN(MemberTable::Decoded members, MemberTable::Decode(header));
  // Snapshots from before compaction have no compaction section: nothing was queued then.
  auto compaction_section = sections.find(FsmSection::kCompaction);
  EMBERS_ASSIGN_OR_RETURN(
      std::shared_ptr<CompactionStateView> compaction,
      CompactionState::Decode(compaction_section == sections.end() ? std::string_view()
                                                                   : compaction_section->second));

  index_->Install(std::move(index));
  compaction_.Reset(std::move(compaction));
  // A snapshot from before compaction: its blocks were never queued; every replica queues them
  // alike, at the snapshot's leader time.
  if (compaction_section == sections.end())
    compaction_.EnqueueAll(*index_, header.leader_time_ms());
  dedup_.Restore(header.recent_requests());
  settings_.Install(std::move(settings));
  members_.Install(std::move(members));
  {
    std::lock_guard<std::mutex> lock(endpoints_mu_);
    endpoints_.clear();
    for (const v1::SetNodeEndpointCommand& e : header.node_endpoints()) {
      endpoints_[e.node_id()] = e.grpc_address();
    }
  }
  applied_index_.store(header.applied_index(), std::memory_order_release);
  leader_time_ms_.store(header.leader_time_ms(), std::memory_order_release);
  return absl::OkStatus();
}

}  // namespace embers::metastore::raft
