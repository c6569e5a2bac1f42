#include "metastore/compaction/compaction_state.h"

#include <algorithm>
#include <mutex>
#include <set>
#include <utility>

#include "base/strings.h"
#include "base/varint.h"
#include "google/protobuf/arena.h"
#include "xxhash.h"

namespace embers::metastore {

namespace {

std::string_view TenantOf(const v1::BlockMeta& b) {
  return b.tenant() > 0 && b.tenant() < b.string_table_size() ? b.string_table(b.tenant())
                                                              : std::string_view();
}

absl::Status Corrupt(std::string_view what) {
  return absl::DataLossError(ToAbsl(StrCat("compaction state snapshot: ", what)));
}

}  // namespace

CompactionState::CompactionState() : state_(std::make_shared<CompactionStateView>()) {}

v1::CompactionJobState CompactionState::NewJob(const CompactionBatchKey& key,
                                               std::span<const QueuedBlock> blocks) {
  XXH64_state_t* h = XXH64_createState();
  XXH64_reset(h, 0);
  for (const QueuedBlock& b : blocks) {
    uint64_t halves[2] = {b.id.hi, b.id.lo};
    XXH64_update(h, halves, sizeof(halves));
  }
  uint64_t digest = XXH64_digest(h);
  XXH64_freeState(h);
  std::string hex = Hex(digest);
  hex.insert(0, 16 - hex.size(), '0');
  v1::CompactionJobState job;
  job.set_name(StrCat(hex, "-T", key.tenant.empty() ? "anonymous" : key.tenant, "-S", key.shard,
                      "-L", key.level));
  job.set_compaction_level(key.level);
  job.set_partition(key.partition);
  job.set_tenant(key.tenant);
  job.set_shard(key.shard);
  for (const QueuedBlock& q : blocks) job.add_source_blocks(q.id.ToString());
  return job;
}

CompactionStateView& CompactionState::Mutable() {
  generation_.fetch_add(1, std::memory_order_release);
  // A view captured by a reader shares state_: copy the maps (pointers only) before changing.
  if (state_.use_count() > 1) state_ = std::make_shared<CompactionStateView>(*state_);
  return *state_;
}

CompactionBatch& CompactionState::MutableBatch(const CompactionBatchKey& key) {
  std::shared_ptr<const CompactionBatch>& b = Mutable().batches[key];
  if (b == nullptr) {
    b = std::make_shared<CompactionBatch>();
  } else if (b.use_count() > 1) {
    b = std::make_shared<CompactionBatch>(*b);
  }
  return const_cast<CompactionBatch&>(*b);  // created non-const above, and not shared
}

v1::CompactionJobState& CompactionState::MutableJob(const std::string& name) {
  CompactionJobPtr& j = Mutable().jobs[name];
  if (j == nullptr) {
    j = std::make_shared<v1::CompactionJobState>();
  } else if (j.use_count() > 1) {
    j = std::make_shared<v1::CompactionJobState>(*j);
  }
  return const_cast<v1::CompactionJobState&>(*j);
}

void CompactionState::Enqueue(const v1::BlockMeta& block, int64_t now_ms) {
  if (block.compaction_level() >= kMaxCompactionLevel) return;
  std::optional<BlockId> id = BlockId::Parse(block.id());
  if (!id) return;  // the index validated it already
  CompactionBatchKey key{.level = block.compaction_level(),
                         .partition = BlockIndex::PartitionOf(block.min_time()),
                         .tenant = std::string(TenantOf(block)),
                         .shard = block.shard()};
  std::unique_lock lock(mu_);
  MutableBatch(key).push_back({.id = *id, .added_at_ms = now_ms, .size = block.size()});
}

void CompactionState::EnqueueAll(const BlockIndex& index, int64_t now_ms) {
  std::vector<BlockIndex::QueueableBlock> blocks = index.BlocksBelowLevel(kMaxCompactionLevel);
  std::unique_lock lock(mu_);
  for (const BlockIndex::QueueableBlock& b : blocks) {
    CompactionBatchKey key{.level = b.level,
                           .partition = BlockIndex::PartitionOf(b.min_time),
                           .tenant = b.tenant,
                           .shard = b.shard};
    MutableBatch(key).push_back({.id = b.id, .added_at_ms = now_ms, .size = b.size});
  }
}

void CompactionState::Dequeue(const v1::BlockTombstones& removed) {
  std::set<BlockId> ids;
  for (const std::string& s : removed.blocks()) {
    if (auto id = BlockId::Parse(s)) ids.insert(*id);
  }
  if (ids.empty()) return;
  std::unique_lock lock(mu_);
  std::vector<CompactionBatchKey> touched;
  for (const auto& [key, batch] : state_->batches) {
    if (key.tenant != removed.tenant() || key.shard != removed.shard()) continue;
    bool any = std::any_of(batch->begin(), batch->end(),
                           [&](const QueuedBlock& b) { return ids.contains(b.id); });
    if (any) touched.push_back(key);
  }
  for (const CompactionBatchKey& key : touched) {
    CompactionBatch& batch = MutableBatch(key);
    std::erase_if(batch, [&](const QueuedBlock& b) { return ids.contains(b.id); });
    if (batch.empty()) Mutable().batches.erase(key);
  }
}

absl::Status CompactionState::ApplyPlan(const v1::CompactionPlanUpdate& plan, uint64_t raft_index,
                                        int64_t now_ms, BlockIndex* index) {
  // Check the whole plan first: a command applies entirely or not at all.
  for (const v1::CompactionJobState& j : plan.new_jobs()) {
    if (j.name().empty() || j.source_blocks().empty() ||
        j.compaction_level() >= kMaxCompactionLevel) {
      return absl::InvalidArgumentError("compaction plan: malformed new job");
    }
    for (const std::string& s : j.source_blocks()) {
      if (!BlockId::Parse(s)) {
        return absl::InvalidArgumentError(
            ToAbsl(StrCat("compaction plan: job ", j.name(), ": bad block id ", s)));
      }
    }
  }
  for (const v1::CompactionJobCompleted& c : plan.completed()) {
    for (const v1::BlockMeta& b : c.new_blocks()) {
      absl::Status s = BlockIndex::ValidateBlock(b);
      if (!s.ok()) return s;
    }
  }

  // Tombstones whose objects are deleted are forgotten, and counted.
  if (!plan.deleted_tombstones().empty()) {
    std::set<std::string_view> names(plan.deleted_tombstones().begin(),
                                     plan.deleted_tombstones().end());
    uint64_t objects = 0, bytes = 0;
    for (const v1::BlockTombstones& t : index->Tombstones()) {
      if (!names.contains(t.name())) continue;
      objects += static_cast<uint64_t>(t.blocks_size());
      bytes += t.bytes();
    }
    index->DeleteTombstones(std::vector<std::string>(plan.deleted_tombstones().begin(),
                                                     plan.deleted_tombstones().end()));
    std::unique_lock lock(mu_);
    CompactionStateView& s = Mutable();
    s.deleted_objects += objects;
    s.deleted_bytes += bytes;
  }

  for (const v1::CompactionJobCompleted& c : plan.completed()) CompleteJob(c, now_ms, index);

  std::unique_lock lock(mu_);
  for (const v1::CompactionJobFailed& f : plan.failed()) ParkOrRequeue(f);

  for (const v1::CompactionJobLease& l : plan.renewed()) {
    auto it = state_->jobs.find(l.name());
    if (it == state_->jobs.end() || it->second->token() != l.token() ||
        it->second->status() != v1::COMPACTION_STATUS_IN_PROGRESS) {
      continue;
    }
    MutableJob(l.name()).set_lease_expires_at(l.lease_expires_at());
  }

  for (const v1::CompactionJobState& j : plan.new_jobs()) {
    if (state_->jobs.contains(j.name())) continue;
    CompactionBatchKey key{.level = j.compaction_level(),
                           .partition = j.partition(),
                           .tenant = j.tenant(),
                           .shard = j.shard()};
    auto b = state_->batches.find(key);
    if (b == state_->batches.end()) continue;
    // Every source must still be queued in this batch (not taken by another job, not removed).
    std::set<BlockId> wanted;
    for (const std::string& s : j.source_blocks()) wanted.insert(*BlockId::Parse(s));
    size_t found = 0;
    uint64_t bytes = 0;
    for (const QueuedBlock& q : *b->second) {
      if (wanted.contains(q.id)) {
        ++found;
        bytes += q.size;
      }
    }
    if (found != wanted.size()) continue;
    CompactionBatch& batch = MutableBatch(key);
    std::erase_if(batch, [&](const QueuedBlock& q) { return wanted.contains(q.id); });
    if (batch.empty()) Mutable().batches.erase(key);
    v1::CompactionJobState& job = MutableJob(j.name());
    job = j;
    job.set_status(v1::COMPACTION_STATUS_UNSPECIFIED);
    job.set_token(0);
    job.set_lease_expires_at(0);
    job.set_failures(0);
    job.clear_worker();
    job.clear_last_error();
    job.set_created_at(now_ms);
    job.set_seq(Mutable().next_seq++);
    job.set_source_bytes(bytes);
  }

  for (const v1::CompactionJobAssign& a : plan.assigned()) {
    auto it = state_->jobs.find(a.name());
    if (it == state_->jobs.end() || it->second->token() != a.expected_token() ||
        it->second->status() == v1::COMPACTION_STATUS_FAILURE) {
      continue;
    }
    v1::CompactionJobState& job = MutableJob(a.name());
    job.set_status(v1::COMPACTION_STATUS_IN_PROGRESS);
    job.set_token(raft_index);
    job.set_lease_expires_at(a.lease_expires_at());
    job.set_worker(a.worker());
    job.set_failures(a.failures());
  }
  return absl::OkStatus();
}

void CompactionState::CompleteJob(const v1::CompactionJobCompleted& c, int64_t now_ms,
                                  BlockIndex* index) {
  CompactionJobPtr job;
  {
    std::shared_lock lock(mu_);
    auto it = state_->jobs.find(c.name());
    if (it == state_->jobs.end() || it->second->token() != c.token() ||
        it->second->status() != v1::COMPACTION_STATUS_IN_PROGRESS) {
      return;  // reassigned, completed already, or gone
    }
    job = it->second;
  }
  // Sources out, outputs in, in one index change; the sources stay tombstoned (under the job's
  // name) until a worker has deleted their objects.
  v1::ReplaceBlocksRequest replace;
  v1::BlockTombstones* t = replace.mutable_tombstones();
  t->set_name(job->name());
  t->set_tenant(job->tenant());
  t->set_shard(job->shard());
  t->set_compaction_level(job->compaction_level());
  t->set_created_at(now_ms);
  *t->mutable_blocks() = job->source_blocks();
  *replace.mutable_blocks() = c.new_blocks();
  if (!index->ReplaceBlocks(replace).ok()) return;  // validated above: cannot fail
  for (const v1::BlockMeta& b : c.new_blocks()) Enqueue(b, now_ms);
  std::unique_lock lock(mu_);
  CompactionStateView& s = Mutable();
  s.jobs.erase(c.name());
  s.completed[std::min(job->compaction_level(), kMaxCompactionLevel - 1)]++;
}

void CompactionState::ParkOrRequeue(const v1::CompactionJobFailed& f) {
  auto it = state_->jobs.find(f.name());
  if (it == state_->jobs.end() || it->second->token() != f.token() ||
      it->second->status() == v1::COMPACTION_STATUS_FAILURE) {
    return;
  }
  v1::CompactionJobState& job = MutableJob(f.name());
  job.set_failures(f.failures());
  job.set_last_error(f.error());
  job.clear_worker();
  if (!f.park()) {
    // Back in the queue; lease_expires_at holds the time before which it is not reassigned.
    job.set_status(v1::COMPACTION_STATUS_UNSPECIFIED);
    job.set_lease_expires_at(f.retry_after());
    return;
  }
  job.set_status(v1::COMPACTION_STATUS_FAILURE);
  job.set_lease_expires_at(0);
  // Bound the parked jobs: forget the oldest.
  size_t parked = 0;
  const v1::CompactionJobState* oldest = nullptr;
  for (const auto& [name, j] : state_->jobs) {
    if (j->status() != v1::COMPACTION_STATUS_FAILURE) continue;
    ++parked;
    if (oldest == nullptr || j->seq() < oldest->seq()) oldest = j.get();
  }
  if (parked > kMaxParkedCompactionJobs && oldest != nullptr) {
    std::string name = oldest->name();
    Mutable().jobs.erase(name);
  }
}

std::shared_ptr<const CompactionStateView> CompactionState::Capture() const {
  std::shared_lock lock(mu_);
  return state_;
}

namespace {

void PutRecord(std::string& out, const v1::CompactionSnapshotRecord& record) {
  PutVarint64(&out, record.ByteSizeLong());
  record.AppendToString(&out);
}

}  // namespace

std::string CompactionState::Encode(const CompactionStateView& view) {
  std::string out;
  v1::CompactionSnapshotRecord record;
  v1::CompactionCounters* counters = record.mutable_counters();
  counters->set_next_seq(view.next_seq);
  for (uint64_t c : view.completed) counters->add_completed(c);
  counters->set_deleted_objects(view.deleted_objects);
  counters->set_deleted_bytes(view.deleted_bytes);
  PutRecord(out, record);
  record.Clear();
  for (const auto& [key, batch] : view.batches) {
    v1::CompactionQueueBatch* b = record.mutable_batch();
    b->set_level(key.level);
    b->set_partition(key.partition);
    b->set_tenant(key.tenant);
    b->set_shard(key.shard);
    for (const QueuedBlock& q : *batch) {
      v1::QueuedBlock* qb = b->add_blocks();
      qb->set_id(q.id.ToString());
      qb->set_added_at(q.added_at_ms);
      qb->set_size(q.size);
    }
    PutRecord(out, record);
    record.Clear();
  }
  for (const auto& [name, job] : view.jobs) {
    *record.mutable_job() = *job;
    PutRecord(out, record);
    record.Clear();
  }
  PutFixed64(&out, XXH64(out.data(), out.size(), 0));
  return out;
}

absl::StatusOr<std::shared_ptr<CompactionStateView>> CompactionState::Decode(
    std::string_view data) {
  auto state = std::make_shared<CompactionStateView>();
  if (data.empty()) return state;  // a snapshot from before compaction existed
  if (data.size() < 8) return Corrupt("truncated");
  uint64_t want = 0;
  ByteReader(data.substr(data.size() - 8)).ReadFixed64(&want);
  data.remove_suffix(8);
  if (XXH64(data.data(), data.size(), 0) != want) return Corrupt("checksum mismatch");
  ByteReader r(data);
  bool counters_seen = false;
  while (!r.empty()) {
    uint64_t length = 0;
    std::string_view bytes;
    if (!r.ReadVarint64(&length) || length > r.remaining() || !r.ReadBytes(length, &bytes)) {
      return Corrupt("truncated record");
    }
    v1::CompactionSnapshotRecord record;
    if (!record.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return Corrupt("undecodable record");
    }
    switch (record.record_case()) {
      case v1::CompactionSnapshotRecord::kCounters: {
        const v1::CompactionCounters& c = record.counters();
        state->next_seq = c.next_seq();
        for (int i = 0; i < c.completed_size() && i < static_cast<int>(kMaxCompactionLevel); ++i) {
          state->completed[static_cast<size_t>(i)] = c.completed(i);
        }
        state->deleted_objects = c.deleted_objects();
        state->deleted_bytes = c.deleted_bytes();
        counters_seen = true;
        break;
      }
      case v1::CompactionSnapshotRecord::kBatch: {
        const v1::CompactionQueueBatch& b = record.batch();
        CompactionBatchKey key{.level = b.level(),
                               .partition = b.partition(),
                               .tenant = b.tenant(),
                               .shard = b.shard()};
        auto batch = std::make_shared<CompactionBatch>();
        for (const v1::QueuedBlock& q : b.blocks()) {
          auto id = BlockId::Parse(q.id());
          if (!id) return Corrupt(StrCat("bad block id \"", q.id(), "\""));
          batch->push_back({.id = *id, .added_at_ms = q.added_at(), .size = q.size()});
        }
        if (batch->empty() || !state->batches.emplace(key, std::move(batch)).second) {
          return Corrupt("empty or repeated batch");
        }
        break;
      }
      case v1::CompactionSnapshotRecord::kJob: {
        auto job = std::make_shared<v1::CompactionJobState>(record.job());
        std::string name = job->name();
        if (name.empty() || !state->jobs.emplace(std::move(name), std::move(job)).second) {
          return Corrupt("unnamed or repeated job");
        }
        break;
      }
      default:
        return Corrupt("unknown record");
    }
  }
  if (!counters_seen) return Corrupt("no counters record");
  return state;
}

void CompactionState::Reset(std::shared_ptr<CompactionStateView> state) {
  std::unique_lock lock(mu_);
  generation_.fetch_add(1, std::memory_order_release);
  state_.swap(state);
}

}  // namespace embers::metastore
