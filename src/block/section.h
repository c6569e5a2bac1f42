// The envelope every section of an object has (docs/format.md, "Sections"): codec byte, raw
// length, body, CRC32C. EncodeSection/DecodeSection are the only code that knows it; the dataset
// writer and reader call them for the series, profiles and symbols sections and for each
// profiles chunk.
#ifndef EMBERS_BLOCK_SECTION_H_
#define EMBERS_BLOCK_SECTION_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace embers::block {

enum class Codec : uint8_t { kNone = 0, kZstd = 1 };

// Appends the section holding `raw` to `out`. zstd at `level` (1 is right for 500 ms segments;
// compaction may spend more).
void EncodeSection(std::string_view raw, Codec codec, int level, std::string* out);

// Verifies and decodes a whole section. `what` names it in errors ("object K dataset D series").
// Errors: DataLoss for a bad checksum, truncation, an unknown codec or a length mismatch.
absl::StatusOr<std::string> DecodeSection(std::string_view section, std::string_view what);
// The same without copying: the body as a view into `section` when it is stored uncompressed,
// or into `*scratch` (overwritten) after decompression. Readers of large sections use this.
absl::StatusOr<std::string_view> DecodeSectionView(std::string_view section, std::string_view what,
                                                   std::string* scratch);

// The zstd/none body codec without the envelope, used for profiles chunks, whose checksums live
// in the chunk directory.
std::string CompressBody(std::string_view raw, Codec codec, int level);
// View variant as for DecodeSectionView: `scratch` is reused, so decoding many chunks allocates
// once.
absl::StatusOr<std::string_view> DecompressBodyView(std::string_view stored, Codec codec,
                                                    size_t raw_length, std::string_view what,
                                                    std::string* scratch);
absl::StatusOr<std::string> DecompressBody(std::string_view stored, Codec codec, size_t raw_length,
                                           std::string_view what);

}  // namespace embers::block

#endif  // EMBERS_BLOCK_SECTION_H_
