// Internal data structures of BlockIndex, shared by block_index.cc and block_index_snapshot.cc.
// Nothing outside src/metastore/index includes this.
#ifndef EMBERS_METASTORE_INDEX_INDEX_INTERNAL_H_
#define EMBERS_METASTORE_INDEX_INDEX_INTERNAL_H_

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "metastore/index/block_id.h"
#include "metastore/index/block_index.h"
#include "metastore/index/cow_chunked_map.h"
#include "metastore/index/string_table.h"
#include "metastore/v1/types.pb.h"

namespace embers::metastore::index_internal {

// A dataset as stored: string ids of the shard's table; its table of contents and label groups
// are ranges of the owning block's flat arrays (fewer allocations than a vector per dataset).
struct StoredDataset {
  uint32_t tenant = 0;
  uint32_t name = 0;
  int64_t min_time = 0;
  int64_t max_time = 0;
  uint64_t size = 0;
  uint32_t format = 0;
  // Bit (id % 64) set for every name and value id in the dataset's label sets: a selector that
  // requires a string the mask lacks skips the dataset without reading its labels.
  uint64_t label_mask = 0;
  uint32_t toc_begin = 0, toc_end = 0;        // into StoredBlock::toc
  uint32_t labels_begin = 0, labels_end = 0;  // into StoredBlock::labels
};

struct StoredBlock {
  uint32_t format_version = 0;
  uint32_t compaction_level = 0;
  uint32_t tenant = 0;
  uint32_t created_by = 0;
  int64_t min_time = 0;
  int64_t max_time = 0;
  uint64_t size = 0;
  uint64_t metadata_offset = 0;
  uint64_t label_mask = 0;  // union of the datasets' masks
  std::vector<StoredDataset> datasets;
  std::vector<uint64_t> toc;
  // Label groups `n, name, value, ... ` as string ids, all datasets back to back.
  std::vector<uint32_t> labels;
};

// A stored block never changes once added (a replaced block is removed and another added), so
// copies of a shard and snapshot captures share it.
using BlockPtr = std::shared_ptr<const StoredBlock>;
using BlockMap = CowChunkedMap<BlockId, BlockPtr>;

// Blocks of one (partition, tenant, shard) and the strings they use.
//
// Copy-on-write: a snapshot capture keeps shared_ptrs to the shards it saw, so a Shard object
// from an older generation than the index's (BlockIndex::State::generation) must not change;
// writers go through MutableShard, which replaces it in its slot by a copy first. The copy is
// cheap: the block map copies one pointer per chunk and the string table is shared (it only
// grows; a capture reads the ids below the size it recorded).
struct Shard {
  int64_t partition = 0;
  std::string tenant;
  uint32_t shard = 0;
  // Data time range of every block ever added here; not narrowed by removals (harmless: it is
  // only used to skip shards) so that it never needs a rescan.
  int64_t min_time = std::numeric_limits<int64_t>::max();
  int64_t max_time = std::numeric_limits<int64_t>::min();
  uint64_t generation = 0;
  std::shared_ptr<StringTable> strings = std::make_shared<StringTable>();
  BlockMap blocks;
};

// The live version of one shard. It lives in a map node, so its address is stable for as long
// as the shard exists and `shard_of` can point at it across copy-on-write replacements.
struct ShardSlot {
  std::shared_ptr<Shard> current;
};

using ShardMap = std::map<uint32_t, ShardSlot>;
using TenantMap = std::map<std::string, ShardMap, std::less<>>;

struct Partition {
  // Union of its shards' ranges.
  int64_t min_time = std::numeric_limits<int64_t>::max();
  int64_t max_time = std::numeric_limits<int64_t>::min();
  TenantMap tenants;
};

// The label-mask bit of a string id. Ids are dense per shard, so a shard with at most 64 strings
// gets an exact mask.
inline uint64_t LabelBit(uint32_t id) { return uint64_t{1} << (id & 63); }

// Checks what ConvertBlock relies on: string refs below `table_size`, ordered time ranges and a
// well-formed label encoding. InvalidArgument naming the block and dataset.
absl::Status CheckBlockStructure(const v1::BlockMeta& block, int64_t table_size);

// Converts a checked BlockMeta to its stored form; ref(r) maps a string ref of the message to a
// string id of the shard.
template <typename RefFn>
void ConvertBlock(const v1::BlockMeta& block, RefFn&& ref, StoredBlock* out) {
  out->format_version = block.format_version();
  out->compaction_level = block.compaction_level();
  out->tenant = ref(block.tenant());
  out->created_by = ref(block.created_by());
  out->min_time = block.min_time();
  out->max_time = block.max_time();
  out->size = block.size();
  out->metadata_offset = block.metadata_offset();
  out->datasets.reserve(static_cast<size_t>(block.datasets_size()));
  for (const v1::Dataset& d : block.datasets()) {
    StoredDataset& sd = out->datasets.emplace_back();
    sd.tenant = ref(d.tenant());
    sd.name = ref(d.name());
    sd.min_time = d.min_time();
    sd.max_time = d.max_time();
    sd.size = d.size();
    sd.format = d.format();
    sd.toc_begin = static_cast<uint32_t>(out->toc.size());
    out->toc.insert(out->toc.end(), d.table_of_contents().begin(), d.table_of_contents().end());
    sd.toc_end = static_cast<uint32_t>(out->toc.size());
    sd.labels_begin = static_cast<uint32_t>(out->labels.size());
    int i = 0;
    while (i < d.labels_size()) {
      int32_t n = d.labels(i);
      out->labels.push_back(static_cast<uint32_t>(n));
      for (int k = i + 1; k < i + 1 + 2 * n; ++k) {
        uint32_t id = ref(d.labels(k));
        out->labels.push_back(id);
        sd.label_mask |= LabelBit(id);
      }
      i += 1 + 2 * n;
    }
    sd.labels_end = static_cast<uint32_t>(out->labels.size());
    out->label_mask |= sd.label_mask;
  }
  out->toc.shrink_to_fit();
  out->labels.shrink_to_fit();
}

// Start of the partition holding data time `t` (floor division: correct for negative times).
inline int64_t PartitionOf(int64_t t) { return BlockIndex::PartitionOf(t); }

}  // namespace embers::metastore::index_internal

namespace embers::metastore {

struct BlockIndex::State {
  std::map<int64_t, index_internal::Partition> partitions;
  // Where each block lives: for idempotent adds, GetBlockMetadata and removals by id.
  absl::flat_hash_map<BlockId, index_internal::ShardSlot*> shard_of;
  // Tombstones in the order they were recorded; immutable, so captures share them.
  std::map<uint64_t, std::shared_ptr<const v1::BlockTombstones>> tombstones;
  uint64_t next_tombstone_seq = 0;
  absl::flat_hash_set<std::string> tombstone_names;
  // Block id → number of recorded tombstones naming it.
  absl::flat_hash_map<BlockId, uint32_t> tombstoned;
  // Copy-on-write generation, bumped by every Capture: shards and block chunks stamped with an
  // older one may be shared with a capture and are copied before they change.
  uint64_t generation = 1;
  // Live blocks per compaction level, kept as blocks come and go: the status page and gauges read
  // it every second, and walking millions of blocks under the lock stalled every apply (AddBlock
  // p99 136 ms at 2 M blocks).
  // Levels from kMaxCountedLevel up share its slot: a block's level is whatever its writer claims,
  // and must not size a vector.
  static constexpr uint32_t kMaxCountedLevel = 15;
  std::vector<uint64_t> blocks_by_level;

  void CountBlock(uint32_t level, int64_t delta) {
    level = std::min(level, kMaxCountedLevel);
    if (level >= blocks_by_level.size()) blocks_by_level.resize(level + 1, 0);
    blocks_by_level[level] += static_cast<uint64_t>(delta);
  }
};

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_INDEX_INDEX_INTERNAL_H_
