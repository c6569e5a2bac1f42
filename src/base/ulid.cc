#include "base/ulid.h"

#include <random>

#include "base/strings.h"

namespace embers {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int DecodeChar(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  for (int i = 0; i < 32; ++i) {
    if (kAlphabet[i] == c) return i;
  }
  return -1;
}

void SetTime(Ulid& u, uint64_t time_ms) {
  for (int i = 5; i >= 0; --i) {
    u.bytes[i] = static_cast<uint8_t>(time_ms & 0xff);
    time_ms >>= 8;
  }
}

}  // namespace

Ulid Ulid::FromHalves(uint64_t hi, uint64_t lo) {
  Ulid u;
  for (int i = 7; i >= 0; --i) {
    u.bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(hi);
    u.bytes[static_cast<size_t>(i) + 8] = static_cast<uint8_t>(lo);
    hi >>= 8;
    lo >>= 8;
  }
  return u;
}

uint64_t Ulid::hi() const {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | bytes[static_cast<size_t>(i)];
  return v;
}

uint64_t Ulid::lo() const {
  uint64_t v = 0;
  for (int i = 8; i < 16; ++i) v = (v << 8) | bytes[static_cast<size_t>(i)];
  return v;
}

uint64_t Ulid::TimeMs() const {
  uint64_t t = 0;
  for (int i = 0; i < 6; ++i) t = (t << 8) | bytes[i];
  return t;
}

std::string Ulid::ToString() const {
  // 128 bits as 26 base32 digits: the first digit carries the top 3 bits (value 0..7).
  std::string out(26, '0');
  unsigned __int128 v = 0;
  for (uint8_t b : bytes) v = (v << 8) | b;
  for (int i = 25; i >= 0; --i) {
    out[i] = kAlphabet[static_cast<int>(v & 31)];
    v >>= 5;
  }
  return out;
}

Ulid NewUlid(uint64_t time_ms) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  Ulid u;
  SetTime(u, time_ms);
  uint64_t a = rng(), b = rng();
  for (int i = 0; i < 2; ++i) u.bytes[6 + i] = static_cast<uint8_t>(a >> (8 * i));
  for (int i = 0; i < 8; ++i) u.bytes[8 + i] = static_cast<uint8_t>(b >> (8 * i));
  return u;
}

Ulid DeterministicUlid(uint64_t time_ms, uint64_t seed_hi, uint64_t seed_lo) {
  Ulid u;
  SetTime(u, time_ms);
  for (int i = 0; i < 2; ++i) u.bytes[6 + i] = static_cast<uint8_t>(seed_hi >> (8 * i));
  for (int i = 0; i < 8; ++i) u.bytes[8 + i] = static_cast<uint8_t>(seed_lo >> (8 * i));
  return u;
}

absl::StatusOr<Ulid> ParseUlid(std::string_view text) {
  if (text.size() != 26) {
    return absl::InvalidArgumentError(StrCat("invalid ULID \"", text, "\": want 26 characters"));
  }
  unsigned __int128 v = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    int d = DecodeChar(text[i]);
    if (d < 0 || (i == 0 && d > 7)) {
      return absl::InvalidArgumentError(
          StrCat("invalid ULID \"", text, "\": bad character at ", i));
    }
    v = (v << 5) | static_cast<unsigned>(d);
  }
  Ulid u;
  for (int i = 15; i >= 0; --i) {
    u.bytes[i] = static_cast<uint8_t>(v & 0xff);
    v >>= 8;
  }
  return u;
}

}  // namespace embers
