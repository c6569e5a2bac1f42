// Decoding of pprof `google.v1.Profile` bytes into a pprof::Profile.
//
// This is the entry point for every pprof that reaches Embers from outside (Push RPC raw
// profiles, /ingest pprof bodies), so it treats its input as hostile: the protobuf is parsed by
// a hand-written decoder (no generated message objects, no allocation per field) that checks
// every length and varint against the buffer, and the decoded profile is validated before it is
// returned (string indexes in range, strings valid UTF-8, referenced locations/functions/mappings
// exist, ids non-zero and unique, one value per sample type). Compressed input (gzip or zstd,
// sniffed by magic bytes) is inflated with a bound so a decompression bomb costs nothing.
//
// Errors: InvalidArgument naming the byte offset or the offending element; 413-style
// ResourceExhausted (base/status.h PayloadTooLargeError) when the decompressed profile exceeds
// `max_decompressed_size`.
#ifndef EMBERS_PPROF_DECODER_H_
#define EMBERS_PPROF_DECODER_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "pprof/profile.h"

namespace embers::pprof {

struct DecodeOptions {
  // Pyroscope's validation.max-profile-size-bytes: the limit applies to the uncompressed size.
  // 0 disables the limit (tests and tools only).
  size_t max_decompressed_size = 4 << 20;
  // false: parse only, skipping Validate(). For callers that repair known-broken profiles before
  // validating them themselves (the /ingest adapter renumbers the function ids of old .NET
  // agents, which are all 0). The returned profile must not be used before Validate() succeeds:
  // its id → index maps are not built and its references are unchecked.
  bool validate = true;
};

// Decodes `data` (gzip, zstd or raw protobuf). The returned profile owns a copy of the
// (decompressed) bytes its strings point into. Its sample arrays reuse the memory of the last
// profile this thread gave back with RecycleSampleArrays (sample_arrays_cache.h), as
// SplitBySeries does.
absl::StatusOr<Profile> Decode(std::string_view data, const DecodeOptions& options = {});

// Decodes uncompressed protobuf bytes without copying them: the profile shares `raw`.
absl::StatusOr<Profile> DecodeRaw(std::shared_ptr<const std::string> raw,
                                  const DecodeOptions& options = {});

// Validates references and string indexes of an in-memory profile (what Decode runs after
// parsing). Exposed for profiles built in code (converters from other formats).
absl::Status Validate(Profile& profile);

}  // namespace embers::pprof

#endif  // EMBERS_PPROF_DECODER_H_
