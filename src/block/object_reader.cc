#include "block/object_reader.h"

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
  EMBERS_ASSIGN_OR_RETURN(std::string body, DecodeSection(stored, what));
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

absl::StatusOr<ProfileRows> ObjectReader::ReadProfiles(int dataset, int64_t min_time_ms,
                                                       int64_t max_time_ms) const {
  EMBERS_ASSIGN_OR_RETURN(std::string stored, FetchSection(dataset, 1));
  std::string what = What(dataset, "profiles");
  EMBERS_ASSIGN_OR_RETURN(std::string body, DecodeSection(stored, what));
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
  std::string_view area = std::string_view(body).substr(r.position());
  ProfileRows rows;
  for (const Chunk& c : chunks) {
    if (c.max_time < min_time_ms || c.min_time > max_time_ms) continue;
    if (c.offset > area.size() || c.stored_length > area.size() - c.offset) {
      return bad("chunk out of range");
    }
    std::string_view stored_chunk = area.substr(c.offset, c.stored_length);
    if (Crc32c(stored_chunk) != c.crc) return bad("chunk checksum mismatch");
    EMBERS_ASSIGN_OR_RETURN(
        std::string raw,
        DecompressBody(stored_chunk, static_cast<Codec>(c.codec), c.raw_length, what));
    ByteReader cr(raw);
    const uint32_t n = c.row_count;
    if (n > raw.size()) return bad("row count");
    std::vector<uint32_t> series(n);
    std::vector<int64_t> ts(n), duration(n);
    std::vector<uint32_t> sample_count(n), span_count(n);
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
      if (!cr.ReadZigzag64(&duration[i])) return bad("duration column");
    }
    uint64_t total_samples = 0;
    for (uint32_t i = 0; i < n; ++i) {
      if (!cr.ReadVarint32(&sample_count[i])) return bad("sample count column");
      total_samples += sample_count[i];
    }
    if (total_samples > cr.remaining()) return bad("sample count");
    std::vector<uint32_t> stack_ids(total_samples);
    std::vector<int64_t> values(total_samples);
    size_t k = 0;
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t prev = 0;
      for (uint32_t j = 0; j < sample_count[i]; ++j, ++k) {
        uint32_t delta;
        if (!cr.ReadVarint32(&delta)) return bad("stack id column");
        prev += delta;
        stack_ids[k] = prev;
      }
    }
    for (k = 0; k < total_samples; ++k) {
      if (!cr.ReadZigzag64(&values[k])) return bad("value column");
    }
    uint64_t total_spans = 0;
    for (uint32_t i = 0; i < n; ++i) {
      if (!cr.ReadVarint32(&span_count[i]) ||
          (span_count[i] != 0 && span_count[i] != sample_count[i])) {
        return bad("span count column");
      }
      total_spans += span_count[i];
    }
    if (total_spans * 8 != cr.remaining()) return bad("span column");
    std::vector<uint64_t> spans(total_spans);
    for (auto& sp : spans) cr.ReadFixed64(&sp);

    // Keep the rows inside the range.
    size_t sample_pos = 0, span_pos = 0;
    for (uint32_t i = 0; i < n; ++i) {
      if (ts[i] >= min_time_ms && ts[i] <= max_time_ms) {
        rows.series.push_back(series[i]);
        rows.timestamp_ms.push_back(ts[i]);
        rows.duration_ns.push_back(duration[i]);
        rows.sample_begin.push_back(static_cast<uint32_t>(rows.stack_ids.size()));
        rows.sample_count.push_back(sample_count[i]);
        rows.span_begin.push_back(static_cast<uint32_t>(rows.span_ids.size()));
        rows.span_count.push_back(span_count[i]);
        rows.stack_ids.insert(rows.stack_ids.end(), stack_ids.begin() + sample_pos,
                              stack_ids.begin() + sample_pos + sample_count[i]);
        rows.values.insert(rows.values.end(), values.begin() + sample_pos,
                           values.begin() + sample_pos + sample_count[i]);
        rows.span_ids.insert(rows.span_ids.end(), spans.begin() + span_pos,
                             spans.begin() + span_pos + span_count[i]);
      }
      sample_pos += sample_count[i];
      span_pos += span_count[i];
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
