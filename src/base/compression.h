// Decompression of untrusted request bodies, with a bound on the output size.
//
// Every compressed input (HTTP bodies with Content-Encoding, gzip'd pprof pushed without a header,
// zstd pprof) goes through here, so the decompression-bomb guard lives in one place: output beyond
// `max_output` is never allocated, and the call fails with a 413-style error instead.
#ifndef EMBERS_BASE_COMPRESSION_H_
#define EMBERS_BASE_COMPRESSION_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace embers {

enum class Compression { kNone, kGzip, kZstd };

// Recognises gzip (1f 8b) and zstd (28 b5 2f fd) by their magic bytes.
Compression SniffCompression(std::string_view data);

// Inflates gzip (or zlib-wrapped) data. Errors: InvalidArgument for corrupt or truncated input,
// ResourceExhausted (HTTP 413) when the output would exceed `max_output` bytes.
absl::StatusOr<std::string> GunzipBounded(std::string_view data, size_t max_output);
absl::StatusOr<std::string> ZstdDecompressBounded(std::string_view data, size_t max_output);
// Sniffs and decompresses when compressed; returns the input unchanged otherwise.
absl::StatusOr<std::string> MaybeDecompress(std::string_view data, size_t max_output);

std::string Gzip(std::string_view data, int level = 6);

}  // namespace embers

#endif  // EMBERS_BASE_COMPRESSION_H_
