// DatasetBuilder: one dataset (tenant × service) being assembled in memory, then encoded as the
// three sections of docs/format.md.
//
// The segment-writer keeps one per (tenant, service) in each open segment and appends every
// profile pushed to it. Appending interns symbols and stacks (SymbolsBuilder), registers the
// series and records the profile as a row; Finish() orders series canonically and rows by
// (series, time) and encodes them with DatasetWriter, the encoder compaction uses too.
#ifndef EMBERS_BLOCK_DATASET_BUILDER_H_
#define EMBERS_BLOCK_DATASET_BUILDER_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "block/dataset_writer.h"
#include "block/symbols.h"
#include "model/labels.h"
#include "model/profile_id.h"
#include "pprof/profile.h"

namespace embers::block {

// One profile of a series, for DatasetBuilder::Append of the series split from one pushed
// profile. The pointed-to objects must outlive the Append call only.
struct SeriesAppend {
  const model::Labels* series = nullptr;
  int64_t timestamp_ms = 0;
  int64_t duration_ns = 0;
  const pprof::Profile* samples = nullptr;
  std::span<const uint64_t> span_ids;
  std::span<const model::TraceId> trace_ids;
  model::ProfileId profile_id;
};

class DatasetBuilder {
 public:
  DatasetBuilder(std::string tenant, std::string service, DatasetOptions options = {});
  DatasetBuilder(const DatasetBuilder&) = delete;
  DatasetBuilder& operator=(const DatasetBuilder&) = delete;

  // Adds one profile of `series`. `profile` carries one sample type (values[0] of each sample is
  // used). `span_ids` is empty or holds one span id per sample (0 = none); SeriesAppend's
  // `trace_ids` likewise. Samples with value 0 are dropped; samples of equal stack are merged
  // unless they carry span or trace ids.
  // `profile_id` is the client's id of the pushed profile (zero: none).
  void Append(const model::Labels& series, int64_t timestamp_ms, int64_t duration_ns,
              const pprof::Profile& profile, std::span<const uint64_t> span_ids = {},
              model::ProfileId profile_id = {}) {
    Append(series, timestamp_ms, duration_ns, profile, profile, span_ids, profile_id);
  }
  // As above, with the symbol tables in `symbols` (a series split from a larger profile).
  void Append(const model::Labels& series, int64_t timestamp_ms, int64_t duration_ns,
              const pprof::Profile& samples, const pprof::Profile& symbols,
              std::span<const uint64_t> span_ids, model::ProfileId profile_id = {}) {
    const SeriesAppend one[] = {{.series = &series,
                                 .timestamp_ms = timestamp_ms,
                                 .duration_ns = duration_ns,
                                 .samples = &samples,
                                 .span_ids = span_ids,
                                 .profile_id = profile_id}};
    Append(one, symbols);
  }
  // Appends several profiles whose samples all refer to the symbol tables of `symbols` (the
  // series SplitBySeries made of one pushed profile, in its order). The dataset is the same as
  // after appending them one by one, but the symbols are interned once for all of them
  // (SymbolsBuilder::AddProfiles): the segment-writer passes each pushed profile's series here.
  void Append(std::span<const SeriesAppend> series, const pprof::Profile& symbols);

  // Encodes the dataset (in memory). The builder is empty afterwards.
  EncodedDataset Finish();

  const std::string& tenant() const { return tenant_; }
  const std::string& service() const { return service_; }
  size_t row_count() const { return rows_.size(); }
  size_t MemoryBytes() const;

 private:
  struct Row {
    uint32_t series = 0;
    int64_t timestamp_ms = 0;
    int64_t duration_ns = 0;
    uint32_t sample_begin = 0;
    uint32_t sample_count = 0;
    uint32_t span_begin = 0;
    uint32_t span_count = 0;
    uint32_t trace_begin = 0;
    uint32_t trace_count = 0;
    model::ProfileId profile_id;
  };
  struct SeriesEntry {
    model::Labels labels;
    uint64_t fingerprint = 0;
  };

  uint32_t SeriesIndex(const model::Labels& labels);
  // Records one profile as a row, given its samples' stack ids.
  void AddRow(const SeriesAppend& series, const std::vector<uint32_t>& stacks);

  std::string tenant_;
  std::string service_;
  DatasetOptions options_;
  SymbolsBuilder symbols_;
  std::vector<SeriesEntry> series_;
  absl::flat_hash_map<uint64_t, std::vector<uint32_t>> series_by_fingerprint_;
  std::vector<Row> rows_;
  std::vector<uint32_t> stack_ids_;
  std::vector<int64_t> values_;
  std::vector<uint64_t> span_ids_;
  std::vector<model::TraceId> trace_ids_;
  // Per-Append scratch: stack ids of each appended profile's samples, and sample order.
  std::vector<std::vector<uint32_t>> scratch_stacks_;
  std::vector<const pprof::Profile*> scratch_samples_;
  std::vector<std::vector<uint32_t>*> scratch_stack_ptrs_;
  std::vector<uint32_t> scratch_order_;
};

// Canonical order of label sets: pairwise by name (model::LabelNameLess), then value.
bool LabelsLess(const model::Labels& a, const model::Labels& b);

}  // namespace embers::block

#endif  // EMBERS_BLOCK_DATASET_BUILDER_H_
