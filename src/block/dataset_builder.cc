#include "block/dataset_builder.h"

#include <algorithm>
#include <numeric>

#include "absl/container/flat_hash_set.h"
#include "base/crc32c.h"
#include "base/varint.h"
#include "block/section.h"

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
  for (uint32_t i : scratch_order_) {
    std::span<const int64_t> values = profile.SampleValues(profile.samples[i]);
    int64_t value = values.empty() ? 0 : values[0];
    if (value == 0) continue;
    uint32_t stack = stacks[i];
    if (!with_spans && stack_ids_.size() > row.sample_begin && stack_ids_.back() == stack) {
      values_.back() += value;
      continue;
    }
    stack_ids_.push_back(stack);
    values_.push_back(value);
    if (with_spans) span_ids_.push_back(span_ids[i]);
  }
  row.sample_count = static_cast<uint32_t>(stack_ids_.size() - row.sample_begin);
  row.span_count = with_spans ? row.sample_count : 0;
  if (row.sample_count == 0) return;  // nothing left to store
  rows_.push_back(row);
}

size_t DatasetBuilder::MemoryBytes() const {
  size_t series_bytes = 0;
  for (const auto& s : series_) {
    for (const auto& l : s.labels) series_bytes += l.name.size() + l.value.size() + 64;
  }
  return symbols_.MemoryBytes() + series_bytes + rows_.capacity() * sizeof(Row) +
         stack_ids_.capacity() * 4 + values_.capacity() * 8 + span_ids_.capacity() * 8;
}

std::string DatasetBuilder::EncodeSeries(const std::vector<uint32_t>& order,
                                         const std::vector<uint32_t>& first_row,
                                         const std::vector<uint32_t>& row_count,
                                         const std::vector<int64_t>& min_time,
                                         const std::vector<int64_t>& max_time) const {
  std::vector<std::string_view> strings;
  absl::flat_hash_map<std::string_view, uint32_t> index;
  auto intern = [&](std::string_view s) {
    auto [it, inserted] = index.try_emplace(s, static_cast<uint32_t>(strings.size()));
    if (inserted) strings.push_back(s);
    return it->second;
  };
  std::string body_series;
  PutVarint64(&body_series, order.size());
  for (uint32_t rank = 0; rank < order.size(); ++rank) {
    const SeriesEntry& s = series_[order[rank]];
    PutVarint64(&body_series, s.labels.size());
    for (const auto& l : s.labels) {
      PutVarint64(&body_series, intern(l.name));
      PutVarint64(&body_series, intern(l.value));
    }
    PutFixed64(&body_series, s.fingerprint);
    PutVarint64(&body_series, first_row[rank]);
    PutVarint64(&body_series, row_count[rank]);
    PutZigzag64(&body_series, min_time[rank]);
    PutZigzag64(&body_series, max_time[rank]);
  }
  std::string body;
  PutVarint64(&body, strings.size());
  for (std::string_view s : strings) PutLengthPrefixed(&body, s);
  body += body_series;
  return body;
}

EncodedDataset DatasetBuilder::Finish() {
  EncodedDataset out;
  out.tenant = tenant_;
  out.service = service_;

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

  std::vector<uint32_t> first_row(order.size(), 0), row_count(order.size(), 0);
  std::vector<int64_t> min_time(order.size(), INT64_MAX), max_time(order.size(), INT64_MIN);
  out.min_time_ms = INT64_MAX;
  out.max_time_ms = INT64_MIN;
  for (uint32_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows_[rows[i]];
    uint32_t rank = rank_of[row.series];
    if (row_count[rank]++ == 0) first_row[rank] = i;
    min_time[rank] = std::min(min_time[rank], row.timestamp_ms);
    max_time[rank] = std::max(max_time[rank], row.timestamp_ms);
    out.min_time_ms = std::min(out.min_time_ms, row.timestamp_ms);
    out.max_time_ms = std::max(out.max_time_ms, row.timestamp_ms);
    out.sample_count += row.sample_count;
  }
  if (rows.empty()) out.min_time_ms = out.max_time_ms = 0;
  out.series_count = order.size();
  out.row_count = rows.size();

  EncodeSection(EncodeSeries(order, first_row, row_count, min_time, max_time), Codec::kZstd,
                options_.zstd_level, &out.series_section);

  // Profiles: a chunk directory, then the chunks.
  std::string directory, area;
  size_t chunk_count = 0;
  for (size_t begin = 0; begin < rows.size(); begin += options_.rows_per_chunk) {
    size_t end = std::min(rows.size(), begin + options_.rows_per_chunk);
    std::string raw;
    uint32_t first_series = rank_of[rows_[rows[begin]].series];
    uint32_t last_series = rank_of[rows_[rows[end - 1]].series];
    int64_t chunk_min = INT64_MAX, chunk_max = INT64_MIN;
    uint32_t prev_series = first_series;
    int64_t prev_time = 0;
    for (size_t i = begin; i < end; ++i) {
      uint32_t rank = rank_of[rows_[rows[i]].series];
      PutVarint64(&raw, rank - prev_series);
      prev_series = rank;
    }
    prev_series = UINT32_MAX;
    for (size_t i = begin; i < end; ++i) {
      const Row& row = rows_[rows[i]];
      uint32_t rank = rank_of[row.series];
      PutZigzag64(&raw, rank == prev_series ? row.timestamp_ms - prev_time : row.timestamp_ms);
      prev_series = rank;
      prev_time = row.timestamp_ms;
      chunk_min = std::min(chunk_min, row.timestamp_ms);
      chunk_max = std::max(chunk_max, row.timestamp_ms);
    }
    for (size_t i = begin; i < end; ++i) PutZigzag64(&raw, rows_[rows[i]].duration_ns);
    for (size_t i = begin; i < end; ++i) PutVarint64(&raw, rows_[rows[i]].sample_count);
    for (size_t i = begin; i < end; ++i) {
      const Row& row = rows_[rows[i]];
      uint32_t prev = 0;
      for (uint32_t s = 0; s < row.sample_count; ++s) {
        uint32_t id = stack_ids_[row.sample_begin + s];
        PutVarint64(&raw, id - prev);
        prev = id;
      }
    }
    for (size_t i = begin; i < end; ++i) {
      const Row& row = rows_[rows[i]];
      for (uint32_t s = 0; s < row.sample_count; ++s)
        PutZigzag64(&raw, values_[row.sample_begin + s]);
    }
    for (size_t i = begin; i < end; ++i) PutVarint64(&raw, rows_[rows[i]].span_count);
    for (size_t i = begin; i < end; ++i) {
      const Row& row = rows_[rows[i]];
      for (uint32_t s = 0; s < row.span_count; ++s) PutFixed64(&raw, span_ids_[row.span_begin + s]);
    }
    // Optional trailing column: written only when some row of the chunk has a profile id, so
    // chunks without ids keep the original layout.
    bool with_ids = false;
    for (size_t i = begin; i < end && !with_ids; ++i) with_ids = !rows_[rows[i]].profile_id.empty();
    if (with_ids) {
      for (size_t i = begin; i < end; ++i) {
        PutFixed64(&raw, rows_[rows[i]].profile_id.hi);
        PutFixed64(&raw, rows_[rows[i]].profile_id.lo);
      }
    }
    std::string stored = CompressBody(raw, Codec::kZstd, options_.zstd_level);
    PutVarint64(&directory, begin);
    PutVarint64(&directory, end - begin);
    PutVarint64(&directory, first_series);
    PutVarint64(&directory, last_series);
    PutZigzag64(&directory, chunk_min);
    PutZigzag64(&directory, chunk_max);
    PutVarint64(&directory, area.size());
    PutVarint64(&directory, stored.size());
    PutVarint64(&directory, raw.size());
    directory.push_back(static_cast<char>(Codec::kZstd));
    PutFixed32(&directory, Crc32c(stored));
    area += stored;
    ++chunk_count;
  }
  std::string profiles;
  PutVarint64(&profiles, chunk_count);
  profiles += directory;
  profiles += area;
  // The chunks are compressed already; the envelope only adds framing and a checksum.
  EncodeSection(profiles, Codec::kNone, 0, &out.profiles_section);

  EncodeSection(symbols_.Encode(), Codec::kZstd, options_.zstd_level, &out.symbols_section);

  // Index label sets: one per profile type present.
  absl::flat_hash_set<std::string> types;
  for (const auto& s : series_) types.insert(std::string(s.labels.Get(model::kLabelProfileType)));
  std::vector<std::string> sorted(types.begin(), types.end());
  std::sort(sorted.begin(), sorted.end());
  for (const auto& t : sorted) {
    out.index_label_sets.push_back(model::Labels({{std::string(model::kLabelServiceName), service_},
                                                  {std::string(model::kLabelProfileType), t}}));
  }

  // Leave the builder empty (segments are single-use).
  series_.clear();
  series_by_fingerprint_.clear();
  rows_.clear();
  stack_ids_.clear();
  values_.clear();
  span_ids_.clear();
  return out;
}

}  // namespace embers::block
