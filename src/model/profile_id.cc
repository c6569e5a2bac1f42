#include "model/profile_id.h"

#include "base/strings.h"

namespace embers::model {

std::optional<ProfileId> ParseProfileId(std::string_view uuid) {
  if (uuid.size() != 36) return std::nullopt;
  ProfileId id;
  int digits = 0;
  for (size_t i = 0; i < uuid.size(); ++i) {
    const char c = uuid[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return std::nullopt;
      continue;
    }
    const int d = HexDigitValue(c);
    if (d < 0) return std::nullopt;
    uint64_t& half = digits < 16 ? id.hi : id.lo;
    half = (half << 4) | static_cast<uint64_t>(d);
    ++digits;
  }
  return id;
}

std::string FormatProfileId(ProfileId id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out.push_back('-');
    const uint64_t half = i < 16 ? id.hi : id.lo;
    out.push_back(kHex[(half >> (4 * (15 - i % 16))) & 0xf]);
  }
  return out;
}

}  // namespace embers::model
