// ULID: 128-bit identifiers for objects (48-bit millisecond timestamp + 80 random bits), printed as
// 26 Crockford base32 characters. Object keys (`segments/<shard>/anonymous/<ULID>/block.bin`) sort
// by creation time, as Pyroscope's do, and the metastore partitions blocks by the ULID's time.
#ifndef EMBERS_BASE_ULID_H_
#define EMBERS_BASE_ULID_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace embers {

struct Ulid {
  std::array<uint8_t, 16> bytes{};

  // The ULID as two big-endian halves (the metastore's BlockId keeps ids this way).
  static Ulid FromHalves(uint64_t hi, uint64_t lo);
  uint64_t hi() const;
  uint64_t lo() const;

  // Timestamp in milliseconds since the Unix epoch.
  uint64_t TimeMs() const;
  std::string ToString() const;
  friend bool operator==(const Ulid&, const Ulid&) = default;
  friend auto operator<=>(const Ulid&, const Ulid&) = default;
};

// A new ULID for `time_ms` with random bits from a thread-local generator seeded from the OS.
Ulid NewUlid(uint64_t time_ms);
// A ULID whose random bits are derived from `seed` (compaction outputs must be deterministic: the
// same job always writes the same object ids).
Ulid DeterministicUlid(uint64_t time_ms, uint64_t seed_hi, uint64_t seed_lo);
// The canonical form, or lower case. Crockford's aliases (I and L for 1, O for 0) and U are
// refused rather than read: ids are keys (object paths, the index), so one id must have exactly
// one spelling, the one ToString() gives back.
absl::StatusOr<Ulid> ParseUlid(std::string_view text);

}  // namespace embers

#endif  // EMBERS_BASE_ULID_H_
