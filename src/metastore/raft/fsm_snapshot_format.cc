#include "metastore/raft/fsm_snapshot_format.h"

#include <algorithm>
#include <cassert>
#include <new>
#include <span>
#include <vector>

#include "base/strings.h"
#include "base/varint.h"
#include "xxhash.h"
#include "zstd.h"

namespace embers::metastore::raft {

namespace {

constexpr std::string_view kMagic = "EMFS";
constexpr uint32_t kVersion = 4;            // streamed, compressed, fragmented sections
constexpr uint32_t kCompressedVersion = 3;  // compressed sections
constexpr uint32_t kUncompressedVersion = 2;
constexpr uint32_t kLegacyVersion = 1;
// Level 1, the cheapest: the serialiser's CPU is what a snapshot costs.
constexpr int kZstdLevel = 1;
// A snapshot's sections may not claim more than this (the restore allocates it up front).
constexpr uint64_t kMaxSectionsBytes = uint64_t{64} << 30;
// Writes smaller than this are gathered before they reach the compressor; a fragment holds at
// most kMaxFragmentBytes.
constexpr size_t kStagingBytes = size_t{1} << 20;
constexpr size_t kMaxFragmentBytes = size_t{1} << 30;

absl::Status Corrupt(std::string_view what) {
  return absl::DataLossError(ToAbsl(StrCat("metastore snapshot: ", what)));
}

bool IsKnown(uint32_t tag) {
  // A switch over the enum: adding a tag without listing it here fails the build (-Wswitch).
  switch (static_cast<FsmSection>(tag)) {
    case FsmSection::kHeader:
    case FsmSection::kIndex:
    case FsmSection::kCompaction:
      return true;
  }
  return false;
}

// Version 1: one protobuf header, then the index snapshot.
absl::StatusOr<std::map<FsmSection, std::string_view>> ParseLegacy(ByteReader& in) {
  uint32_t header_len = 0;
  std::string_view header;
  if (!in.ReadFixed32(&header_len) || !in.ReadBytes(header_len, &header)) {
    return Corrupt("truncated header");
  }
  std::string_view index;
  in.ReadBytes(in.remaining(), &index);
  return std::map<FsmSection, std::string_view>{{FsmSection::kHeader, header},
                                                {FsmSection::kIndex, index}};
}

}  // namespace

FsmSnapshotScratch::FsmSnapshotScratch() : cctx_(ZSTD_createCCtx()) {
  if (cctx_ == nullptr) throw std::bad_alloc();
  staging_.reserve(kStagingBytes + 64);
}

FsmSnapshotScratch::~FsmSnapshotScratch() { ZSTD_freeCCtx(cctx_); }

FsmSnapshotWriter::FsmSnapshotWriter(FsmSnapshotScratch* scratch, SnapshotOutput* out)
    : scratch_(*scratch), out_(*out) {
  ZSTD_CCtx_reset(scratch_.cctx_, ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(scratch_.cctx_, ZSTD_c_compressionLevel, kZstdLevel);
  scratch_.staging_.clear();
  std::string prefix(kMagic);
  PutFixed32(&prefix, kVersion);
  out_.Append(prefix);
}

void FsmSnapshotWriter::Compress(std::string_view bytes, bool end) {
  ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
  for (;;) {
    std::span<char> to = out_.Writable();
    ZSTD_outBuffer o{to.data(), to.size(), 0};
    const size_t left =
        ZSTD_compressStream2(scratch_.cctx_, &o, &in, end ? ZSTD_e_end : ZSTD_e_continue);
    // Errors come only from bad parameters or a context in a bad state: neither can happen here.
    assert(!ZSTD_isError(left));
    out_.Commit(o.pos);
    const bool done = end ? left == 0 : in.pos == in.size;
    if (done || ZSTD_isError(left)) return;
  }
}

void FsmSnapshotWriter::FlushStaging(bool end) {
  Compress(scratch_.staging_, end);
  scratch_.staging_.clear();
}

void FsmSnapshotWriter::Put(std::string_view bytes) {
  sections_bytes_ += bytes.size();
  if (scratch_.staging_.size() + bytes.size() <= kStagingBytes) {
    scratch_.staging_.append(bytes);
    return;
  }
  FlushStaging(false);
  if (bytes.size() < kStagingBytes) {
    scratch_.staging_.append(bytes);
  } else {
    Compress(bytes, false);
  }
}

void FsmSnapshotWriter::AddSection(FsmSection tag, absl::FunctionRef<void(Sink)> write) {
  const auto t = static_cast<uint32_t>(tag);
  assert(t > last_tag_);
  last_tag_ = t;
  std::string frame;
  PutFixed32(&frame, t);
  Put(frame);
  XXH64_state_t* sum = XXH64_createState();
  if (sum == nullptr) throw std::bad_alloc();
  XXH64_reset(sum, 0);
  write([&](std::string_view piece) {
    XXH64_update(sum, piece.data(), piece.size());
    while (!piece.empty()) {
      const std::string_view fragment = piece.substr(0, kMaxFragmentBytes);
      frame.clear();
      PutFixed32(&frame, static_cast<uint32_t>(fragment.size()));
      Put(frame);
      Put(fragment);
      piece.remove_prefix(fragment.size());
    }
  });
  frame.clear();
  PutFixed32(&frame, 0);
  PutFixed64(&frame, XXH64_digest(sum));
  XXH64_freeState(sum);
  Put(frame);
}

void FsmSnapshotWriter::Finish() { FlushStaging(/*end=*/true); }

namespace {

// Reads a streamed zstd frame in order, a few bytes or a whole fragment at a time, without
// holding the decompressed whole.
class FrameReader {
 public:
  explicit FrameReader(std::string_view frame) : in_{frame.data(), frame.size(), 0} {
    buffer_.resize(ZSTD_DStreamOutSize());
  }
  ~FrameReader() { ZSTD_freeDCtx(dctx_); }

  // Appends the next `n` bytes to *out. False at the end of the frame or on an error (error()).
  bool Read(size_t n, std::string* out) {
    while (n > 0) {
      if (pos_ == end_ && !Fill()) return false;
      const size_t take = std::min(n, end_ - pos_);
      out->append(buffer_.data() + pos_, take);
      pos_ += take;
      n -= take;
    }
    return true;
  }
  bool ReadFixed32(uint32_t* v) {
    scratch_.clear();
    if (!Read(4, &scratch_)) return false;
    *v = DecodeFixed32(scratch_.data());
    return true;
  }
  bool ReadFixed64(uint64_t* v) {
    scratch_.clear();
    if (!Read(8, &scratch_)) return false;
    *v = DecodeFixed64(scratch_.data());
    return true;
  }
  // Appends the rest of the frame to *out; false on an error or past `max` bytes in all.
  bool ReadToEnd(std::string* out, uint64_t max) {
    for (;;) {
      if (pos_ == end_ && !Fill()) return error_.empty();
      if (out->size() + (end_ - pos_) > max) {
        error_ = StrCat("more than ", max, " bytes");
        return false;
      }
      out->append(buffer_.data() + pos_, end_ - pos_);
      pos_ = end_;
    }
  }
  // True when everything was read: the frame ended, with no bytes after it.
  bool AtEnd() {
    if (pos_ == end_ && !frame_ended_) Fill();
    return pos_ == end_ && frame_ended_ && in_.pos == in_.size && error_.empty();
  }
  const std::string& error() const { return error_; }

 private:
  bool Fill() {
    pos_ = end_ = 0;
    while (end_ == 0) {
      if (frame_ended_) {
        if (in_.pos != in_.size) error_ = "data after the compressed frame";
        return false;
      }
      if (in_.pos == in_.size) {
        error_ = "the compressed frame is truncated";
        return false;
      }
      ZSTD_outBuffer o{buffer_.data(), buffer_.size(), 0};
      const size_t r = ZSTD_decompressStream(dctx_, &o, &in_);
      if (ZSTD_isError(r)) {
        error_ = StrCat("cannot decompress the sections: ", ZSTD_getErrorName(r));
        return false;
      }
      end_ = o.pos;
      if (r == 0) frame_ended_ = true;
    }
    return true;
  }

  ZSTD_DCtx* dctx_ = ZSTD_createDCtx();
  ZSTD_inBuffer in_;
  std::string buffer_;  // decompressed bytes [pos_, end_) not read yet
  size_t pos_ = 0, end_ = 0;
  bool frame_ended_ = false;
  std::string scratch_;
  std::string error_;
};

// Version 4: sections reassembled from their fragments into *storage.
absl::StatusOr<std::map<FsmSection, std::string_view>> ParseStreamed(std::string_view frame,
                                                                     std::string* storage) {
  FrameReader in(frame);
  struct Span {
    uint32_t tag;
    size_t begin, end;
  };
  std::vector<Span> spans;
  storage->clear();
  auto corrupt = [&](std::string_view what) {
    return Corrupt(in.error().empty() ? std::string(what) : StrCat(what, ": ", in.error()));
  };
  uint32_t last = 0;
  while (!in.AtEnd()) {
    uint32_t tag = 0;
    if (!in.ReadFixed32(&tag)) return corrupt(StrCat("truncated section after tag ", last));
    if (!IsKnown(tag)) {
      return Corrupt(StrCat("unknown section tag ", tag, " (written by a newer version?)"));
    }
    if (tag <= last) return Corrupt(StrCat("section tag ", tag, " out of order"));
    const size_t begin = storage->size();
    for (;;) {
      uint32_t length = 0;
      if (!in.ReadFixed32(&length)) return corrupt(StrCat("truncated section ", tag));
      if (length == 0) break;
      if (storage->size() + length > kMaxSectionsBytes) {
        return Corrupt(StrCat("sections of more than ", kMaxSectionsBytes, " bytes"));
      }
      if (!in.Read(length, storage)) return corrupt(StrCat("truncated section ", tag));
    }
    uint64_t sum = 0;
    if (!in.ReadFixed64(&sum)) return corrupt(StrCat("truncated section ", tag));
    if (XXH64(storage->data() + begin, storage->size() - begin, 0) != sum) {
      return Corrupt(StrCat("checksum mismatch in section ", tag));
    }
    spans.push_back({tag, begin, storage->size()});
    last = tag;
  }
  if (!in.error().empty()) return Corrupt(in.error());
  std::map<FsmSection, std::string_view> sections;
  for (const Span& s : spans) {
    sections.emplace(static_cast<FsmSection>(s.tag),
                     std::string_view(*storage).substr(s.begin, s.end - s.begin));
  }
  return sections;
}

}  // namespace

absl::StatusOr<std::map<FsmSection, std::string_view>> ParseFsmSnapshot(std::string_view snapshot,
                                                                        std::string* storage) {
  ByteReader in(snapshot);
  std::string_view magic;
  uint32_t version = 0;
  if (!in.ReadBytes(kMagic.size(), &magic) || magic != kMagic) return Corrupt("bad magic");
  if (!in.ReadFixed32(&version)) return Corrupt("truncated version");
  if (version == kLegacyVersion) return ParseLegacy(in);
  if (version == kVersion) {
    std::string_view frame;
    in.ReadBytes(in.remaining(), &frame);
    return ParseStreamed(frame, storage);
  }
  if (version == kCompressedVersion) {
    uint64_t raw = 0;
    if (!in.ReadFixed64(&raw)) return Corrupt("truncated length");
    if (raw > kMaxSectionsBytes) return Corrupt(StrCat("sections of ", raw, " bytes"));
    std::string_view frame;
    in.ReadBytes(in.remaining(), &frame);
    // Decompressed as it comes rather than into a buffer of the claimed size: a damaged length
    // must not allocate what the data does not hold.
    storage->clear();
    FrameReader reader(frame);
    if (!reader.ReadToEnd(storage, raw) || storage->size() != raw) {
      return Corrupt(StrCat("compressed sections do not match their length",
                            reader.error().empty() ? "" : ": ", reader.error()));
    }
    in = ByteReader(*storage);
  } else if (version != kUncompressedVersion) {
    return Corrupt(StrCat("unknown format version ", version, " (this build reads versions ",
                          kLegacyVersion, " to ", kVersion, ")"));
  }
  std::map<FsmSection, std::string_view> sections;
  uint32_t last = 0;
  while (!in.empty()) {
    uint32_t tag = 0;
    uint64_t length = 0, sum = 0;
    std::string_view bytes;
    if (!in.ReadFixed32(&tag) || !in.ReadFixed64(&length) || length > in.remaining() ||
        !in.ReadBytes(static_cast<size_t>(length), &bytes) || !in.ReadFixed64(&sum)) {
      return Corrupt(StrCat("truncated section after tag ", last));
    }
    if (!IsKnown(tag)) {
      return Corrupt(StrCat("unknown section tag ", tag, " (written by a newer version?)"));
    }
    if (tag <= last) return Corrupt(StrCat("section tag ", tag, " out of order"));
    if (XXH64(bytes.data(), bytes.size(), 0) != sum) {
      return Corrupt(StrCat("checksum mismatch in section ", tag));
    }
    last = tag;
    sections.emplace(static_cast<FsmSection>(tag), bytes);
  }
  return sections;
}

}  // namespace embers::metastore::raft
