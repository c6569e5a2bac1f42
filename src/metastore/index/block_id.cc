#include "metastore/index/block_id.h"

namespace embers::metastore {

namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// Crockford base32 digit value, or -1. Lower case is accepted; the ambiguous letters I, L, O and
// U are not (ULID strings never contain them).
int DigitValue(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  for (int i = 0; i < 32; ++i) {
    if (kAlphabet[i] == c) return i;
  }
  return -1;
}

}  // namespace

std::optional<BlockId> BlockId::Parse(std::string_view text) {
  if (text.size() != 26) return std::nullopt;
  // 26 digits hold 130 bits; the top two must be zero, so the first digit is at most '7'.
  int first = DigitValue(text[0]);
  if (first < 0 || first > 7) return std::nullopt;
  BlockId id;
  for (char c : text) {
    int d = DigitValue(c);
    if (d < 0) return std::nullopt;
    // Shift the 128-bit value left by 5 and add the digit.
    id.hi = (id.hi << 5) | (id.lo >> 59);
    id.lo = (id.lo << 5) | static_cast<uint64_t>(d);
  }
  return id;
}

std::string BlockId::ToString() const {
  std::string out(26, '0');
  uint64_t h = hi, l = lo;
  for (int i = 25; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kAlphabet[l & 31];
    l = (l >> 5) | (h << 59);
    h >>= 5;
  }
  return out;
}

}  // namespace embers::metastore
