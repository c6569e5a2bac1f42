// BlockId: a block's ULID held as a 128-bit value.
//
// Object ids are ULIDs (26 Crockford base32 characters: 48 bits of creation time in ms, 80 bits of
// entropy). The index keeps them as two integers instead of strings: 16 bytes instead of a
// 26-byte heap string per block, and comparison order equals the canonical string order, so
// blocks iterate in id (= creation time) order, as Pyroscope lists them.
#ifndef EMBERS_METASTORE_INDEX_BLOCK_ID_H_
#define EMBERS_METASTORE_INDEX_BLOCK_ID_H_

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace embers::metastore {

struct BlockId {
  uint64_t hi = 0;  // first 64 bits: 48-bit time, 16 bits of entropy
  uint64_t lo = 0;

  // Accepts the canonical form and lower case; nullopt for anything else (wrong length, a
  // character outside the alphabet, or a value above 2^128 - 1).
  static std::optional<BlockId> Parse(std::string_view text);
  // Canonical upper-case form.
  std::string ToString() const;
  // The ULID's timestamp, ms since epoch.
  int64_t TimeMs() const { return static_cast<int64_t>(hi >> 16); }

  friend auto operator<=>(const BlockId&, const BlockId&) = default;
  friend bool operator==(const BlockId&, const BlockId&) = default;

  template <typename H>
  friend H AbslHashValue(H h, const BlockId& id) {
    return H::combine(std::move(h), id.hi, id.lo);
  }
};

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_INDEX_BLOCK_ID_H_
