#include "block/section.h"

#include <zstd.h>

#include "base/crc32c.h"
#include "base/strings.h"
#include "base/varint.h"

namespace embers::block {
namespace {

// Sections larger than this are refused before allocating: no section we write comes close
// (a segment is flushed every 500 ms; compacted datasets are split well below it).
constexpr uint64_t kMaxRawLength = 1ull << 32;

absl::Status Corrupt(std::string_view what, std::string_view why) {
  return absl::DataLossError(StrCat(what, ": ", why));
}

}  // namespace

std::string CompressBody(std::string_view raw, Codec codec, int level) {
  if (codec == Codec::kNone) return std::string(raw);
  std::string out;
  out.resize(ZSTD_compressBound(raw.size()));
  size_t n = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), level);
  out.resize(ZSTD_isError(n) ? 0 : n);
  return out;
}

absl::StatusOr<std::string> DecompressBody(std::string_view stored, Codec codec, size_t raw_length,
                                           std::string_view what) {
  if (raw_length > kMaxRawLength) return Corrupt(what, "declared length is too large");
  if (codec == Codec::kNone) {
    if (stored.size() != raw_length) return Corrupt(what, "length mismatch");
    return std::string(stored);
  }
  if (codec != Codec::kZstd) return Corrupt(what, "unknown codec");
  std::string out;
  out.resize(raw_length);
  size_t n = ZSTD_decompress(out.data(), out.size(), stored.data(), stored.size());
  if (ZSTD_isError(n)) return Corrupt(what, StrCat("zstd: ", ZSTD_getErrorName(n)));
  if (n != raw_length) return Corrupt(what, "decompressed length mismatch");
  return out;
}

void EncodeSection(std::string_view raw, Codec codec, int level, std::string* out) {
  size_t start = out->size();
  out->push_back(static_cast<char>(codec));
  PutVarint64(out, raw.size());
  if (codec == Codec::kNone) {
    out->append(raw);
  } else {
    out->append(CompressBody(raw, codec, level));
  }
  PutFixed32(out, Crc32c(std::string_view(*out).substr(start)));
}

absl::StatusOr<std::string> DecodeSection(std::string_view section, std::string_view what) {
  if (section.size() < 6) return Corrupt(what, "truncated section");
  std::string_view covered = section.substr(0, section.size() - 4);
  uint32_t want = DecodeFixed32(section.data() + section.size() - 4);
  if (Crc32c(covered) != want) return Corrupt(what, "checksum mismatch");
  ByteReader r(covered);
  uint8_t codec;
  uint64_t raw_length;
  if (!r.ReadByte(&codec) || !r.ReadVarint64(&raw_length)) return Corrupt(what, "bad header");
  std::string_view body = covered.substr(r.position());
  return DecompressBody(body, static_cast<Codec>(codec), raw_length, what);
}

}  // namespace embers::block
