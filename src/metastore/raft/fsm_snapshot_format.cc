#include "metastore/raft/fsm_snapshot_format.h"

#include <cassert>

#include "base/strings.h"
#include "base/varint.h"
#include "xxhash.h"
#include "zstd.h"

namespace embers::metastore::raft {

namespace {

constexpr std::string_view kMagic = "EMFS";
constexpr uint32_t kVersion = 3;  // compressed sections
constexpr uint32_t kUncompressedVersion = 2;
constexpr uint32_t kLegacyVersion = 1;
constexpr size_t kPrefixBytes = 8;  // magic and version
// Level 1, the cheapest: the serialiser's CPU is what a snapshot costs.
constexpr int kZstdLevel = 1;
// A snapshot's sections may not claim more than this (the restore allocates it up front).
constexpr uint64_t kMaxSectionsBytes = uint64_t{64} << 30;

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

FsmSnapshotWriter::FsmSnapshotWriter(size_t expected_bytes) {
  out_.reserve(expected_bytes);
  out_.append(kMagic);
  PutFixed32(&out_, kUncompressedVersion);
}

void FsmSnapshotWriter::AddSection(FsmSection tag, absl::FunctionRef<void(std::string*)> write) {
  const auto t = static_cast<uint32_t>(tag);
  assert(t > last_tag_);
  last_tag_ = t;
  PutFixed32(&out_, t);
  const size_t length_at = out_.size();
  PutFixed64(&out_, 0);  // patched below
  const size_t begin = out_.size();
  write(&out_);
  const size_t length = out_.size() - begin;
  for (int i = 0; i < 8; ++i) out_[length_at + i] = static_cast<char>(length >> (8 * i));
  PutFixed64(&out_, XXH64(out_.data() + begin, length, 0));
}

std::string FsmSnapshotWriter::Finish(bool compress) {
  sections_bytes_ = out_.size() - kPrefixBytes;
  if (!compress) return std::move(out_);
  const std::string_view sections = std::string_view(out_).substr(kPrefixBytes);
  std::string out;
  out.append(kMagic);
  PutFixed32(&out, kVersion);
  PutFixed64(&out, sections.size());
  // Compressed into an uninitialised buffer of the worst-case size (a string would zero all of
  // it, faulting in every page), then copied out at its real size.
  const size_t bound = ZSTD_compressBound(sections.size());
  compressed_.reset(new char[bound]);
  const size_t n =
      ZSTD_compress(compressed_.get(), bound, sections.data(), sections.size(), kZstdLevel);
  // Only a destination smaller than ZSTD_compressBound can fail.
  assert(!ZSTD_isError(n));
  out.append(compressed_.get(), n);
  return out;
}

absl::StatusOr<std::map<FsmSection, std::string_view>> ParseFsmSnapshot(std::string_view snapshot,
                                                                        std::string* storage) {
  ByteReader in(snapshot);
  std::string_view magic;
  uint32_t version = 0;
  if (!in.ReadBytes(kMagic.size(), &magic) || magic != kMagic) return Corrupt("bad magic");
  if (!in.ReadFixed32(&version)) return Corrupt("truncated version");
  if (version == kLegacyVersion) return ParseLegacy(in);
  if (version == kVersion) {
    uint64_t raw = 0;
    if (!in.ReadFixed64(&raw)) return Corrupt("truncated length");
    if (raw > kMaxSectionsBytes) return Corrupt(StrCat("sections of ", raw, " bytes"));
    std::string_view frame;
    in.ReadBytes(in.remaining(), &frame);
    if (ZSTD_getFrameContentSize(frame.data(), frame.size()) != raw) {
      return Corrupt("compressed sections do not match their length");
    }
    storage->resize(static_cast<size_t>(raw));
    const size_t n = ZSTD_decompress(storage->data(), storage->size(), frame.data(), frame.size());
    if (ZSTD_isError(n) || n != raw) {
      return Corrupt(StrCat("cannot decompress the sections: ",
                            ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short"));
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
