#include "block/dataset_writer.h"

#include <algorithm>

#include "base/crc32c.h"
#include "base/strings.h"
#include "base/varint.h"
#include "block/section.h"

namespace embers::block {

std::string EncodedDataset::ProfilesSection() const {
  std::string section = profiles_head;
  section.append(profiles_area.memory());
  PutFixed32(&section, Crc32c(section));
  return section;
}

DatasetWriter::DatasetWriter(std::string tenant, std::string service, DatasetOptions options,
                             SpillBuffer profiles_area)
    : tenant_(std::move(tenant)),
      service_(std::move(service)),
      options_(options),
      area_(std::move(profiles_area)) {}

uint32_t DatasetWriter::InternString(std::string_view s) {
  auto it = string_index_.find(ToAbsl(s));
  if (it != string_index_.end()) return it->second;
  const uint32_t index = static_cast<uint32_t>(strings_.size());
  string_index_.emplace(ToAbsl(strings_.emplace_back(s)), index);
  return index;
}

uint32_t DatasetWriter::AddSeries(const model::Labels& labels, uint64_t fingerprint) {
  Series s;
  s.label_begin = static_cast<uint32_t>(label_refs_.size());
  s.label_count = static_cast<uint32_t>(labels.size());
  s.fingerprint = fingerprint;
  // Strings are numbered in the order the series section lists them.
  for (const auto& l : labels) {
    label_refs_.push_back(InternString(l.name));
    label_refs_.push_back(InternString(l.value));
  }
  profile_types_.insert(std::string(labels.Get(model::kLabelProfileType)));
  series_.push_back(s);
  return static_cast<uint32_t>(series_.size() - 1);
}

void DatasetWriter::AddRow(const ProfileRow& row) {
  Series& s = series_[row.series];
  if (s.row_count++ == 0) s.first_row = static_cast<uint32_t>(row_count_);
  s.min_time_ms = std::min(s.min_time_ms, row.timestamp_ms);
  s.max_time_ms = std::max(s.max_time_ms, row.timestamp_ms);
  min_time_ms_ = std::min(min_time_ms_, row.timestamp_ms);
  max_time_ms_ = std::max(max_time_ms_, row.timestamp_ms);
  sample_count_ += row.stack_ids.size();
  if (chunk_.row_count() == 0) chunk_first_row_ = static_cast<uint32_t>(row_count_);
  chunk_.Add(row);
  ++row_count_;
  chunk_samples_ += row.stack_ids.size();
  if (chunk_.row_count() >= options_.rows_per_chunk ||
      (options_.max_chunk_samples > 0 && chunk_samples_ >= options_.max_chunk_samples)) {
    FlushChunk();
  }
}

void DatasetWriter::FlushChunk() {
  ChunkEntry entry;
  chunk_.Finish(&raw_chunk_, &entry);
  const std::string stored = CompressBody(raw_chunk_, Codec::kZstd, options_.zstd_level, &zstd_);
  entry.first_row = chunk_first_row_;
  entry.offset = area_.size();
  entry.stored_length = stored.size();
  entry.codec = static_cast<uint8_t>(Codec::kZstd);
  entry.crc = Crc32c(stored);
  EncodeChunkEntry(entry, &directory_);
  area_.Append(stored);
  ++chunk_count_;
  chunk_samples_ = 0;
}

size_t DatasetWriter::MemoryBytes() const {
  size_t strings = 0;
  for (const std::string& s : strings_) strings += s.capacity() + 48;
  return strings + label_refs_.capacity() * 4 + series_.capacity() * sizeof(Series) +
         raw_chunk_.capacity() * 2 + directory_.capacity();
}

EncodedDataset DatasetWriter::Finish(const SymbolsBuilder& symbols) {
  if (chunk_.row_count() > 0) FlushChunk();
  EncodedDataset out;
  out.tenant = tenant_;
  out.service = service_;
  out.series_count = series_.size();
  out.row_count = row_count_;
  out.sample_count = sample_count_;
  out.min_time_ms = row_count_ == 0 ? 0 : min_time_ms_;
  out.max_time_ms = row_count_ == 0 ? 0 : max_time_ms_;

  std::string series;
  PutVarint64(&series, strings_.size());
  for (const std::string& s : strings_) PutLengthPrefixed(&series, s);
  PutVarint64(&series, series_.size());
  for (const Series& s : series_) {
    PutVarint64(&series, s.label_count);
    for (uint32_t i = 0; i < 2 * s.label_count; ++i) {
      PutVarint64(&series, label_refs_[s.label_begin + i]);
    }
    PutFixed64(&series, s.fingerprint);
    PutVarint64(&series, s.first_row);
    PutVarint64(&series, s.row_count);
    PutZigzag64(&series, s.min_time_ms);
    PutZigzag64(&series, s.max_time_ms);
  }
  EncodeSection(series, Codec::kZstd, options_.zstd_level, &out.series_section, &zstd_);

  // The chunks are compressed already; the envelope only adds framing and a checksum.
  std::string count;
  PutVarint64(&count, chunk_count_);
  out.profiles_head =
      SectionHead(Codec::kNone, count.size() + directory_.size() + area_.size()) + count;
  out.profiles_head += directory_;
  out.profiles_area = std::move(area_);

  EncodeSection(symbols.Encode(), Codec::kZstd, options_.zstd_level, &out.symbols_section, &zstd_);

  // Index label sets: one per profile type present.
  std::vector<std::string> types(profile_types_.begin(), profile_types_.end());
  std::sort(types.begin(), types.end());
  for (const std::string& t : types) {
    out.index_label_sets.push_back(model::Labels({{std::string(model::kLabelServiceName), service_},
                                                  {std::string(model::kLabelProfileType), t}}));
  }
  return out;
}

}  // namespace embers::block
