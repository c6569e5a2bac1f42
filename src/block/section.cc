#include "block/section.h"

// ZSTD_decompressBound is in the "static linking only" part of the API (exported all the same).
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "base/crc32c.h"
#include "base/status.h"
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

ZstdContext::ZstdContext() = default;
ZstdContext::~ZstdContext() = default;

void ZstdContext::Free::operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
void ZstdContext::Free::operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }

ZSTD_CCtx* ZstdContext::compressor() {
  if (compressor_ == nullptr) compressor_.reset(ZSTD_createCCtx());
  return compressor_.get();
}

ZSTD_DCtx* ZstdContext::decompressor() {
  if (decompressor_ == nullptr) decompressor_.reset(ZSTD_createDCtx());
  return decompressor_.get();
}

std::string CompressBody(std::string_view raw, Codec codec, int level, ZstdContext* zstd) {
  if (codec == Codec::kNone) return std::string(raw);
  std::string out;
  out.resize(ZSTD_compressBound(raw.size()));
  const size_t n = zstd == nullptr
                       ? ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), level)
                       : ZSTD_compressCCtx(zstd->compressor(), out.data(), out.size(), raw.data(),
                                           raw.size(), level);
  out.resize(ZSTD_isError(n) ? 0 : n);
  return out;
}

absl::StatusOr<std::string_view> DecompressBodyView(std::string_view stored, Codec codec,
                                                    size_t raw_length, std::string_view what,
                                                    std::string* scratch, ZstdContext* zstd) {
  if (raw_length > kMaxRawLength) return Corrupt(what, "declared length is too large");
  if (codec == Codec::kNone) {
    if (stored.size() != raw_length) return Corrupt(what, "length mismatch");
    return stored;
  }
  if (codec != Codec::kZstd) return Corrupt(what, "unknown codec");
  // What the frames can hold bounds the allocation below, whatever length was declared.
  const unsigned long long bound = ZSTD_decompressBound(stored.data(), stored.size());
  if (bound == ZSTD_CONTENTSIZE_ERROR) return Corrupt(what, "zstd: not a zstd frame");
  if (raw_length > bound) return Corrupt(what, "declared length is larger than the zstd frames");
  // resize() keeps the old bytes when shrinking and only zero-fills growth; every byte is then
  // overwritten by the decompressor.
  scratch->resize(raw_length);
  const size_t n =
      zstd == nullptr
          ? ZSTD_decompress(scratch->data(), scratch->size(), stored.data(), stored.size())
          : ZSTD_decompressDCtx(zstd->decompressor(), scratch->data(), scratch->size(),
                                stored.data(), stored.size());
  if (ZSTD_isError(n)) return Corrupt(what, StrCat("zstd: ", ZSTD_getErrorName(n)));
  if (n != raw_length) return Corrupt(what, "decompressed length mismatch");
  return std::string_view(*scratch);
}

absl::StatusOr<std::string> DecompressBody(std::string_view stored, Codec codec, size_t raw_length,
                                           std::string_view what) {
  std::string out;
  absl::StatusOr<std::string_view> body = DecompressBodyView(stored, codec, raw_length, what, &out);
  if (!body.ok()) return body.status();
  if (body->data() != out.data()) return std::string(*body);
  return out;
}

std::string SectionHead(Codec codec, uint64_t raw_length) {
  std::string head(1, static_cast<char>(codec));
  PutVarint64(&head, raw_length);
  return head;
}

absl::StatusOr<SectionHeadInfo> ParseSectionHead(std::string_view section, std::string_view what) {
  ByteReader r(section);
  SectionHeadInfo head;
  if (!r.ReadByte(&head.codec) || !r.ReadVarint64(&head.raw_length)) {
    return Corrupt(what, "bad header");
  }
  head.head_length = r.position();
  return head;
}

void EncodeSection(std::string_view raw, Codec codec, int level, std::string* out,
                   ZstdContext* zstd) {
  size_t start = out->size();
  out->append(SectionHead(codec, raw.size()));
  if (codec == Codec::kNone) {
    out->append(raw);
  } else {
    out->append(CompressBody(raw, codec, level, zstd));
  }
  PutFixed32(out, Crc32c(std::string_view(*out).substr(start)));
}

absl::StatusOr<std::string_view> DecodeSectionView(std::string_view section, std::string_view what,
                                                   std::string* scratch) {
  if (section.size() < 6) return Corrupt(what, "truncated section");
  std::string_view covered = section.substr(0, section.size() - 4);
  uint32_t want = DecodeFixed32(section.data() + section.size() - 4);
  if (kVerifyChecksums && Crc32c(covered) != want) return Corrupt(what, "checksum mismatch");
  EMBERS_ASSIGN_OR_RETURN(SectionHeadInfo head, ParseSectionHead(covered, what));
  std::string_view body = covered.substr(head.head_length);
  return DecompressBodyView(body, static_cast<Codec>(head.codec), head.raw_length, what, scratch);
}

absl::StatusOr<std::string> DecodeSection(std::string_view section, std::string_view what) {
  std::string out;
  absl::StatusOr<std::string_view> body = DecodeSectionView(section, what, &out);
  if (!body.ok()) return body.status();
  if (body->data() != out.data()) return std::string(*body);
  return out;
}

}  // namespace embers::block
