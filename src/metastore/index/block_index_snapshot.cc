// BlockIndex snapshots (for Raft snapshots and restarts).
//
// Format, version 1:
//
//   "EMBIDX01"                                   8-byte magic and version
//   { varint64 length, IndexSnapshotRecord }*    records (index_snapshot.proto)
//   varint64 0                                   end marker: a truncated stream lacks it
//   fixed64 little-endian XXH64(all bytes above, seed 0)
//
// Records come in index order: for every (partition, tenant, shard) a shard header with the
// string table in id order, then its blocks in chunks of kSnapshotChunkBlocks (string refs are
// the shard's ids, so restoring re-interns the table in order and gets identical ids), then the
// tombstones oldest first. The same index always encodes to the same bytes.

#include <cstring>
#include <mutex>
#include <new>

#include "base/status.h"
#include "base/strings.h"
#include "base/varint.h"
#include "google/protobuf/arena.h"
#include "metastore/index/block_index.h"
#include "metastore/index/index_internal.h"
#include "metastore/v1/index_snapshot.pb.h"
#include "xxhash.h"

namespace embers::metastore {

using index_internal::Partition;
using index_internal::Shard;
using index_internal::ShardSlot;
using index_internal::StoredBlock;
using index_internal::StoredDataset;

namespace {

constexpr std::string_view kMagic = "EMBIDX01";

// Appends `{varint length, IndexSnapshotRecord}` for a record whose oneof holds `part` as field
// `field` — the bytes protobuf writes for that record — without building the record: the
// messages of a shard header and of a block chunk are then kept and reused across shards (a
// oneof would delete them on every switch), and each size is computed once.
void PutRecord(std::string& out, int field, const google::protobuf::MessageLite& part) {
  const size_t size = part.ByteSizeLong();
  std::string header;
  PutVarint64(&header, static_cast<uint64_t>(field) << 3 | 2);  // length-delimited
  PutVarint64(&header, size);
  PutVarint64(&out, header.size() + size);
  out += header;
  const size_t at = out.size();
  out.resize(at + size);
  part.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out.data() + at));
}

// Writes a stored block as a BlockMeta whose refs are the shard's string ids.
void ToMessage(const BlockId& id, uint32_t shard_id, const StoredBlock& b, v1::BlockMeta* out) {
  out->set_format_version(b.format_version);
  out->set_id(id.ToString());
  out->set_tenant(static_cast<int32_t>(b.tenant));
  out->set_shard(shard_id);
  out->set_compaction_level(b.compaction_level);
  out->set_min_time(b.min_time);
  out->set_max_time(b.max_time);
  out->set_created_by(static_cast<int32_t>(b.created_by));
  out->set_size(b.size);
  out->set_metadata_offset(b.metadata_offset);
  for (const StoredDataset& d : b.datasets) {
    v1::Dataset* ds = out->add_datasets();
    ds->set_tenant(static_cast<int32_t>(d.tenant));
    ds->set_name(static_cast<int32_t>(d.name));
    ds->set_min_time(d.min_time);
    ds->set_max_time(d.max_time);
    ds->set_size(d.size);
    ds->set_format(d.format);
    ds->mutable_table_of_contents()->Add(b.toc.begin() + d.toc_begin, b.toc.begin() + d.toc_end);
    ds->mutable_labels()->Reserve(static_cast<int>(d.labels_end - d.labels_begin));
    for (uint32_t i = d.labels_begin; i < d.labels_end; ++i) {
      ds->add_labels(static_cast<int32_t>(b.labels[i]));
    }
  }
}

absl::Status Corrupt(std::string_view what) {
  return absl::DataLossError(ToAbsl(StrCat("metastore index snapshot: ", what)));
}

}  // namespace

std::unique_ptr<IndexCapture> BlockIndex::Capture() const {
  std::unique_ptr<IndexCapture> capture(new IndexCapture());
  std::unique_lock lock(mu_);
  State& state = *state_;
  for (const auto& [start, part] : state.partitions) {
    for (const auto& [tenant, shards] : part.tenants) {
      for (const auto& [shard_id, slot] : shards) {
        capture->shards_.push_back({slot.current, slot.current->strings->size()});
      }
    }
  }
  capture->tombstones_.reserve(state.tombstones.size());
  for (const auto& [seq, t] : state.tombstones) capture->tombstones_.push_back(t);
  capture->blocks_ = state.shard_of.size();
  // From now on every shard and chunk the capture holds is an older generation: the next write
  // to it makes a private copy, so the capture never sees a change.
  ++state.generation;
  return capture;
}

IndexCapture::~IndexCapture() = default;

void IndexCapture::SerializeTo(absl::FunctionRef<void(std::string_view)> sink) const {
  // Records are encoded into `out` and handed on whenever it holds a piece's worth; the checksum
  // at the end covers every byte before it, so it is kept as a running hash.
  std::string out;
  out.reserve(kPieceBytes + (64 << 10));
  XXH64_state_t* sum = XXH64_createState();
  if (sum == nullptr) throw std::bad_alloc();
  XXH64_reset(sum, 0);
  auto pass_on = [&] {
    XXH64_update(sum, out.data(), out.size());
    sink(out);
    out.clear();
  };
  auto maybe_pass_on = [&] {
    if (out.size() >= kPieceBytes) pass_on();
  };
  out.append(kMagic);
  v1::IndexSnapshotShard shard_record;
  v1::IndexSnapshotBlocks blocks_record;
  for (const CapturedShard& captured : shards_) {
    const Shard& shard = *captured.shard;
    v1::IndexSnapshotShard* header = &shard_record;
    header->set_partition(shard.partition);
    header->set_tenant(shard.tenant);
    header->set_shard(shard.shard);
    header->set_min_time(shard.min_time);
    header->set_max_time(shard.max_time);
    header->mutable_string_table()->Reserve(static_cast<int>(captured.strings));
    for (uint32_t i = 0; i < captured.strings; ++i) {
      header->add_string_table(std::string(shard.strings->Get(i)));
    }
    PutRecord(out, v1::IndexSnapshotRecord::kShardFieldNumber, shard_record);
    shard_record.Clear();
    maybe_pass_on();

    v1::IndexSnapshotBlocks* chunk = &blocks_record;
    for (const auto& [id, b] : shard.blocks) {
      ToMessage(id, shard.shard, *b, chunk->add_blocks());
      if (static_cast<size_t>(chunk->blocks_size()) == BlockIndex::kSnapshotChunkBlocks) {
        PutRecord(out, v1::IndexSnapshotRecord::kBlocksFieldNumber, blocks_record);
        // Clear() keeps the allocated messages for reuse by the next chunk.
        chunk->Clear();
        maybe_pass_on();
      }
    }
    if (chunk->blocks_size() > 0) {
      PutRecord(out, v1::IndexSnapshotRecord::kBlocksFieldNumber, blocks_record);
      maybe_pass_on();
    }
    chunk->Clear();
  }
  for (const auto& t : tombstones_) {
    PutRecord(out, v1::IndexSnapshotRecord::kTombstonesFieldNumber, *t);
    maybe_pass_on();
  }
  PutVarint64(&out, 0);
  XXH64_update(sum, out.data(), out.size());
  const uint64_t digest = XXH64_digest(sum);
  XXH64_freeState(sum);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(digest >> (8 * i)));
  sink(out);
}

std::string BlockIndex::EncodeSnapshot() const {
  std::string out;
  Capture()->SerializeTo([&](std::string_view piece) { out.append(piece); });
  return out;
}

absl::Status BlockIndex::RestoreSnapshot(std::string_view data) {
  EMBERS_ASSIGN_OR_RETURN(DecodedSnapshot decoded, DecodeSnapshot(data));
  Install(std::move(decoded));
  return absl::OkStatus();
}

size_t BlockIndex::DecodedSnapshot::block_count() const { return state_->shard_of.size(); }

void BlockIndex::Install(DecodedSnapshot snapshot) {
  std::unique_lock lock(mu_);
  state_.swap(snapshot.state_);
  lock.unlock();
  // The old state is destroyed outside the lock (with `snapshot`).
}

absl::StatusOr<BlockIndex::DecodedSnapshot> BlockIndex::DecodeSnapshot(std::string_view data) {
  if (data.size() < kMagic.size() + 9 || data.substr(0, kMagic.size()) != kMagic) {
    return Corrupt("bad magic or too short");
  }
  uint64_t want = 0;
  for (int i = 0; i < 8; ++i) {
    want |= static_cast<uint64_t>(static_cast<uint8_t>(data[data.size() - 8 + i])) << (8 * i);
  }
  if (XXH64(data.data(), data.size() - 8, 0) != want) return Corrupt("checksum mismatch");
  ByteReader in(data.substr(kMagic.size(), data.size() - 8 - kMagic.size()));

  // Build a fresh state; swap it in only when the whole snapshot has been read.
  StatePtr state(new State);
  // Records are parsed into an arena that is reset between them: thousands of small messages per
  // record would otherwise cost a malloc/free each.
  google::protobuf::Arena arena;
  ShardSlot* slot = nullptr;
  bool ended = false;
  while (!ended) {
    uint64_t length = 0;
    if (!in.ReadVarint64(&length)) return Corrupt("truncated record length");
    if (length == 0) {
      ended = true;
      break;
    }
    std::string_view bytes;
    if (length > in.remaining() || !in.ReadBytes(static_cast<size_t>(length), &bytes)) {
      return Corrupt("truncated record");
    }
    arena.Reset();
    auto& record = *google::protobuf::Arena::CreateMessage<v1::IndexSnapshotRecord>(&arena);
    if (!record.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return Corrupt("undecodable record");
    }
    switch (record.record_case()) {
      case v1::IndexSnapshotRecord::kShard: {
        const v1::IndexSnapshotShard& h = record.shard();
        if (h.string_table_size() == 0 || !h.string_table(0).empty()) {
          return Corrupt("string table must start with \"\"");
        }
        slot = &GetOrCreateShard(*state, h.partition(), h.tenant(), h.shard());
        Shard* shard = slot->current.get();
        if (shard->strings->size() != 1) return Corrupt("shard appears twice");
        for (int i = 1; i < h.string_table_size(); ++i) {
          if (shard->strings->Intern(h.string_table(i)) != static_cast<uint32_t>(i)) {
            return Corrupt("duplicate string in a string table");
          }
        }
        shard->min_time = h.min_time();
        shard->max_time = h.max_time();
        Partition& part = state->partitions[h.partition()];
        part.min_time = std::min(part.min_time, shard->min_time);
        part.max_time = std::max(part.max_time, shard->max_time);
        break;
      }
      case v1::IndexSnapshotRecord::kBlocks: {
        if (slot == nullptr) return Corrupt("blocks before a shard header");
        Shard* shard = slot->current.get();
        for (const v1::BlockMeta& m : record.blocks().blocks()) {
          auto id = BlockId::Parse(m.id());
          if (!id) return Corrupt(StrCat("bad block id \"", m.id(), "\""));
          absl::Status s = index_internal::CheckBlockStructure(m, shard->strings->size());
          if (!s.ok()) return Corrupt(ToStd(s.message()));
          if (index_internal::PartitionOf(m.min_time()) != shard->partition) {
            return Corrupt(StrCat("block ", m.id(), " in the wrong partition"));
          }
          auto b = std::make_shared<StoredBlock>();
          index_internal::ConvertBlock(
              m, [](int32_t r) { return static_cast<uint32_t>(r); }, b.get());
          if (!state->shard_of.emplace(*id, slot).second) {
            return Corrupt(StrCat("block ", m.id(), " appears twice"));
          }
          state->CountBlock(b->compaction_level, +1);
          shard->blocks.Insert(*id, std::move(b), state->generation);
        }
        break;
      }
      case v1::IndexSnapshotRecord::kTombstones: {
        const v1::BlockTombstones& t = record.tombstones();
        if (!state->tombstone_names.insert(t.name()).second) {
          return Corrupt(StrCat("tombstone ", t.name(), " appears twice"));
        }
        for (const std::string& s : t.blocks()) {
          auto id = BlockId::Parse(s);
          if (!id) return Corrupt(StrCat("bad tombstoned block id \"", s, "\""));
          ++state->tombstoned[*id];
        }
        state->tombstones.emplace(state->next_tombstone_seq++,
                                  std::make_shared<const v1::BlockTombstones>(t));
        break;
      }
      default:
        return Corrupt("unknown record");
    }
  }
  if (!in.empty()) return Corrupt("data after the end marker");
  // An empty shard can only come from a corrupt writer; it would also break RemoveBlockLocked's
  // invariants.
  for (const auto& [start, part] : state->partitions) {
    for (const auto& [tenant, shards] : part.tenants) {
      for (const auto& [sid, s] : shards) {
        if (s.current->blocks.empty()) return Corrupt("empty shard");
      }
    }
  }
  return DecodedSnapshot(std::move(state));
}

}  // namespace embers::metastore
