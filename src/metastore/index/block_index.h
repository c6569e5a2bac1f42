// BlockIndex: the metastore's in-memory index of every object (segment or compacted block).
//
// This is the state the metastore replicates with Raft: the Raft layer applies each committed
// command (AddBlock, ReplaceBlocks, DeleteTombstones) to the BlockIndex of every replica, serves
// reads (QueryMetadata, QueryMetadataLabels, GetBlockMetadata, tenants) from it, and takes
// snapshots with EncodeSnapshot / RestoreSnapshot. The write path (segment-writer, DLQ recovery)
// adds blocks, the query-frontend asks which objects and datasets hold data for a selector, and
// compaction replaces blocks.
//
// Determinism: the state after a sequence of commands depends only on the commands, never on
// timing, hash seeds or addresses (ordered containers wherever iteration is observable; string
// ids assigned in insertion order), so replicas agree and a snapshot restores the same answers.
//
// Layout: partition (6 h window of *data* time) → tenant → shard → blocks by id. Each
// (partition, tenant, shard) has its own string table (see string_table.h).
//
// Why data time rather than the ULID's creation time (which Pyroscope uses): a query asks for a
// data time range, so partitions keyed by data time can be chosen exactly; Pyroscope has to widen
// every query by ±24 h of creation time and still misses back-filled data (its known limitation).
// A block is placed in the partition of its min_time; each partition and shard records the
// min/max data time of what it holds, so a block reaching past its window is still found.
// Retention can likewise drop partitions by data age.
//
// Thread safety: all methods may be called concurrently; writers take an exclusive lock,
// readers a shared one.
//
// Snapshots without stopping writers: Capture() takes an immutable view of the whole state in
// O(shards) under the write lock (the Raft apply thread calls it between two commands), and the
// view is serialised on another thread while commands keep applying. The state is copy-on-write
// for this: shards are shared with captures and copied on their first write after one; blocks
// are immutable and shared by pointer; a shard's block map is chunked so that the copy costs one
// pointer per chunk (cow_chunked_map.h) and its string table is shared (string_table.h).
#ifndef EMBERS_METASTORE_INDEX_BLOCK_INDEX_H_
#define EMBERS_METASTORE_INDEX_BLOCK_INDEX_H_

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "metastore/index/block_id.h"
#include "metastore/v1/index.pb.h"
#include "metastore/v1/query.pb.h"
#include "metastore/v1/tenant.pb.h"
#include "metastore/v1/types.pb.h"

namespace embers::metastore {

// The metastore's protobuf messages (package metastore.v1).
namespace v1 = ::metastore::v1;

namespace index_internal {
struct Shard;
struct ShardSlot;
}  // namespace index_internal

class BlockIndex;

// An immutable view of a whole BlockIndex at one moment (BlockIndex::Capture). Holds the shards
// and tombstones it saw; the index goes on changing meanwhile. Any thread may serialise it.
class IndexCapture {
 public:
  ~IndexCapture();
  IndexCapture(const IndexCapture&) = delete;
  IndexCapture& operator=(const IndexCapture&) = delete;

  // Passes the snapshot encoding of the captured state to `sink` in order, in pieces of about
  // kPieceBytes: together the bytes EncodeSnapshot gives for that state (see
  // block_index_snapshot.cc). Streaming it keeps the whole encoding (~130 bytes per block) from
  // ever being in memory at once.
  void SerializeTo(absl::FunctionRef<void(std::string_view)> sink) const;
  static constexpr size_t kPieceBytes = size_t{1} << 20;

  size_t shard_count() const { return shards_.size(); }
  size_t block_count() const { return blocks_; }

 private:
  friend class BlockIndex;
  IndexCapture() = default;

  struct CapturedShard {
    std::shared_ptr<const index_internal::Shard> shard;
    uint32_t strings = 0;  // the table's size at capture: it may grow afterwards
  };
  std::vector<CapturedShard> shards_;                                   // in index order
  std::vector<std::shared_ptr<const v1::BlockTombstones>> tombstones_;  // oldest first
  size_t blocks_ = 0;
};

// One (partition, tenant, shard) of the index as retention sees it (BlockIndex::ShardsBefore):
// its blocks whose data all lies before the cutoff.
struct IndexShardSummary {
  int64_t partition = 0;  // start, ms
  std::string tenant;     // "" for level-0 segments
  uint32_t shard = 0;
  struct Block {
    std::string id;
    int64_t max_time = 0;
    // Tenants of its datasets (a segment holds several), sorted.
    std::vector<std::string> tenants;
  };
  std::vector<Block> blocks;
};

class BlockIndex {
 public:
  // Width of a partition: 6 h of data time, in ms (DESIGN §6).
  static constexpr int64_t kPartitionDurationMs = 6 * 3600 * 1000;
  // Blocks per record in a snapshot.
  static constexpr size_t kSnapshotChunkBlocks = 4096;

  enum class AddResult {
    kAdded,
    kDuplicate,   // a block with this id is already indexed
    kTombstoned,  // the block was replaced or deleted; a late retry must not bring it back
  };

  // Start of the partition holding data time `t` (ms; floor division, so negative times work).
  static int64_t PartitionOf(int64_t t) {
    int64_t q = t / kPartitionDurationMs;
    if (t % kPartitionDurationMs < 0) --q;
    return q * kPartitionDurationMs;
  }

  BlockIndex();
  ~BlockIndex();
  BlockIndex(const BlockIndex&) = delete;
  BlockIndex& operator=(const BlockIndex&) = delete;

  // Checks a block without adding it: a ULID id, string refs inside the string table, a
  // well-formed label encoding, min_time <= max_time, and (for a single-tenant block) datasets
  // of that tenant only. InvalidArgument naming the problem.
  static absl::Status ValidateBlock(const v1::BlockMeta& block);

  // Adds a block. Idempotent: a known id is a no-op (kDuplicate), and so is a tombstoned one.
  absl::StatusOr<AddResult> AddBlock(const v1::BlockMeta& block);

  // Compaction: adds request.blocks (as AddBlock), removes the sources listed in
  // request.tombstones and records that tombstone. With no blocks, only deletes. A request whose
  // tombstone name is already recorded is a no-op (a retried command). Sources not in the index
  // (or not in the named tenant shard) are still tombstoned.
  absl::Status ReplaceBlocks(const v1::ReplaceBlocksRequest& request);

  // The recorded tombstones, oldest first, and their removal once the objects are deleted.
  std::vector<v1::BlockTombstones> Tombstones() const;
  void DeleteTombstones(const std::vector<std::string>& names);

  // Blocks overlapping [start_time, end_time] (ms, inclusive) holding at least one dataset of
  // the requested tenants whose range overlaps too and one of whose label sets matches the
  // selector in `query`. Each returned block holds only those datasets and a compact string
  // table; dataset labels are the matching sets projected onto request.labels (none when
  // request.labels is empty). Order: partition, tenant, shard, block id.
  // InvalidArgument for no tenants, end < start or a bad selector.
  absl::StatusOr<v1::QueryMetadataResponse> QueryMetadata(
      const v1::QueryMetadataRequest& request) const;

  // The distinct matching label sets (same selection as QueryMetadata) projected onto
  // request.labels, sorted. E.g. labels = {"__profile_type__"} lists the profile types.
  // Projections with none of the names are left out (so no names give an empty answer).
  absl::StatusOr<v1::QueryMetadataLabelsResponse> QueryMetadataLabels(
      const v1::QueryMetadataLabelsRequest& request) const;

  // Full metadata of the listed blocks of one tenant shard, in request order; unknown ids and
  // ids indexed under another tenant or shard are left out. InvalidArgument for a malformed id.
  absl::StatusOr<v1::GetBlockMetadataResponse> GetBlockMetadata(
      const v1::GetBlockMetadataRequest& request) const;

  // Tenants with at least one dataset (or block), sorted.
  v1::GetTenantsResponse GetTenants() const;
  // Stats of one tenant's datasets; data_ingested is false (and the rest zero) when it has none.
  // Both scan the index: admin calls, not hot paths.
  v1::GetTenantResponse GetTenant(const v1::GetTenantRequest& request) const;

  // The blocks whose data all lies before `before_ms` (max_time < before_ms), grouped by shard in
  // partition, tenant, shard order. For the retention loop (metastore/retention.h); scans the
  // shards holding data that old.
  std::vector<IndexShardSummary> ShardsBefore(int64_t before_ms) const;

  // What the compaction queue needs of a block (BlocksBelowLevel).
  struct QueueableBlock {
    BlockId id;
    std::string tenant;  // "" for level-0 segments
    uint32_t shard = 0;
    uint32_t level = 0;
    int64_t min_time = 0;
    uint64_t size = 0;
  };
  // Every block below `level`, in index order: the compaction queue rebuilt from a snapshot
  // that predates it.
  std::vector<QueueableBlock> BlocksBelowLevel(uint32_t level) const;

  size_t BlockCount() const;
  size_t PartitionCount() const;
  // Blocks per compaction level (index = level, no trailing zeros; levels above 15 count as 15),
  // kept up to date as blocks come and go: O(levels), so status pages and gauges may read it often.
  std::vector<uint64_t> BlockCountsByLevel() const;

  // An immutable view of the current state, to serialise on any thread while the index keeps
  // changing. O(shards + tombstones) pointer copies under the write lock; afterwards the first
  // write to each shard and block chunk it shares copies that shard's chunk list or that chunk.
  // Logically const (what readers see does not change).
  std::unique_ptr<IndexCapture> Capture() const;

  // Serialises the whole index (blocks, string tables, tombstones): Capture()->SerializeTo().
  // The format is framed protobuf records with a checksum; see block_index_snapshot.cc.
  std::string EncodeSnapshot() const;

  // Replaces the whole state with a snapshot's. On error (corrupt or truncated data) the index
  // is left unchanged.
  absl::Status RestoreSnapshot(std::string_view data);

  // RestoreSnapshot in two steps, for a caller restoring several parts of a state that checks
  // every part before changing any (MetastoreFsm::Restore).
  class DecodedSnapshot;
  static absl::StatusOr<DecodedSnapshot> DecodeSnapshot(std::string_view data);
  void Install(DecodedSnapshot snapshot);

 private:
  // Holds everything RestoreSnapshot swaps in one move.
  struct State;
  struct StateDeleter {
    void operator()(State* state) const;
  };
  using StatePtr = std::unique_ptr<State, StateDeleter>;

  static absl::Status AddBlockLocked(State& state, const BlockId& id, const v1::BlockMeta& block);
  static void RemoveBlockLocked(State& state, const BlockId& id);
  static index_internal::ShardSlot& GetOrCreateShard(State& state, int64_t partition,
                                                     std::string_view tenant, uint32_t shard);
  // The slot's shard, replaced by a private copy first when a capture may share it.
  static index_internal::Shard& MutableShard(State& state, index_internal::ShardSlot& slot);

  mutable std::shared_mutex mu_;
  StatePtr state_;
};

// A checked snapshot, ready to Install.
class BlockIndex::DecodedSnapshot {
 public:
  DecodedSnapshot(DecodedSnapshot&&) noexcept = default;
  DecodedSnapshot& operator=(DecodedSnapshot&&) noexcept = default;
  size_t block_count() const;

 private:
  friend class BlockIndex;
  explicit DecodedSnapshot(StatePtr state) : state_(std::move(state)) {}
  StatePtr state_;
};

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_INDEX_BLOCK_INDEX_H_
