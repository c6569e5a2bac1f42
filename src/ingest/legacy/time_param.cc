#include "ingest/legacy/time_param.h"

#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "base/strings.h"

namespace embers::ingest {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int64_t SaturatingMul(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_mul_overflow(a, b, &out)) {
    return (a < 0) != (b < 0) ? std::numeric_limits<int64_t>::min()
                              : std::numeric_limits<int64_t>::max();
  }
  return out;
}

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_add_overflow(a, b, &out)) {
    return b < 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
  }
  return out;
}

// Seconds per unit, by prefix as upstream matches them (order matters: "s" before "mon"/"M",
// "mon"/"M" before "min"/"m"); 0 when unknown.
int64_t UnitSeconds(std::string_view unit) {
  auto starts = [&](std::string_view p) { return unit.substr(0, p.size()) == p; };
  if (starts("s")) return 1;
  if (starts("mon") || starts("M")) return 30 * 86400;
  if (starts("min") || starts("m")) return 60;
  if (starts("h")) return 3600;
  if (starts("d")) return 86400;
  if (starts("w")) return 7 * 86400;
  if (starts("y")) return 365 * 86400;
  return 0;
}

absl::Status Invalid(std::string_view param, std::string_view value, std::string_view why) {
  return absl::InvalidArgumentError(ToAbsl(StrCat(param, ": ", why, " in \"", value, "\"")));
}

}  // namespace

absl::StatusOr<int64_t> ParseTimeParam(std::string_view value, int64_t now_ns,
                                       std::string_view param) {
  if (value.size() > 256) return Invalid(param, value.substr(0, 32), "value too long");
  std::string s;
  for (char c : StripWhitespace(value)) {
    if (c != '_' && c != ',' && c != ' ') s.push_back(c);
  }
  if (s.empty()) return now_ns;

  bool all_digits = true;
  for (char c : s) all_digits &= IsDigit(c);
  if (all_digits) {
    if (s.size() == 8) {
      const int year = std::stoi(s.substr(0, 4));
      const int month = std::stoi(s.substr(4, 2));
      const int day = std::stoi(s.substr(6, 2));
      // Only a real calendar date counts (CivilDay would normalise 20230231 to March 3rd).
      const absl::CivilDay d(year, month, day);
      if (year > 1900 && d.year() == year && d.month() == month && d.day() == day) {
        return absl::ToUnixNanos(absl::FromCivil(d, absl::UTCTimeZone()));
      }
    }
    int64_t v = 0;
    if (!ParseInt64(s, &v)) return Invalid(param, value, "number out of range");
    switch (s.size()) {
      case 13:
        return SaturatingMul(v, 1'000'000);
      case 16:
        return SaturatingMul(v, 1'000);
      case 19:
        return v;
      default:
        return SaturatingMul(v, kSecond);
    }
  }

  // reference[+|-offset]; the only reference upstream understands is "now" (or nothing).
  size_t sign_pos = s.find('+');
  if (sign_pos == std::string::npos) sign_pos = s.find('-');
  std::string_view ref = std::string_view(s).substr(0, sign_pos);
  if (!ref.empty() && ref != "now") return Invalid(param, value, "unknown time reference");
  if (sign_pos == std::string::npos) return now_ns;

  const int64_t sign = s[sign_pos] == '-' ? -1 : 1;
  std::string_view rest = std::string_view(s).substr(sign_pos + 1);
  if (rest.empty()) return Invalid(param, value, "missing offset");
  int64_t offset_s = 0;
  while (!rest.empty()) {
    size_t n = 0;
    while (n < rest.size() && IsDigit(rest[n])) ++n;
    int64_t num = 0;
    if (n == 0 || !ParseInt64(rest.substr(0, n), &num)) {
      return Invalid(param, value, "offset needs a number");
    }
    rest.remove_prefix(n);
    size_t u = 0;
    while (u < rest.size() && !IsDigit(rest[u])) ++u;
    const int64_t unit = UnitSeconds(rest.substr(0, u));
    if (unit == 0) return Invalid(param, value, "unknown offset unit");
    rest.remove_prefix(u);
    offset_s = SaturatingAdd(offset_s, SaturatingMul(num, unit));
  }
  return SaturatingAdd(now_ns, SaturatingMul(sign * offset_s, kSecond));
}

}  // namespace embers::ingest
