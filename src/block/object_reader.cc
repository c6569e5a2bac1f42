#include "block/object_reader.h"

#include <algorithm>

#include "base/crc32c.h"
#include "base/status.h"
#include "base/strings.h"
#include "base/varint.h"
#include "block/object_writer.h"
#include "block/profile_reader.h"
#include "block/section.h"

namespace embers::block {
namespace {

constexpr uint64_t kTailFetch = 64 * 1024;

absl::Status Corrupt(std::string_view key, std::string_view why) {
  return absl::DataLossError(StrCat("object ", key, ": ", why));
}

}  // namespace

absl::StatusOr<ObjectReader> ObjectReader::Open(objstore::Bucket* bucket, std::string key,
                                                uint64_t size) {
  if (size == 0) {
    absl::StatusOr<uint64_t> s = bucket->Size(key);
    if (!s.ok()) return s.status();
    size = *s;
  }
  if (size < kFooterTrailerSize) return Corrupt(key, "too small to hold a footer");
  uint64_t tail_offset = size > kTailFetch ? size - kTailFetch : 0;
  absl::StatusOr<std::string> tail = bucket->GetRange(key, tail_offset, size - tail_offset);
  if (!tail.ok()) return tail.status();
  if (tail->size() != size - tail_offset) return Corrupt(key, "shorter than its size");
  const char* trailer = tail->data() + tail->size() - kFooterTrailerSize;
  if (std::string_view(trailer + 12, 4) != std::string_view(kMagic, 4)) {
    return Corrupt(key, "no Embers footer (bad magic)");
  }
  uint32_t meta_length = DecodeFixed32(trailer);
  uint32_t meta_crc = DecodeFixed32(trailer + 4);
  const uint32_t version = DecodeFixed32(trailer + 8);
  EMBERS_RETURN_IF_ERROR(CheckVersion(key, version));
  if (meta_length > size - kFooterTrailerSize) return Corrupt(key, "metadata length out of range");
  uint64_t meta_offset = size - kFooterTrailerSize - meta_length;
  std::string meta_bytes;
  if (meta_offset >= tail_offset) {
    meta_bytes = tail->substr(meta_offset - tail_offset, meta_length);
  } else {
    absl::StatusOr<std::string> m = bucket->GetRange(key, meta_offset, meta_length);
    if (!m.ok()) return m.status();
    meta_bytes = std::move(*m);
  }
  if (kVerifyChecksums && Crc32c(meta_bytes) != meta_crc) {
    return Corrupt(key, "metadata checksum mismatch");
  }
  auto meta = std::make_shared<metastore::v1::BlockMeta>();
  if (!meta->ParseFromString(meta_bytes)) return Corrupt(key, "metadata does not parse");
  meta->set_size(size);
  meta->set_format_version(version);  // the footer's word decides how chunks are laid out
  EMBERS_RETURN_IF_ERROR(CheckMeta(*meta, key, meta_offset));
  return ObjectReader(bucket, std::move(key), std::move(meta), nullptr);
}

absl::Status ObjectReader::CheckVersion(std::string_view key, uint32_t version) {
  if (version < kOldestFormatVersion || version > kFormatVersion) {
    return absl::FailedPreconditionError(StrCat("object ", key, ": format version ", version,
                                                " is not supported (this build reads ",
                                                kOldestFormatVersion, " to ", kFormatVersion, ")"));
  }
  return absl::OkStatus();
}

absl::Status ObjectReader::CheckMeta(const metastore::v1::BlockMeta& meta, std::string_view key,
                                     uint64_t data_end) {
  for (int i = 0; i < meta.datasets_size(); ++i) {
    const auto& d = meta.datasets(i);
    if (d.table_of_contents_size() != 3) return Corrupt(key, StrCat("dataset ", i, ": bad TOC"));
    const uint64_t begin = d.table_of_contents(0);
    if (d.size() > data_end || begin > data_end - d.size() || begin > d.table_of_contents(1) ||
        d.table_of_contents(1) > d.table_of_contents(2) ||
        d.table_of_contents(2) > begin + d.size()) {
      return Corrupt(key, StrCat("dataset ", i, ": sections out of range"));
    }
    if (d.tenant() < 0 || d.tenant() >= meta.string_table_size() || d.name() < 0 ||
        d.name() >= meta.string_table_size()) {
      return Corrupt(key, StrCat("dataset ", i, ": bad string reference"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ObjectReader> ObjectReader::FromMeta(objstore::Bucket* bucket, std::string key,
                                                    metastore::v1::BlockMeta meta,
                                                    std::shared_ptr<const std::string> contents) {
  if (meta.size() < kFooterTrailerSize) {
    return Corrupt(key, StrCat("metadata gives a size of ", meta.size(), " bytes"));
  }
  if (contents != nullptr && contents->size() != meta.size()) {
    return Corrupt(key,
                   StrCat("holds ", contents->size(), " bytes, its metadata says ", meta.size()));
  }
  EMBERS_RETURN_IF_ERROR(CheckVersion(key, meta.format_version()));
  const uint64_t data_end = meta.metadata_offset() > 0 ? meta.metadata_offset() : meta.size();
  if (data_end > meta.size()) return Corrupt(key, "metadata offset out of range");
  EMBERS_RETURN_IF_ERROR(CheckMeta(meta, key, data_end));
  return ObjectReader(bucket, std::move(key),
                      std::make_shared<metastore::v1::BlockMeta>(std::move(meta)),
                      std::move(contents));
}

std::string_view ObjectReader::String(int32_t index) const {
  if (index < 0 || index >= meta_->string_table_size()) return {};
  return meta_->string_table(index);
}

std::string ObjectReader::SectionName(int dataset, std::string_view section) const {
  std::string_view service;
  if (dataset >= 0 && dataset < meta_->datasets_size())
    service = String(meta_->datasets(dataset).name());
  return StrCat("object ", key_, " dataset ", dataset, " (", service, ") ", section, " section");
}

absl::StatusOr<std::pair<uint64_t, uint64_t>> ObjectReader::SectionRange(int dataset,
                                                                         int index) const {
  if (dataset < 0 || dataset >= meta_->datasets_size()) {
    return absl::OutOfRangeError(StrCat("object ", key_, ": no dataset ", dataset));
  }
  const auto& d = meta_->datasets(dataset);
  const uint64_t begin = d.table_of_contents(index);
  const uint64_t end =
      index == 2 ? d.table_of_contents(0) + d.size() : d.table_of_contents(index + 1);
  return std::make_pair(begin, end);
}

absl::StatusOr<std::string> ObjectReader::ReadRange(uint64_t offset, uint64_t length) const {
  if (contents_ != nullptr) {
    if (offset > contents_->size() || length > contents_->size() - offset) {
      return Corrupt(key_, "shorter than its metadata says");
    }
    return contents_->substr(offset, length);
  }
  absl::StatusOr<std::string> bytes = bucket_->GetRange(key_, offset, length);
  if (bytes.ok() && bytes->size() != length) {
    return Corrupt(key_, "shorter than its metadata says");
  }
  return bytes;
}

absl::StatusOr<std::string> ObjectReader::FetchSection(int dataset, int index) const {
  EMBERS_ASSIGN_OR_RETURN(auto range, SectionRange(dataset, index));
  return ReadRange(range.first, range.second - range.first);
}

absl::StatusOr<std::vector<SeriesInfo>> ObjectReader::ReadSeries(int dataset) const {
  EMBERS_ASSIGN_OR_RETURN(std::string stored, FetchSection(dataset, 0));
  std::string what = SectionName(dataset, "series");
  std::string scratch;
  EMBERS_ASSIGN_OR_RETURN(std::string_view body, DecodeSectionView(stored, what, &scratch));
  ByteReader r(body);
  auto bad = [&] { return absl::DataLossError(StrCat(what, ": malformed")); };
  uint32_t n;
  if (!r.ReadVarint32(&n) || n > r.remaining()) return bad();
  std::vector<std::string_view> strings(n);
  for (auto& s : strings) {
    if (!r.ReadLengthPrefixed(&s)) return bad();
    // Labels are UTF-8 (ingest refuses anything else), and they reach protobuf string fields
    // (the metadata's label sets), which must be.
    if (!model::IsValidUtf8(s)) {
      return absl::DataLossError(StrCat(what, ": a label is not UTF-8"));
    }
  }
  if (!r.ReadVarint32(&n) || n > r.remaining()) return bad();
  std::vector<SeriesInfo> series(n);
  for (auto& s : series) {
    uint32_t label_count;
    if (!r.ReadVarint32(&label_count) || label_count > r.remaining()) return bad();
    std::vector<model::Label> labels(label_count);
    for (auto& l : labels) {
      uint32_t name, value;
      if (!r.ReadVarint32(&name) || !r.ReadVarint32(&value) || name >= strings.size() ||
          value >= strings.size()) {
        return bad();
      }
      l.name = std::string(strings[name]);
      l.value = std::string(strings[value]);
    }
    s.labels = model::Labels(std::move(labels));
    if (!r.ReadFixed64(&s.fingerprint) || !r.ReadVarint32(&s.first_row) ||
        !r.ReadVarint32(&s.row_count) || !r.ReadZigzag64(&s.min_time_ms) ||
        !r.ReadZigzag64(&s.max_time_ms)) {
      return bad();
    }
  }
  if (!r.empty()) return bad();
  return series;
}

absl::StatusOr<ProfileRows> ObjectReader::ReadProfiles(int dataset, int64_t min_time_ms,
                                                       int64_t max_time_ms) const {
  ProfileReader reader;
  EMBERS_RETURN_IF_ERROR(reader.Open(
      *this, dataset, {.window_bytes = 0, .min_time_ms = min_time_ms, .max_time_ms = max_time_ms}));
  ProfileRows rows;
  EMBERS_RETURN_IF_ERROR(ReadRemainingRows(&reader, &rows));
  return rows;
}

absl::StatusOr<Symbols> ObjectReader::ReadSymbols(int dataset) const {
  EMBERS_ASSIGN_OR_RETURN(std::string stored, FetchSection(dataset, 2));
  std::string what = SectionName(dataset, "symbols");
  EMBERS_ASSIGN_OR_RETURN(std::string body, DecodeSection(stored, what));
  absl::StatusOr<Symbols> symbols =
      Symbols::Decode(std::make_shared<const std::string>(std::move(body)));
  if (!symbols.ok()) return absl::DataLossError(StrCat(what, ": ", symbols.status().message()));
  return symbols;
}

}  // namespace embers::block
