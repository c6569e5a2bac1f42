#include "cmd/cli/bucket/object_check.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "base/crc32c.h"
#include "base/status.h"
#include "base/strings.h"
#include "base/varint.h"
#include "block/profile_reader.h"
#include "cmd/cli/bucket/bucket_key.h"
#include "cmd/cli/bucket/single_object_bucket.h"

namespace embers::cli {
namespace {

constexpr const char* kSectionNames[3] = {"series", "profiles", "symbols"};
// Codec byte, a one-byte raw length, an empty body and the CRC32C: the shortest section.
constexpr uint64_t kMinSectionSize = 6;

absl::Status Corrupt(std::string_view key, std::string_view why) {
  return absl::DataLossError(StrCat("object ", key, ": ", why));
}

// The footer must describe the object its key names: a block copied or renamed to another key
// would be indexed under one id and read under another.
absl::Status CheckKeyAgreement(const block::ObjectReader& reader) {
  absl::StatusOr<BucketKey> key = ParseBucketKey(reader.key());
  if (!key.ok()) return absl::OkStatus();  // a key outside the layout says nothing to compare
  const auto& meta = reader.meta();
  const std::string_view tenant = reader.String(meta.tenant());
  const bool segment = key->kind == BucketKey::Kind::kSegment;
  if (meta.id() != key->id() || meta.shard() != key->shard ||
      (segment ? meta.compaction_level() != 0 || !tenant.empty()
               : meta.compaction_level() == 0 || tenant != key->tenant)) {
    return Corrupt(reader.key(), StrCat("the footer describes block ", meta.id(), " (shard ",
                                        meta.shard(), ", level ", meta.compaction_level(),
                                        ", tenant \"", tenant, "\"), not the one its key names"));
  }
  return absl::OkStatus();
}

// Reads every dataset as a query and compaction would, and checks what the checksums cannot:
// that rows name existing series and samples existing stacks.
absl::Status DecodeAll(const block::ObjectReader& reader, uint64_t window_bytes) {
  std::vector<uint32_t> stack_ids;
  std::vector<int64_t> values;
  std::vector<uint64_t> span_ids;
  std::vector<model::TraceId> trace_ids;
  for (int d = 0; d < reader.meta().datasets_size(); ++d) {
    EMBERS_ASSIGN_OR_RETURN(std::vector<block::SeriesInfo> series, reader.ReadSeries(d));
    EMBERS_ASSIGN_OR_RETURN(block::Symbols symbols, reader.ReadSymbols(d));
    block::ProfileReader profiles;
    EMBERS_RETURN_IF_ERROR(profiles.Open(reader, d, {.window_bytes = window_bytes}));
    uint64_t rows = 0;
    block::RowHeader row;
    while (true) {
      EMBERS_ASSIGN_OR_RETURN(bool more, profiles.Next(&row));
      if (!more) break;
      ++rows;
      if (row.series >= series.size()) {
        return absl::DataLossError(StrCat(profiles.what(), ": row ", rows - 1, " names series ",
                                          row.series, " of ", series.size()));
      }
      stack_ids.clear();
      values.clear();
      span_ids.clear();
      trace_ids.clear();
      EMBERS_RETURN_IF_ERROR(profiles.ReadSamples(&stack_ids, &values, &span_ids, &trace_ids));
      for (uint32_t id : stack_ids) {
        if (id >= symbols.node_parent.size()) {
          return absl::DataLossError(StrCat(profiles.what(), ": row ", rows - 1,
                                            " has a sample of stack ", id, ", not in the ",
                                            symbols.node_parent.size(), " nodes of the symbols"));
        }
      }
    }
    uint64_t series_rows = 0;
    for (const block::SeriesInfo& s : series) series_rows += s.row_count;
    if (series_rows != rows) {
      return absl::DataLossError(StrCat(reader.SectionName(d, "series"), ": its series have ",
                                        series_rows, " rows, the profiles section ", rows));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SectionChecksums> SectionChecksums::For(const block::ObjectReader& reader) {
  SectionChecksums out;
  const auto& meta = reader.meta();
  for (int d = 0; d < meta.datasets_size(); ++d) {
    for (int i = 0; i < 3; ++i) {
      EMBERS_ASSIGN_OR_RETURN(auto range, reader.SectionRange(d, i));
      out.sections_.push_back({.begin = range.first,
                               .end = range.second,
                               .name = reader.SectionName(d, kSectionNames[i])});
    }
  }
  std::sort(out.sections_.begin(), out.sections_.end(),
            [](const Section& a, const Section& b) { return a.begin < b.begin; });
  uint64_t position = 0;
  for (const Section& s : out.sections_) {
    if (s.begin > position) {
      return Corrupt(reader.key(), StrCat("bytes [", position, ", ", s.begin,
                                          ") belong to no section (no checksum covers them)"));
    }
    if (s.begin < position) return Corrupt(reader.key(), StrCat(s.name, " overlaps another"));
    if (s.end - s.begin < kMinSectionSize) {
      return absl::DataLossError(StrCat(s.name, ": truncated section"));
    }
    position = s.end;
  }
  // Objects of format version 1 may lack metadata_offset: the data area then ends with the last
  // section (ObjectReader::Open checked that it ends before the metadata).
  out.data_end_ = meta.metadata_offset() > 0 ? meta.metadata_offset() : position;
  if (out.data_end_ != position) {
    return Corrupt(reader.key(), StrCat("bytes [", position, ", ", out.data_end_,
                                        ") belong to no section (no checksum covers them)"));
  }
  if (out.data_end_ > meta.size()) {
    return Corrupt(reader.key(), "the metadata starts past the end of the object");
  }
  return out;
}

absl::Status SectionChecksums::Update(std::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    if (current_ >= sections_.size()) {
      return absl::InternalError(StrCat("fed ", bytes.size() - i, " bytes past the data area"));
    }
    const Section& s = sections_[current_];
    const uint64_t at = position_ + i;
    const uint64_t crc_begin = s.end - 4;
    if (at < crc_begin) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(bytes.size() - i, crc_begin - at));
      crc_ = Crc32cExtend(crc_, bytes.substr(i, n));
      i += n;
      continue;
    }
    const size_t n = static_cast<size_t>(std::min<uint64_t>(bytes.size() - i, s.end - at));
    std::copy_n(bytes.data() + i, n, stored_ + stored_length_);
    stored_length_ += n;
    i += n;
    if (stored_length_ == 4) {
      if (DecodeFixed32(stored_) != crc_) {
        position_ += i;
        return absl::DataLossError(StrCat(s.name, ": checksum mismatch"));
      }
      ++current_;
      crc_ = 0;
      stored_length_ = 0;
    }
  }
  position_ += bytes.size();
  return absl::OkStatus();
}

absl::Status SectionChecksums::Finish() const {
  if (current_ < sections_.size()) {
    return absl::DataLossError(StrCat(sections_[current_].name, ": truncated"));
  }
  return absl::OkStatus();
}

absl::Status CheckObject(objstore::Bucket& bucket, const std::string& key, uint64_t expected_size,
                         const ObjectCheckOptions& options,
                         const std::function<void(uint64_t bytes)>& on_bytes) {
  auto report = [&](uint64_t n) {
    if (on_bytes) on_bytes(n);
  };
  uint64_t size = expected_size;
  if (size == 0 || size > options.whole_object_limit) {
    EMBERS_ASSIGN_OR_RETURN(size, bucket.Size(key));
    if (expected_size != 0 && size != expected_size) {
      return Corrupt(key, StrCat("holds ", size, " bytes, the index says ", expected_size));
    }
  }

  if (size <= options.whole_object_limit) {
    // One read of the whole object; the footer is then checked from memory.
    EMBERS_ASSIGN_OR_RETURN(std::string bytes, bucket.Get(key));
    report(bytes.size());
    if (expected_size != 0 && bytes.size() != expected_size) {
      return Corrupt(key, StrCat("holds ", bytes.size(), " bytes, the index says ", expected_size));
    }
    auto contents = std::make_shared<const std::string>(std::move(bytes));
    SingleObjectBucket memory(key, contents);
    EMBERS_ASSIGN_OR_RETURN(block::ObjectReader reader,
                            block::ObjectReader::Open(&memory, key, contents->size()));
    EMBERS_RETURN_IF_ERROR(CheckKeyAgreement(reader));
    EMBERS_ASSIGN_OR_RETURN(SectionChecksums sums, SectionChecksums::For(reader));
    EMBERS_RETURN_IF_ERROR(sums.Update(std::string_view(*contents).substr(0, sums.data_end())));
    EMBERS_RETURN_IF_ERROR(sums.Finish());
    if (options.deep) {
      EMBERS_ASSIGN_OR_RETURN(block::ObjectReader whole,
                              block::ObjectReader::FromMeta(&memory, key, reader.meta(), contents));
      EMBERS_RETURN_IF_ERROR(DecodeAll(whole, 0));
    }
    return absl::OkStatus();
  }

  // Too large to hold: the footer, then the data area window by window.
  EMBERS_ASSIGN_OR_RETURN(block::ObjectReader reader,
                          block::ObjectReader::Open(&bucket, key, size));
  EMBERS_RETURN_IF_ERROR(CheckKeyAgreement(reader));
  EMBERS_ASSIGN_OR_RETURN(SectionChecksums sums, SectionChecksums::For(reader));
  const uint64_t window = std::max<uint64_t>(options.window_bytes, 1);
  for (uint64_t offset = 0; offset < sums.data_end(); offset += window) {
    const uint64_t length = std::min(window, sums.data_end() - offset);
    EMBERS_ASSIGN_OR_RETURN(std::string bytes, bucket.GetRange(key, offset, length));
    if (bytes.size() != length) return Corrupt(key, "shorter than its size");
    report(bytes.size());
    EMBERS_RETURN_IF_ERROR(sums.Update(bytes));
  }
  EMBERS_RETURN_IF_ERROR(sums.Finish());
  report(size - sums.data_end());  // the footer, read by Open
  if (options.deep) EMBERS_RETURN_IF_ERROR(DecodeAll(reader, options.window_bytes));
  return absl::OkStatus();
}

}  // namespace embers::cli
