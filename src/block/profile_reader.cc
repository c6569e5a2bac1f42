#include "block/profile_reader.h"

#include <algorithm>

#include "base/crc32c.h"
#include "base/status.h"
#include "base/strings.h"
#include "block/object_writer.h"
#include "block/section.h"

namespace embers::block {
namespace {

// The smallest directory entry: eleven one-byte fields and the CRC.
constexpr uint64_t kMinChunkEntryBytes = 15;
// The longest section head: the codec byte and a ten-byte varint.
constexpr uint64_t kMaxSectionHeadBytes = 11;

}  // namespace

absl::Status ProfileReader::Corrupt(std::string_view why) const {
  return absl::DataLossError(StrCat(what_, ": ", why));
}

size_t ProfileReader::MemoryBytes() const {
  return buffer_.capacity() + chunk_scratch_.capacity() + chunks_.capacity() * sizeof(ChunkEntry);
}

absl::Status ProfileReader::Fetch(uint64_t begin, uint64_t end) {
  const uint64_t buffer_end = buffer_begin_ + buffer_.size();
  if (verify_section_ && begin > checked_) {
    const uint64_t buffered = std::min(begin, buffer_end);
    if (buffered > checked_) {
      crc_ = Crc32cExtend(crc_, Buffered(checked_, buffered));
      checked_ = buffered;
    }
    // Bytes never fetched before `begin` (chunks skipped past the window) are read for the
    // checksum only.
    const uint64_t piece = std::max<uint64_t>(options_.window_bytes, 64 * 1024);
    while (checked_ < begin) {
      const uint64_t n = std::min(begin - checked_, piece);
      EMBERS_ASSIGN_OR_RETURN(std::string bytes, object_->ReadRange(section_offset_ + checked_, n));
      bytes_fetched_ += n;
      crc_ = Crc32cExtend(crc_, bytes);
      checked_ += n;
    }
  }
  if (begin >= buffer_begin_ && end <= buffer_end) return absl::OkStatus();
  if (begin >= buffer_end) {
    buffer_.clear();
  } else {
    buffer_.erase(0, begin - buffer_begin_);
  }
  buffer_begin_ = begin;
  const uint64_t have = buffer_begin_ + buffer_.size();
  const uint64_t want =
      std::max(end, options_.window_bytes == 0
                        ? fetch_end_
                        : std::min(fetch_end_, std::max(end, begin + options_.window_bytes)));
  if (want > have) {
    EMBERS_ASSIGN_OR_RETURN(std::string bytes,
                            object_->ReadRange(section_offset_ + have, want - have));
    bytes_fetched_ += bytes.size();
    buffer_ += bytes;
  }
  return absl::OkStatus();
}

template <typename Parse>
absl::Status ProfileReader::ParseAt(uint64_t* pos, Parse&& parse, std::string_view what) {
  const uint64_t body_end = section_size_ - 4;
  for (;;) {
    const uint64_t end = std::min(buffer_begin_ + buffer_.size(), body_end);
    ByteReader r(Buffered(*pos, end));
    if (parse(&r)) {
      *pos += r.position();
      return absl::OkStatus();
    }
    if (end >= body_end) return Corrupt(StrCat("truncated ", what));
    EMBERS_RETURN_IF_ERROR(Fetch(*pos, end + 1));
  }
}

absl::Status ProfileReader::Open(const ObjectReader& object, int dataset, Options options) {
  object_ = &object;
  options_ = options;
  EMBERS_ASSIGN_OR_RETURN(const auto range, object.SectionRange(dataset, 1));
  section_offset_ = range.first;
  section_size_ = range.second - range.first;
  what_ = object.SectionName(dataset, "profiles");
  buffer_.clear();
  buffer_begin_ = checked_ = bytes_fetched_ = 0;
  crc_ = 0;
  chunks_.clear();
  next_chunk_ = end_chunk_ = 0;
  verify_section_ = true;
  fetch_end_ = section_size_;
  finished_ = false;
  EMBERS_RETURN_IF_ERROR(decoder_.Reset({}, 0, 0, what_, kFormatVersion));
  if (section_size_ < 6) return Corrupt("truncated section");

  EMBERS_RETURN_IF_ERROR(Fetch(0, std::min(section_size_, kMaxSectionHeadBytes)));
  EMBERS_ASSIGN_OR_RETURN(
      const SectionHeadInfo head,
      ParseSectionHead(Buffered(0, std::min(buffer_.size(), section_size_ - 4)), what_));
  // The chunks are compressed each on its own; a compressed envelope could not be streamed.
  if (head.codec != static_cast<uint8_t>(Codec::kNone)) {
    return Corrupt(StrCat("stored with codec ", head.codec, " (profiles sections are stored ",
                          "with codec 0)"));
  }
  if (head.raw_length != section_size_ - 4 - head.head_length) return Corrupt("length mismatch");

  uint64_t pos = head.head_length;
  uint32_t count = 0;
  EMBERS_RETURN_IF_ERROR(ParseAt(
      &pos, [&](ByteReader* r) { return r->ReadVarint32(&count); }, "chunk count"));
  if (count > (section_size_ - pos) / kMinChunkEntryBytes) return Corrupt("chunk count");
  // Chunks lie back to back in directory order: the section is read front to back once.
  uint64_t area_size = 0;
  for (uint32_t i = 0; i < count; ++i) {
    ChunkEntry entry;
    EMBERS_RETURN_IF_ERROR(ParseAt(
        &pos, [&](ByteReader* r) { return DecodeChunkEntry(r, &entry); }, "chunk directory"));
    if (entry.offset != area_size || entry.stored_length > section_size_) {
      return Corrupt("chunk directory: chunks are not back to back");
    }
    area_size += entry.stored_length;
    chunks_.push_back(entry);
  }
  area_begin_ = pos;
  if (area_size != section_size_ - 4 - area_begin_) {
    return Corrupt("chunk directory does not cover the chunk area");
  }
  end_chunk_ = chunks_.size();
  return absl::OkStatus();
}

void ProfileReader::ReadOnlyChunks(size_t begin, size_t end) {
  end = std::min(end, chunks_.size());
  next_chunk_ = std::min(begin, end);
  end_chunk_ = end;
  verify_section_ = false;
  finished_ = true;
  // Fetch up to the end of the last chunk in the time range, not past it.
  fetch_end_ = area_begin_;
  for (size_t i = next_chunk_; i < end_chunk_; ++i) {
    const ChunkEntry& c = chunks_[i];
    if (c.row_count > 0 && c.max_time_ms >= options_.min_time_ms &&
        c.min_time_ms <= options_.max_time_ms) {
      fetch_end_ = area_begin_ + c.offset + c.stored_length;
    }
  }
}

void ProfileReader::OpenSameSection(const ProfileReader& other) {
  object_ = other.object_;
  options_ = other.options_;
  what_ = other.what_;
  section_offset_ = other.section_offset_;
  section_size_ = other.section_size_;
  buffer_.clear();
  buffer_begin_ = checked_ = bytes_fetched_ = 0;
  crc_ = 0;
  chunks_ = other.chunks_;
  area_begin_ = other.area_begin_;
  next_chunk_ = 0;
  end_chunk_ = chunks_.size();
  verify_section_ = true;
  fetch_end_ = section_size_;
  finished_ = false;
  (void)decoder_.Reset({}, 0, 0, what_, kFormatVersion);
}

absl::Status ProfileReader::StartChunk(const ChunkEntry& chunk) {
  const uint64_t begin = area_begin_ + chunk.offset;
  EMBERS_RETURN_IF_ERROR(Fetch(begin, begin + chunk.stored_length));
  const std::string_view stored = Buffered(begin, begin + chunk.stored_length);
  if (kVerifyChecksums && Crc32c(stored) != chunk.crc) return Corrupt("chunk checksum mismatch");
  EMBERS_ASSIGN_OR_RETURN(const std::string_view raw,
                          DecompressBodyView(stored, static_cast<Codec>(chunk.codec),
                                             chunk.raw_length, what_, &chunk_scratch_, &zstd_));
  return decoder_.Reset(raw, chunk.row_count, chunk.first_series, what_, object_->format_version());
}

absl::Status ProfileReader::Finish() {
  EMBERS_RETURN_IF_ERROR(Fetch(section_size_ - 4, section_size_));
  const uint32_t stored = DecodeFixed32(Buffered(section_size_ - 4, section_size_).data());
  if (kVerifyChecksums && crc_ != stored) return Corrupt("checksum mismatch");
  return absl::OkStatus();
}

absl::StatusOr<bool> ProfileReader::Next(RowHeader* row) {
  for (;;) {
    if (decoder_.rows_left() > 0) {
      EMBERS_RETURN_IF_ERROR(decoder_.NextRow(row));
      if (row->timestamp_ms < options_.min_time_ms || row->timestamp_ms > options_.max_time_ms) {
        continue;
      }
      return true;
    }
    if (next_chunk_ == end_chunk_) {
      if (!finished_) {
        EMBERS_RETURN_IF_ERROR(Finish());
        finished_ = true;
      }
      return false;
    }
    const ChunkEntry& chunk = chunks_[next_chunk_++];
    if (chunk.row_count == 0 || chunk.max_time_ms < options_.min_time_ms ||
        chunk.min_time_ms > options_.max_time_ms) {
      continue;
    }
    EMBERS_RETURN_IF_ERROR(StartChunk(chunk));
  }
}

absl::Status ReadRemainingRows(ProfileReader* reader, ProfileRows* rows) {
  RowHeader row;
  for (;;) {
    EMBERS_ASSIGN_OR_RETURN(const bool more, reader->Next(&row));
    if (!more) return absl::OkStatus();
    if (rows->stack_ids.size() + row.sample_count > UINT32_MAX) {
      return absl::DataLossError(StrCat(reader->what(), ": too many samples"));
    }
    rows->AddRow(row);
    // Room for the rest of the chunk at once, rather than growing row by row; geometrically, so
    // a section of many chunks is not copied once per chunk.
    const size_t samples = rows->stack_ids.size() + reader->samples_left_in_chunk();
    if (rows->stack_ids.capacity() < samples) {
      const size_t grown = std::max(samples, 2 * rows->stack_ids.capacity());
      rows->stack_ids.reserve(grown);
      rows->values.reserve(grown);
    }
    const size_t spans = rows->span_ids.size() + reader->spans_left_in_chunk();
    if (rows->span_ids.capacity() < spans) {
      rows->span_ids.reserve(std::max(spans, 2 * rows->span_ids.capacity()));
    }
    const size_t traces = rows->trace_ids.size() + reader->traces_left_in_chunk();
    if (rows->trace_ids.capacity() < traces) {
      rows->trace_ids.reserve(std::max(traces, 2 * rows->trace_ids.capacity()));
    }
    EMBERS_RETURN_IF_ERROR(
        reader->ReadSamples(&rows->stack_ids, &rows->values, &rows->span_ids, &rows->trace_ids));
  }
}

}  // namespace embers::block
