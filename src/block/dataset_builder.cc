#include "block/dataset_builder.h"

#include <algorithm>
#include <numeric>

namespace embers::block {

bool LabelsLess(const model::Labels& a, const model::Labels& b) {
  const auto& x = a.labels();
  const auto& y = b.labels();
  size_t n = std::min(x.size(), y.size());
  for (size_t i = 0; i < n; ++i) {
    if (x[i].name != y[i].name) return model::LabelNameLess(x[i].name, y[i].name);
    if (x[i].value != y[i].value) return x[i].value < y[i].value;
  }
  return x.size() < y.size();
}

DatasetBuilder::DatasetBuilder(std::string tenant, std::string service, DatasetOptions options)
    : tenant_(std::move(tenant)), service_(std::move(service)), options_(options) {}

uint32_t DatasetBuilder::SeriesIndex(const model::Labels& labels) {
  uint64_t fp = labels.Fingerprint();
  std::vector<uint32_t>& candidates = series_by_fingerprint_[fp];
  for (uint32_t i : candidates) {
    if (series_[i].labels == labels) return i;  // a fingerprint collision is not a match
  }
  uint32_t index = static_cast<uint32_t>(series_.size());
  series_.push_back({labels, fp});
  candidates.push_back(index);
  return index;
}

void DatasetBuilder::Append(std::span<const SeriesAppend> series, const pprof::Profile& symbols) {
  if (scratch_stacks_.size() < series.size()) scratch_stacks_.resize(series.size());
  scratch_samples_.clear();
  scratch_stack_ptrs_.clear();
  for (size_t k = 0; k < series.size(); ++k) {
    scratch_samples_.push_back(series[k].samples);
    scratch_stack_ptrs_.push_back(&scratch_stacks_[k]);
  }
  symbols_.AddProfiles(scratch_samples_, symbols, scratch_stack_ptrs_);
  for (size_t k = 0; k < series.size(); ++k) AddRow(series[k], scratch_stacks_[k]);
}

void DatasetBuilder::AddRow(const SeriesAppend& series, const std::vector<uint32_t>& stacks) {
  const pprof::Profile& profile = *series.samples;
  const std::span<const uint64_t> span_ids = series.span_ids;
  const bool with_spans = !span_ids.empty() && span_ids.size() == profile.samples.size();
  const std::span<const model::TraceId> trace_ids = series.trace_ids;
  const bool with_traces = !trace_ids.empty() && trace_ids.size() == profile.samples.size();

  // Order the row's samples by stack id (the profiles section stores ids as deltas).
  scratch_order_.resize(profile.samples.size());
  std::iota(scratch_order_.begin(), scratch_order_.end(), 0u);
  std::sort(scratch_order_.begin(), scratch_order_.end(),
            [&](uint32_t a, uint32_t b) { return stacks[a] < stacks[b]; });

  Row row;
  row.series = SeriesIndex(*series.series);
  row.timestamp_ms = series.timestamp_ms;
  row.duration_ns = series.duration_ns;
  row.profile_id = series.profile_id;
  row.sample_begin = static_cast<uint32_t>(stack_ids_.size());
  row.span_begin = static_cast<uint32_t>(span_ids_.size());
  row.trace_begin = static_cast<uint32_t>(trace_ids_.size());
  for (uint32_t i : scratch_order_) {
    std::span<const int64_t> values = profile.SampleValues(profile.samples[i]);
    int64_t value = values.empty() ? 0 : values[0];
    if (value == 0) continue;
    uint32_t stack = stacks[i];
    if (!with_spans && !with_traces && stack_ids_.size() > row.sample_begin &&
        stack_ids_.back() == stack) {
      values_.back() += value;
      continue;
    }
    stack_ids_.push_back(stack);
    values_.push_back(value);
    if (with_spans) span_ids_.push_back(span_ids[i]);
    if (with_traces) trace_ids_.push_back(trace_ids[i]);
  }
  row.sample_count = static_cast<uint32_t>(stack_ids_.size() - row.sample_begin);
  row.span_count = with_spans ? row.sample_count : 0;
  row.trace_count = with_traces ? row.sample_count : 0;
  if (row.sample_count == 0) return;  // nothing left to store
  rows_.push_back(row);
}

size_t DatasetBuilder::MemoryBytes() const {
  size_t series_bytes = 0;
  for (const auto& s : series_) {
    for (const auto& l : s.labels) series_bytes += l.name.size() + l.value.size() + 64;
  }
  return symbols_.MemoryBytes() + series_bytes + rows_.capacity() * sizeof(Row) +
         stack_ids_.capacity() * 4 + values_.capacity() * 8 + span_ids_.capacity() * 8 +
         trace_ids_.capacity() * sizeof(model::TraceId);
}

EncodedDataset DatasetBuilder::Finish() {
  // Series in canonical label order; rank = position in that order.
  std::vector<uint32_t> order(series_.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return LabelsLess(series_[a].labels, series_[b].labels);
  });
  std::vector<uint32_t> rank_of(series_.size());
  for (uint32_t r = 0; r < order.size(); ++r) rank_of[order[r]] = r;

  // Rows by (series rank, time); stable so equal timestamps keep arrival order.
  std::vector<uint32_t> rows(rows_.size());
  std::iota(rows.begin(), rows.end(), 0u);
  std::stable_sort(rows.begin(), rows.end(), [&](uint32_t a, uint32_t b) {
    uint32_t ra = rank_of[rows_[a].series], rb = rank_of[rows_[b].series];
    if (ra != rb) return ra < rb;
    return rows_[a].timestamp_ms < rows_[b].timestamp_ms;
  });

  DatasetWriter writer(tenant_, service_, options_);
  size_t next = 0;
  for (uint32_t rank = 0; rank < order.size(); ++rank) {
    const SeriesEntry& series = series_[order[rank]];
    writer.AddSeries(series.labels, series.fingerprint);
    for (; next < rows.size() && rank_of[rows_[rows[next]].series] == rank; ++next) {
      const Row& row = rows_[rows[next]];
      writer.AddRow({.series = rank,
                     .timestamp_ms = row.timestamp_ms,
                     .duration_ns = row.duration_ns,
                     .stack_ids = {stack_ids_.data() + row.sample_begin, row.sample_count},
                     .values = {values_.data() + row.sample_begin, row.sample_count},
                     .span_ids = {span_ids_.data() + row.span_begin, row.span_count},
                     .trace_ids = {trace_ids_.data() + row.trace_begin, row.trace_count},
                     .profile_id = row.profile_id});
    }
  }
  EncodedDataset out = writer.Finish(symbols_);

  // Leave the builder empty (segments are single-use).
  series_.clear();
  series_by_fingerprint_.clear();
  rows_.clear();
  stack_ids_.clear();
  values_.clear();
  span_ids_.clear();
  trace_ids_.clear();
  return out;
}

}  // namespace embers::block
