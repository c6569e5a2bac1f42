// DatasetWriter: encodes one dataset (tenant × service) from its series and rows given in order,
// as the three sections of docs/format.md.
//
// The one encoder of datasets: DatasetBuilder::Finish (the segment-writer) sorts what it gathered
// and feeds it here; compaction feeds the rows its k-way merge emits. Rows are encoded into
// profile chunks as they arrive, and the compressed chunks go to a SpillBuffer (memory only for
// the segment-writer, spilling to a file for compaction), so a dataset never has to be held in
// memory in decoded form. Series (labels and row ranges) are kept until Finish, which encodes the
// series and symbols sections and the profiles section's directory.
#ifndef EMBERS_BLOCK_DATASET_WRITER_H_
#define EMBERS_BLOCK_DATASET_WRITER_H_

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "block/profile_chunk.h"
#include "block/section.h"
#include "block/spill_buffer.h"
#include "block/symbols.h"
#include "model/labels.h"

namespace embers::block {

struct DatasetOptions {
  int zstd_level = 1;
  size_t rows_per_chunk = 4096;
  // A chunk also ends once it holds this many samples (0: no such bound). What a reader holds
  // decompressed per chunk is bounded by it: a compaction job holds one chunk per source, so a
  // job of dense segments stays small. Smaller chunks compress worse: at 64 Ki samples a level-2
  // block of the compaction benchmark takes 1.00 byte per sample, at 256 Ki 0.70, as unbounded.
  size_t max_chunk_samples = 256 * 1024;
};

// An encoded dataset, ready to be placed in an object (ObjectWriter), plus what the object's
// metadata needs to know about it. The profiles section is `profiles_head` (envelope head, chunk
// count and directory), the chunks in `profiles_area`, then the CRC32C of both, which the object
// writer computes as it copies the area.
struct EncodedDataset {
  std::string tenant;
  std::string service;
  std::string series_section;
  std::string profiles_head;
  SpillBuffer profiles_area;
  std::string symbols_section;
  int64_t min_time_ms = 0;
  int64_t max_time_ms = 0;
  // One label set per profile type ({service_name, __profile_type__}), for the metastore index.
  std::vector<model::Labels> index_label_sets;
  size_t series_count = 0;
  size_t row_count = 0;
  size_t sample_count = 0;

  // The whole profiles section, for an area held in memory (the segment-writer's).
  std::string ProfilesSection() const;
};

class DatasetWriter {
 public:
  // `profiles_area` receives the stored chunks (memory only by default).
  DatasetWriter(std::string tenant, std::string service, DatasetOptions options,
                SpillBuffer profiles_area = SpillBuffer());
  DatasetWriter(const DatasetWriter&) = delete;
  DatasetWriter& operator=(const DatasetWriter&) = delete;

  // Adds the next series, in canonical label order (LabelsLess); returns its rank. A series may
  // have no rows.
  uint32_t AddSeries(const model::Labels& labels, uint64_t fingerprint);
  // Adds a row of a series added before; rows come in (series rank, time) order.
  void AddRow(const ProfileRow& row);
  // Encodes the series and symbols sections and the profiles directory. The writer is spent.
  EncodedDataset Finish(const SymbolsBuilder& symbols);

  size_t series_count() const { return series_.size(); }
  size_t row_count() const { return row_count_; }
  // I/O errors of the profiles area (see SpillBuffer).
  const absl::Status& status() const { return area_.status(); }
  // Heap bytes held for the series section, the chunk being encoded and the directory (the
  // profiles area has its own bound).
  size_t MemoryBytes() const;

 private:
  struct Series {
    uint32_t label_begin = 0;  // into label_refs_: (name, value) string indexes
    uint32_t label_count = 0;
    uint64_t fingerprint = 0;
    uint32_t first_row = 0;
    uint32_t row_count = 0;
    int64_t min_time_ms = INT64_MAX;
    int64_t max_time_ms = INT64_MIN;
  };

  uint32_t InternString(std::string_view s);
  void FlushChunk();

  std::string tenant_;
  std::string service_;
  DatasetOptions options_;
  // The series section's string table in first-use order; a deque keeps the views stable.
  std::deque<std::string> strings_;
  absl::flat_hash_map<absl::string_view, uint32_t> string_index_;
  std::vector<uint32_t> label_refs_;
  std::vector<Series> series_;
  absl::flat_hash_set<std::string> profile_types_;
  size_t row_count_ = 0;
  size_t sample_count_ = 0;
  int64_t min_time_ms_ = INT64_MAX;
  int64_t max_time_ms_ = INT64_MIN;

  ChunkEncoder chunk_;
  uint32_t chunk_first_row_ = 0;
  size_t chunk_samples_ = 0;
  std::string raw_chunk_;  // scratch
  ZstdContext zstd_;
  std::string directory_;
  uint32_t chunk_count_ = 0;
  SpillBuffer area_;
};

}  // namespace embers::block

#endif  // EMBERS_BLOCK_DATASET_WRITER_H_
