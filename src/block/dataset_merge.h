// MergeDatasets: the merge of compaction (reference §7.5) for one tenant × service: the datasets
// of that service in several source objects become one dataset.
//
// Each source's rows are already ordered by (series labels, time); a k-way merge over their
// ProfileReaders emits all rows in that order into a DatasetWriter, so nothing but one row and one
// chunk per source is held in decoded form. A row pushed twice (a client retry, in one source or
// two) is kept once: rows with equal (series, timestamp) meet in the merge, and one whose
// ProfileKey (profile_identity.h) equals a row already kept in that run is dropped, the same
// identity the query path de-duplicates with. Kept rows keep their samples; their stack-trace
// ids are rewritten through a SymbolsMerger per source into one output SymbolsBuilder, so only
// symbols some kept row uses are copied. The decoded source symbols and series and the output
// symbols are the memory that grows with the data; beyond the limit the merge stops with
// ResourceExhausted. Called by CompactBlocks (compaction.h).
#ifndef EMBERS_BLOCK_DATASET_MERGE_H_
#define EMBERS_BLOCK_DATASET_MERGE_H_

#include <atomic>
#include <cstdint>
#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "block/dataset_writer.h"
#include "block/object_reader.h"

namespace embers::block {

// One source dataset: dataset `dataset` of `object`.
struct MergeSource {
  const ObjectReader* object = nullptr;
  int dataset = 0;
};

struct MergeOptions {
  std::string tenant;
  std::string service;
  DatasetOptions dataset;
  // Bytes each source's ProfileReader fetches at a time (0: whole sections).
  uint64_t window_bytes = 0;
  // Decoded symbols and series beyond this fail the merge with ResourceExhausted.
  size_t memory_limit_bytes = 0;
  // Only rows with timestamps in [min_time_ms, max_time_ms] are merged (one partition).
  int64_t min_time_ms = INT64_MIN;
  int64_t max_time_ms = INT64_MAX;
  // The error messages' name of the job.
  std::string job_name;
  // Set when the merge should stop (Cancelled).
  const std::atomic<bool>* cancel = nullptr;
};

struct MergeStats {
  uint64_t rows_in = 0;
  uint64_t rows_out = 0;
  uint64_t duplicate_rows = 0;
  uint64_t samples_in = 0;
  uint64_t samples_out = 0;
  uint64_t series_out = 0;
  uint64_t bytes_fetched = 0;  // from the bucket (sources not held whole in memory)
  size_t peak_symbols_bytes = 0;
  // The largest total of the sources' read windows and decompressed chunks.
  size_t peak_read_bytes = 0;
};

// Merges `sources` (datasets of one tenant and service, in a fixed order that breaks ties
// between equal rows) into one dataset whose chunks go to `profiles_area`. Errors: DataLoss naming
// the object, dataset and section for corrupt input; ResourceExhausted for the memory limit;
// Cancelled; the bucket's errors.
absl::StatusOr<EncodedDataset> MergeDatasets(std::span<const MergeSource> sources,
                                             const MergeOptions& options, SpillBuffer profiles_area,
                                             MergeStats* stats);

}  // namespace embers::block

#endif  // EMBERS_BLOCK_DATASET_MERGE_H_
