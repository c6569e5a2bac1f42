// CompactBlocks: the compaction kernel. Merges the objects of one compaction job (all of one
// shard) into one block per tenant and uploads them.
//
// The compaction-worker calls it for each job the metastore leases to it, with the sources'
// BlockMeta as the metastore indexes them, and reports the outputs' BlockMeta back. Level-0
// segments hold every tenant of a shard and are split: each tenant found among the sources'
// datasets gets its own block (blocks/<shard>/<tenant>/<ULID>/block.bin), one per data partition
// (CompactionOptions::partition_duration_ms) its data falls in. In a block, the
// datasets of one service are merged by MergeDatasets (dataset_merge.h): a streaming k-way merge
// by (series, time) that keeps a profile pushed twice once and rewrites symbols keeping only what
// is referenced.
//
// Output ids are deterministic: the ULID time is the greatest among the sources' ids and its
// random bits are a 128-bit hash of (job name, tenant, partition), so a retried job writes the same
// keys with the same bytes and overwrites instead of duplicating. A retry after a failure may find
// blocks of the first attempt already uploaded; they are overwritten likewise.
//
// Memory stays bounded whatever the input size (docs/architecture.md, "Compaction merge"):
// sources are read through bounded ranged reads (small ones fetched whole), output profile chunks
// spill to files in `temp_dir` past a share of the limit, and each output object is assembled in
// a file there and uploaded with Bucket::PutFile. Decoded symbols and series must fit the limit.
#ifndef EMBERS_BLOCK_COMPACTION_H_
#define EMBERS_BLOCK_COMPACTION_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "metastore/v1/types.pb.h"
#include "objstore/bucket.h"

namespace embers::block {

struct CompactionOptions {
  // Seeds the deterministic output ids (with each output's tenant); names the job in errors.
  std::string job_name;
  // max(source levels) + 1, given by the caller.
  uint32_t output_level = 1;
  // Host name, recorded as BlockMeta.created_by.
  std::string created_by;
  // Scratch directory for spilled output (created if missing). The kernel removes its files.
  std::string temp_dir;
  // -compaction.memory-limit. Decoded symbols and series of the datasets being merged must fit
  // in it (else ResourceExhausted); read windows, whole small sources and output held in memory
  // before spilling each take a bounded share of it.
  size_t memory_limit_bytes = 256 << 20;
  // Sources up to this size are fetched whole, in one read, as long as those held take at most a
  // quarter of the memory limit (level-0 segments are small and many); larger ones are streamed
  // through ranged reads.
  size_t whole_object_max_bytes = 8 << 20;
  // Outputs are split by data time into partitions of this width (the metastore's, 6 h): a
  // compacted block holds one tenant's data of one partition, so the profiles of one partition
  // (a retried push's two copies among them) keep meeting in the same batches level after level,
  // and retention can drop whole blocks.
  int64_t partition_duration_ms = 6 * 3600 * 1000;
  // zstd level of the output's sections and chunks (the segment-writer uses 1).
  int zstd_level = 3;
  // Set when the job's lease is lost: the kernel stops early with Cancelled, uploading nothing
  // more.
  const std::atomic<bool>* cancel = nullptr;
};

struct CompactionStats {
  uint32_t source_objects = 0;   // sources read
  uint32_t missing_sources = 0;  // not found in the bucket (deleted already): skipped
  uint64_t source_bytes = 0;     // total size of the sources read
  uint64_t bytes_read = 0;       // fetched from the bucket
  uint32_t output_objects = 0;
  uint64_t output_bytes = 0;
  uint64_t datasets_in = 0;
  uint64_t datasets_out = 0;
  uint64_t rows_in = 0;
  uint64_t rows_out = 0;
  uint64_t duplicate_rows = 0;  // profiles pushed twice, kept once
  uint64_t samples_in = 0;
  uint64_t samples_out = 0;
  uint64_t series_out = 0;
  uint64_t spilled_bytes = 0;  // output bytes that went through temporary files
  // The largest amount of decoded symbols and series one dataset's merge held.
  uint64_t peak_symbols_bytes = 0;
  // The largest total of read windows and decompressed chunks one dataset's merge held.
  uint64_t peak_read_bytes = 0;
};

struct CompactionResult {
  // One block per tenant and partition, in (tenant, partition) order, as uploaded (with `size`).
  std::vector<metastore::v1::BlockMeta> outputs;
  CompactionStats stats;
};

// Merges `sources` (all of one shard) and uploads one output object per tenant to `bucket`.
// Sources missing from the bucket are skipped (counted in the stats). Errors: InvalidArgument for
// a bad job (no sources, several shards, an id that is not a ULID, bad options); DataLoss naming
// the object, dataset and section for corrupt input; ResourceExhausted for the memory limit;
// Cancelled; the bucket's errors, naming the object.
absl::StatusOr<CompactionResult> CompactBlocks(objstore::Bucket* bucket,
                                               std::span<const metastore::v1::BlockMeta> sources,
                                               const CompactionOptions& options);

}  // namespace embers::block

#endif  // EMBERS_BLOCK_COMPACTION_H_
