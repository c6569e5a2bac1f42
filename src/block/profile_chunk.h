// Profiles chunks (docs/format.md, "Profiles section"): a chunk's directory entry and the columnar
// codec of its rows.
//
// ChunkEncoder turns rows, given in (series, time) order, into a chunk's raw columns; DatasetWriter
// (the segment-writer's datasets and compaction's) compresses them and records the entry.
// ChunkDecoder reads the columns back one row at a time, so a reader holds one chunk's raw bytes
// rather than its decoded samples; ProfileReader (queries and compaction) feeds it. Nothing else
// knows the column layout.
#ifndef EMBERS_BLOCK_PROFILE_CHUNK_H_
#define EMBERS_BLOCK_PROFILE_CHUNK_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "base/varint.h"
#include "model/profile_id.h"
#include "model/trace_id.h"

namespace embers::block {

// One profile row as written: `stack_ids` ascending (equal ids may repeat), `values` one per id,
// `span_ids` and `trace_ids` each empty or one per id (0 = none).
struct ProfileRow {
  uint32_t series = 0;  // rank of the series in the dataset
  int64_t timestamp_ms = 0;
  int64_t duration_ns = 0;
  std::span<const uint32_t> stack_ids;
  std::span<const int64_t> values;
  std::span<const uint64_t> span_ids;
  std::span<const model::TraceId> trace_ids;
  model::ProfileId profile_id;
};

// A decoded row without its samples (ChunkDecoder::ReadSamples gives them).
struct RowHeader {
  uint32_t series = 0;
  int64_t timestamp_ms = 0;
  int64_t duration_ns = 0;
  uint32_t sample_count = 0;
  uint32_t span_count = 0;   // 0 or sample_count
  uint32_t trace_count = 0;  // 0 or sample_count
  model::ProfileId profile_id;
};

// A chunk's entry in the profiles section's directory.
struct ChunkEntry {
  uint32_t first_row = 0;
  uint32_t row_count = 0;
  uint32_t first_series = 0;
  uint32_t last_series = 0;
  int64_t min_time_ms = 0;
  int64_t max_time_ms = 0;
  uint64_t offset = 0;  // from the start of the chunk area
  uint64_t stored_length = 0;
  uint64_t raw_length = 0;
  uint8_t codec = 0;
  uint32_t crc = 0;  // CRC32C of the stored bytes
};

void EncodeChunkEntry(const ChunkEntry& entry, std::string* out);
// False when `r` does not hold a whole entry.
bool DecodeChunkEntry(ByteReader* r, ChunkEntry* entry);

// The chunk layouts (docs/format.md): format version 1 tells an optional profile-id column by the
// bytes left after the span ids; version 2 starts each chunk with a byte of column flags and may
// add per-sample trace ids.
inline constexpr uint8_t kChunkHasProfileIds = 1;
inline constexpr uint8_t kChunkHasTraceIds = 2;

// Writes chunks of the current format version (object_writer.h kFormatVersion).
class ChunkEncoder {
 public:
  void Add(const ProfileRow& row);
  uint32_t row_count() const { return row_count_; }
  // Writes the chunk's raw bytes to `raw` (replacing its contents) and fills the entry's row
  // count, series, time range and raw length. The encoder is empty afterwards.
  void Finish(std::string* raw, ChunkEntry* entry);

 private:
  // One buffer per column, concatenated by Finish.
  std::string series_, times_, durations_, sample_counts_, stack_ids_, values_, span_counts_,
      span_ids_, profile_ids_, trace_counts_, trace_ids_;
  uint32_t row_count_ = 0;
  uint32_t first_series_ = 0;
  uint32_t last_series_ = 0;
  int64_t last_time_ = 0;
  int64_t min_time_ = 0;
  int64_t max_time_ = 0;
  bool with_profile_ids_ = false;
  bool with_trace_ids_ = false;
};

class ChunkDecoder {
 public:
  // Starts on a chunk's raw bytes (which must outlive the decoding) of an object of
  // `format_version`, with `row_count` rows whose series ranks start at `first_series`. Finds
  // where each column begins and checks that the columns fill the chunk; DataLoss naming `what`
  // (which must outlive the decoder) otherwise.
  absl::Status Reset(std::string_view raw, uint32_t row_count, uint32_t first_series,
                     std::string_view what, uint32_t format_version);
  uint32_t rows_left() const { return rows_left_; }
  // Samples and span ids of the rows not read yet, so that readers can reserve room for them.
  uint64_t samples_left() const { return samples_left_; }
  uint64_t spans_left() const { return spans_left_; }
  uint64_t traces_left() const { return traces_left_; }
  // Decodes the next row's header (rows_left() must be positive). The samples of the previous
  // row are skipped unless ReadSamples read them.
  absl::Status NextRow(RowHeader* row);
  // Appends the samples of the row NextRow returned: its stack ids, values, span ids and trace
  // ids (none when the row has none).
  absl::Status ReadSamples(std::vector<uint32_t>* stack_ids, std::vector<int64_t>* values,
                           std::vector<uint64_t>* span_ids, std::vector<model::TraceId>* trace_ids);

 private:
  absl::Status Corrupt(std::string_view why) const;
  absl::Status SkipSamples();

  std::string_view what_;
  ByteReader series_{{}}, times_{{}}, durations_{{}}, sample_counts_{{}}, stack_ids_{{}},
      values_{{}}, span_counts_{{}}, trace_counts_{{}};
  const char* span_ids_ = nullptr;
  const char* profile_ids_ = nullptr;  // null: the chunk has no profile-id column
  const char* trace_ids_ = nullptr;
  bool with_traces_ = false;
  uint32_t rows_left_ = 0;
  uint64_t samples_left_ = 0;
  uint64_t spans_left_ = 0;
  uint64_t traces_left_ = 0;
  uint32_t series_rank_ = 0;
  bool first_row_ = true;
  int64_t last_time_ = 0;
  // Samples of the current row not read yet.
  uint32_t pending_samples_ = 0;
  uint32_t pending_spans_ = 0;
  uint32_t pending_traces_ = 0;
};

}  // namespace embers::block

#endif  // EMBERS_BLOCK_PROFILE_CHUNK_H_
