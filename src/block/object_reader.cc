#include "block/object_reader.h"

#include <algorithm>

#include "base/crc32c.h"
#include "base/status.h"
#include "base/strings.h"
#include "base/varint.h"
#include "block/object_writer.h"
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
  uint32_t version = DecodeFixed32(trailer + 8);
  if (version != kFormatVersion) {
    return absl::FailedPreconditionError(StrCat("object ", key, ": format version ", version,
                                                " is not supported (want ", kFormatVersion, ")"));
  }
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
  if (Crc32c(meta_bytes) != meta_crc) return Corrupt(key, "metadata checksum mismatch");
  auto meta = std::make_shared<metastore::v1::BlockMeta>();
  if (!meta->ParseFromString(meta_bytes)) return Corrupt(key, "metadata does not parse");
  meta->set_size(size);
  for (int i = 0; i < meta->datasets_size(); ++i) {
    const auto& d = meta->datasets(i);
    if (d.table_of_contents_size() != 3) return Corrupt(key, StrCat("dataset ", i, ": bad TOC"));
    uint64_t end = d.table_of_contents(0) + d.size();
    if (d.table_of_contents(0) > d.table_of_contents(1) ||
        d.table_of_contents(1) > d.table_of_contents(2) || d.table_of_contents(2) > end ||
        end > meta_offset) {
      return Corrupt(key, StrCat("dataset ", i, ": sections out of range"));
    }
    if (d.tenant() < 0 || d.tenant() >= meta->string_table_size() || d.name() < 0 ||
        d.name() >= meta->string_table_size()) {
      return Corrupt(key, StrCat("dataset ", i, ": bad string reference"));
    }
  }
  return ObjectReader(bucket, std::move(key), std::move(meta));
}

std::string_view ObjectReader::String(int32_t index) const {
  if (index < 0 || index >= meta_->string_table_size()) return {};
  return meta_->string_table(index);
}

std::string ObjectReader::What(int dataset, std::string_view section) const {
  std::string_view service;
  if (dataset >= 0 && dataset < meta_->datasets_size())
    service = String(meta_->datasets(dataset).name());
  return StrCat("object ", key_, " dataset ", dataset, " (", service, ") ", section, " section");
}

absl::StatusOr<std::string> ObjectReader::FetchSection(int dataset, int index) const {
  if (dataset < 0 || dataset >= meta_->datasets_size()) {
    return absl::OutOfRangeError(StrCat("object ", key_, ": no dataset ", dataset));
  }
  const auto& d = meta_->datasets(dataset);
  uint64_t begin = d.table_of_contents(index);
  uint64_t end = index == 2 ? d.table_of_contents(0) + d.size() : d.table_of_contents(index + 1);
  return bucket_->GetRange(key_, begin, end - begin);
}

absl::StatusOr<std::vector<SeriesInfo>> ObjectReader::ReadSeries(int dataset) const {
  EMBERS_ASSIGN_OR_RETURN(std::string stored, FetchSection(dataset, 0));
  std::string what = What(dataset, "series");
  std::string scratch;
  EMBERS_ASSIGN_OR_RETURN(std::string_view body, DecodeSectionView(stored, what, &scratch));
  ByteReader r(body);
  auto bad = [&] { return absl::DataLossError(StrCat(what, ": malformed")); };
  uint32_t n;
  if (!r.ReadVarint32(&n) || n > r.remaining()) return bad();
  std::vector<std::string_view> strings(n);
  for (auto& s : strings) {
    if (!r.ReadLengthPrefixed(&s)) return bad();
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

namespace {

// Removes the rows from `first` on whose timestamp is outside [min, max], with their samples and
// span ids, keeping the order. Rows before `first` are untouched.
void DropRowsOutside(ProfileRows* rows, size_t first, int64_t min, int64_t max) {
  size_t out = first;
  size_t sample_out = first < rows->size() ? rows->sample_begin[first] : rows->stack_ids.size();
  size_t span_out = first < rows->size() ? rows->span_begin[first] : rows->span_ids.size();
  for (size_t i = first; i < rows->size(); ++i) {
    const int64_t t = rows->timestamp_ms[i];
    if (t < min || t > max) continue;
    const uint32_t sb = rows->sample_begin[i], sc = rows->sample_count[i];
    const uint32_t pb = rows->span_begin[i], pc = rows->span_count[i];
    std::copy(rows->stack_ids.begin() + sb, rows->stack_ids.begin() + sb + sc,
              rows->stack_ids.begin() + static_cast<ptrdiff_t>(sample_out));
    std::copy(rows->values.begin() + sb, rows->values.begin() + sb + sc,
              rows->values.begin() + static_cast<ptrdiff_t>(sample_out));
    std::copy(rows->span_ids.begin() + pb, rows->span_ids.begin() + pb + pc,
              rows->span_ids.begin() + static_cast<ptrdiff_t>(span_out));
    rows->series[out] = rows->series[i];
    rows->timestamp_ms[out] = t;
    rows->duration_ns[out] = rows->duration_ns[i];
    rows->sample_begin[out] = static_cast<uint32_t>(sample_out);
    rows->sample_count[out] = sc;
    rows->span_begin[out] = static_cast<uint32_t>(span_out);
    rows->span_count[out] = pc;
    rows->profile_ids[out] = rows->profile_ids[i];
    sample_out += sc;
    span_out += pc;
    ++out;
  }
  for (auto* v : {&rows->series, &rows->sample_begin, &rows->sample_count, &rows->span_begin,
                  &rows->span_count}) {
    v->resize(out);
  }
  rows->timestamp_ms.resize(out);
  rows->profile_ids.resize(out);
  rows->duration_ns.resize(out);
  rows->stack_ids.resize(sample_out);
  rows->values.resize(sample_out);
  rows->span_ids.resize(span_out);
}

}  // namespace

absl::StatusOr<ProfileRows> ObjectReader::ReadProfiles(int dataset, int64_t min_time_ms,
                                                       int64_t max_time_ms) const {
  EMBERS_ASSIGN_OR_RETURN(std::string stored, FetchSection(dataset, 1));
  std::string what = What(dataset, "profiles");
  std::string section_scratch;
  EMBERS_ASSIGN_OR_RETURN(std::string_view body, DecodeSectionView(stored, what, &section_scratch));
  ByteReader r(body);
  auto bad = [&](std::string_view why) { return absl::DataLossError(StrCat(what, ": ", why)); };
  struct Chunk {
    uint32_t first_row, row_count, first_series, last_series;
    int64_t min_time, max_time;
    uint64_t offset, stored_length, raw_length;
    uint8_t codec;
    uint32_t crc;
  };
  uint32_t chunk_count;
  if (!r.ReadVarint32(&chunk_count) || chunk_count > r.remaining()) return bad("chunk count");
  std::vector<Chunk> chunks(chunk_count);
  for (Chunk& c : chunks) {
    if (!r.ReadVarint32(&c.first_row) || !r.ReadVarint32(&c.row_count) ||
        !r.ReadVarint32(&c.first_series) || !r.ReadVarint32(&c.last_series) ||
        !r.ReadZigzag64(&c.min_time) || !r.ReadZigzag64(&c.max_time) ||
        !r.ReadVarint64(&c.offset) || !r.ReadVarint64(&c.stored_length) ||
        !r.ReadVarint64(&c.raw_length) || !r.ReadByte(&c.codec) || !r.ReadFixed32(&c.crc)) {
      return bad("truncated chunk directory");
    }
  }
  std::string_view area = body.substr(r.position());
  ProfileRows rows;
  std::string chunk_scratch;  // reused by every compressed chunk
  for (const Chunk& c : chunks) {
    if (c.max_time < min_time_ms || c.min_time > max_time_ms) continue;
    if (c.offset > area.size() || c.stored_length > area.size() - c.offset) {
      return bad("chunk out of range");
    }
    std::string_view stored_chunk = area.substr(c.offset, c.stored_length);
    if (Crc32c(stored_chunk) != c.crc) return bad("chunk checksum mismatch");
    EMBERS_ASSIGN_OR_RETURN(std::string_view raw,
                            DecompressBodyView(stored_chunk, static_cast<Codec>(c.codec),
                                               c.raw_length, what, &chunk_scratch));
    ByteReader cr(raw);
    const uint32_t n = c.row_count;
    if (n > raw.size()) return bad("row count");
    // Columns are decoded straight into the result; rows outside the range (only in chunks
    // that straddle it) are removed afterwards.
    const size_t row0 = rows.size();
    rows.series.resize(row0 + n);
    rows.timestamp_ms.resize(row0 + n);
    rows.duration_ns.resize(row0 + n);
    rows.sample_begin.resize(row0 + n);
    rows.sample_count.resize(row0 + n);
    rows.span_begin.resize(row0 + n);
    rows.span_count.resize(row0 + n);
    rows.profile_ids.resize(row0 + n);
    uint32_t* series = rows.series.data() + row0;
    int64_t* ts = rows.timestamp_ms.data() + row0;
    uint32_t* sample_count = rows.sample_count.data() + row0;
    uint32_t* span_count = rows.span_count.data() + row0;
    uint32_t s = c.first_series;
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t delta;
      if (!cr.ReadVarint32(&delta)) return bad("series column");
      s += delta;
      series[i] = s;
    }
    int64_t prev_time = 0;
    for (uint32_t i = 0; i < n; ++i) {
      int64_t v;
      if (!cr.ReadZigzag64(&v)) return bad("timestamp column");
      ts[i] = (i > 0 && series[i] == series[i - 1]) ? prev_time + v : v;
      prev_time = ts[i];
    }
    for (uint32_t i = 0; i < n; ++i) {
      if (!cr.ReadZigzag64(&rows.duration_ns[row0 + i])) return bad("duration column");
    }
    uint64_t total_samples = 0;
    const size_t sample0 = rows.stack_ids.size();
    for (uint32_t i = 0; i < n; ++i) {
      if (!cr.ReadVarint32(&sample_count[i])) return bad("sample count column");
      rows.sample_begin[row0 + i] = static_cast<uint32_t>(sample0 + total_samples);
      total_samples += sample_count[i];
    }
    if (total_samples > cr.remaining()) return bad("sample count");
    if (sample0 + total_samples > UINT32_MAX) return bad("too many samples");
    rows.stack_ids.resize(sample0 + total_samples);
    rows.values.resize(sample0 + total_samples);
    uint32_t* stack_ids = rows.stack_ids.data() + sample0;
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t prev = 0;
      const uint32_t count = sample_count[i];
      for (uint32_t j = 0; j < count; ++j) {
        uint32_t delta;
        if (!cr.ReadVarint32(&delta)) return bad("stack id column");
        prev += delta;
        *stack_ids++ = prev;
      }
    }
    int64_t* values = rows.values.data() + sample0;
    for (uint64_t k = 0; k < total_samples; ++k) {
      if (!cr.ReadZigzag64(&values[k])) return bad("value column");
    }
    uint64_t total_spans = 0;
    const size_t span0 = rows.span_ids.size();
    for (uint32_t i = 0; i < n; ++i) {
      if (!cr.ReadVarint32(&span_count[i]) ||
          (span_count[i] != 0 && span_count[i] != sample_count[i])) {
        return bad("span count column");
      }
      rows.span_begin[row0 + i] = static_cast<uint32_t>(span0 + total_spans);
      total_spans += span_count[i];
    }
    // The span column fills the rest, followed by an optional profile-id column.
    const bool with_ids = cr.remaining() == total_spans * 8 + uint64_t{n} * 16;
    if (!with_ids && total_spans * 8 != cr.remaining()) return bad("span column");
    rows.span_ids.resize(span0 + total_spans);
    for (uint64_t k = 0; k < total_spans; ++k) cr.ReadFixed64(&rows.span_ids[span0 + k]);
    if (with_ids) {
      for (uint32_t i = 0; i < n; ++i) {
        cr.ReadFixed64(&rows.profile_ids[row0 + i].hi);
        cr.ReadFixed64(&rows.profile_ids[row0 + i].lo);
      }
    }

    if (c.min_time < min_time_ms || c.max_time > max_time_ms) {
      DropRowsOutside(&rows, row0, min_time_ms, max_time_ms);
    }
  }
  return rows;
}

absl::StatusOr<Symbols> ObjectReader::ReadSymbols(int dataset) const {
  EMBERS_ASSIGN_OR_RETURN(std::string stored, FetchSection(dataset, 2));
  std::string what = What(dataset, "symbols");
  EMBERS_ASSIGN_OR_RETURN(std::string body, DecodeSection(stored, what));
  absl::StatusOr<Symbols> symbols =
      Symbols::Decode(std::make_shared<const std::string>(std::move(body)));
  if (!symbols.ok()) return absl::DataLossError(StrCat(what, ": ", symbols.status().message()));
  return symbols;
}

}  // namespace embers::block
