#include "metastore/raft/metastore_fsm.h"

#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/cord.h"
#include "base/strings.h"
#include "google/protobuf/arena.h"

namespace embers::metastore::raft {

namespace {

constexpr char kMagic[4] = {'E', 'M', 'F', 'S'};
constexpr uint32_t kVersion = 2;
constexpr size_t kArenaBlockBytes = 4 << 20;

void PutFixed32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; i++) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t GetFixed32(std::string_view in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v |= static_cast<uint32_t>(static_cast<uint8_t>(in[i])) << (8 * i);
  return v;
}

}  // namespace

MetastoreFsm::MetastoreFsm(BlockIndex* index, size_t dedup_window)
    : index_(index), dedup_window_(dedup_window), arena_block_(new char[kArenaBlockBytes]) {}

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
    auto it = results_.find(cmd.request_id());
    if (it != results_.end()) return it->second;  // a retry of an applied request
  }
  absl::Status result = ApplyCommand(cmd);
  if (!cmd.request_id().empty()) Remember(cmd.request_id(), result);
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
    case v1::RaftCommand::kBatch:  // handled in Apply; here only when nested
    case v1::RaftCommand::COMMAND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("raft command without a known type");
}

void MetastoreFsm::Remember(const std::string& request_id, const absl::Status& result) {
  if (dedup_window_ == 0) return;
  results_[request_id] = result;
  order_.push_back(request_id);
  while (order_.size() > dedup_window_) {
    results_.erase(order_.front());
    order_.pop_front();
  }
}

std::string MetastoreFsm::Snapshot() {
  v1::RaftSnapshotHeader header;
  header.set_applied_index(applied_index());
  header.set_leader_time_ms(leader_time_ms());
  for (const std::string& id : order_) {
    const absl::Status& s = results_.at(id);
    v1::AppliedRequest* r = header.add_recent_requests();
    r->set_request_id(id);
    r->set_code(static_cast<int32_t>(s.code()));
    r->set_message(std::string(s.message()));
  }
  {
    std::lock_guard<std::mutex> lock(endpoints_mu_);
    for (const auto& [id, address] : endpoints_) {
      v1::SetNodeEndpointCommand* e = header.add_node_endpoints();
      e->set_node_id(id);
      e->set_grpc_address(address);
    }
  }
  std::string header_bytes = header.SerializeAsString();
  std::string index_bytes = index_->EncodeSnapshot();
  std::string compaction_bytes = CompactionState::Encode(*compaction_.Capture());
  std::string out;
  out.reserve(20 + header_bytes.size() + index_bytes.size() + compaction_bytes.size());
  out.append(kMagic, sizeof(kMagic));
  PutFixed32(out, kVersion);
  PutFixed32(out, static_cast<uint32_t>(header_bytes.size()));
  out += header_bytes;
  PutFixed32(out, static_cast<uint32_t>(index_bytes.size()));
  PutFixed32(out, static_cast<uint32_t>(index_bytes.size() >> 32));
  out += index_bytes;
  out += compaction_bytes;
  return out;
}

absl::Status MetastoreFsm::Restore(std::string_view snapshot) {
  if (snapshot.size() < 12 || std::memcmp(snapshot.data(), kMagic, sizeof(kMagic)) != 0) {
    return absl::DataLossError("metastore snapshot: bad magic");
  }
  uint32_t version = GetFixed32(snapshot.substr(4));
  if (version != 1 && version != kVersion) {
    return absl::DataLossError(StrCat("metastore snapshot: unknown version ", version));
  }
  uint32_t header_len = GetFixed32(snapshot.substr(8));
  if (snapshot.size() - 12 < header_len) {
    return absl::DataLossError("metastore snapshot: truncated header");
  }
  v1::RaftSnapshotHeader header;
  if (!header.ParseFromArray(snapshot.data() + 12, static_cast<int>(header_len))) {
    return absl::DataLossError("metastore snapshot: malformed header");
  }
  std::string_view rest = snapshot.substr(12 + header_len);
  std::string_view index_bytes = rest, compaction_bytes;
  if (version >= 2) {
    if (rest.size() < 8) return absl::DataLossError("metastore snapshot: truncated index length");
    uint64_t index_len = GetFixed32(rest) | static_cast<uint64_t>(GetFixed32(rest.substr(4))) << 32;
    if (rest.size() - 8 < index_len)
      return absl::DataLossError("metastore snapshot: truncated index");
    index_bytes = rest.substr(8, index_len);
    compaction_bytes = rest.substr(8 + index_len);
  }
  // Decode the compaction part before touching anything: restore is all or nothing.
  absl::StatusOr<std::shared_ptr<CompactionStateView>> compaction =
      CompactionState::Decode(compaction_bytes);
  if (!compaction.ok()) return compaction.status();
  // The index validates its own part (checksummed) and is left unchanged on error.
  absl::Status s = index_->RestoreSnapshot(index_bytes);
  if (!s.ok()) return s;
  compaction_.Reset(*std::move(compaction));
  results_.clear();
  order_.clear();
  for (const v1::AppliedRequest& r : header.recent_requests()) {
    results_[r.request_id()] = absl::Status(static_cast<absl::StatusCode>(r.code()), r.message());
    order_.push_back(r.request_id());
  }
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
