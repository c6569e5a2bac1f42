// The envelope every section of an object has (docs/format.md, "Sections"): codec byte, raw
// length, body, CRC32C. This file is the only code that knows it: EncodeSection/DecodeSection for
// sections handled whole (series, symbols), SectionHead/ParseSectionHead for the profiles section,
// which is written and read in pieces; the body codec for each profiles chunk.
#ifndef EMBERS_BLOCK_SECTION_H_
#define EMBERS_BLOCK_SECTION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

namespace embers::block {

enum class Codec : uint8_t { kNone = 0, kZstd = 1 };

// Fuzzing builds (FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, libFuzzer's convention) do not
// compare checksums, so that mutated inputs reach the decoders behind them. Every other build
// verifies every checksum.
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
inline constexpr bool kVerifyChecksums = false;
#else
inline constexpr bool kVerifyChecksums = true;
#endif

// zstd's compression and decompression state, kept by code that handles many bodies in a row
// (DatasetWriter, ProfileReader): without one, every call allocates and initialises it anew,
// which costs as much as compressing a small chunk. The bytes are the same either way.
class ZstdContext {
 public:
  ZstdContext();
  ~ZstdContext();
  ZstdContext(const ZstdContext&) = delete;
  ZstdContext& operator=(const ZstdContext&) = delete;

  ZSTD_CCtx_s* compressor();  // created on first use
  ZSTD_DCtx_s* decompressor();

 private:
  struct Free {
    void operator()(ZSTD_CCtx_s* c) const;
    void operator()(ZSTD_DCtx_s* d) const;
  };
  std::unique_ptr<ZSTD_CCtx_s, Free> compressor_;
  std::unique_ptr<ZSTD_DCtx_s, Free> decompressor_;
};

// Appends the section holding `raw` to `out`. zstd at `level` (1 is right for 500 ms segments;
// compaction may spend more).
void EncodeSection(std::string_view raw, Codec codec, int level, std::string* out,
                   ZstdContext* zstd = nullptr);

// The envelope's head (codec byte and raw length) of a section whose body is written in pieces;
// the section is the head, the body and the CRC32C of both (PutFixed32).
std::string SectionHead(Codec codec, uint64_t raw_length);
struct SectionHeadInfo {
  uint8_t codec = 0;  // not checked: a Codec value or not
  uint64_t raw_length = 0;
  size_t head_length = 0;
};
// Parses the head at the start of `section` (its first bytes suffice). DataLoss naming `what`
// when they do not hold one.
absl::StatusOr<SectionHeadInfo> ParseSectionHead(std::string_view section, std::string_view what);

// Verifies and decodes a whole section. `what` names it in errors ("object K dataset D series").
// Errors: DataLoss for a bad checksum, truncation, an unknown codec or a length mismatch.
absl::StatusOr<std::string> DecodeSection(std::string_view section, std::string_view what);
// The same without copying: the body as a view into `section` when it is stored uncompressed,
// or into `*scratch` (overwritten) after decompression. Readers of large sections use this.
absl::StatusOr<std::string_view> DecodeSectionView(std::string_view section, std::string_view what,
                                                   std::string* scratch);

// The zstd/none body codec without the envelope, used for profiles chunks, whose checksums live
// in the chunk directory.
std::string CompressBody(std::string_view raw, Codec codec, int level, ZstdContext* zstd = nullptr);
// View variant as for DecodeSectionView: `scratch` is reused, so decoding many chunks allocates
// once.
absl::StatusOr<std::string_view> DecompressBodyView(std::string_view stored, Codec codec,
                                                    size_t raw_length, std::string_view what,
                                                    std::string* scratch,
                                                    ZstdContext* zstd = nullptr);
absl::StatusOr<std::string> DecompressBody(std::string_view stored, Codec codec, size_t raw_length,
                                           std::string_view what);

}  // namespace embers::block

#endif  // EMBERS_BLOCK_SECTION_H_
