// Small string utilities over std::string_view.
//
// Debian's Abseil (20220623) is built with its own absl::string_view rather than an alias of
// std::string_view, so absl::StrCat/StrSplit/SimpleAtoi do not accept std::string_view. The
// project uses std::string_view everywhere; these helpers give the few string operations we need
// without converting at every call site. absl::Status is still used for errors (construct its
// messages from std::string).
#ifndef EMBERS_BASE_STRINGS_H_
#define EMBERS_BASE_STRINGS_H_

#include <charconv>
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"

namespace embers {

namespace strings_internal {

inline void AppendPiece(std::string& out, std::string_view s) { out.append(s); }
inline void AppendPiece(std::string& out, const std::string& s) { out.append(s); }
inline void AppendPiece(std::string& out, const char* s) { out.append(s); }
inline void AppendPiece(std::string& out, absl::string_view s) { out.append(s.data(), s.size()); }
inline void AppendPiece(std::string& out, char c) { out.push_back(c); }
inline void AppendPiece(std::string& out, bool b) { out.append(b ? "true" : "false"); }
template <std::integral T>
requires(!std::same_as<T, bool> && !std::same_as<T, char>) void AppendPiece(std::string& out, T v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, end);
}
void AppendPiece(std::string& out, double v);

}  // namespace strings_internal

// Concatenates strings, string_views, characters, booleans and numbers.
template <class... Args>
std::string StrCat(const Args&... args) {
  std::string out;
  (strings_internal::AppendPiece(out, args), ...);
  return out;
}

inline std::string_view ToStd(absl::string_view s) { return {s.data(), s.size()}; }
inline absl::string_view ToAbsl(std::string_view s) { return {s.data(), s.size()}; }

std::vector<std::string_view> Split(std::string_view text, char sep, bool skip_empty = false);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
std::string_view StripWhitespace(std::string_view s);
std::string AsciiLower(std::string_view s);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
// Lower-case hexadecimal without leading zeros ("0" for zero).
std::string Hex(uint64_t v);
// Appends exactly 16 lower-case hexadecimal digits (zero-padded): span and trace ids.
void AppendHex16(uint64_t v, std::string* out);
// The value of a hexadecimal digit (either case), or -1.
inline int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Whole-string number parsing; false on junk, overflow or an empty string.
bool ParseInt64(std::string_view s, int64_t* out);
bool ParseInt(std::string_view s, int* out);
bool ParseDouble(std::string_view s, double* out);
// true/false, 1/0, yes/no, t/f (case-insensitive).
bool ParseBool(std::string_view s, bool* out);

}  // namespace embers

#endif  // EMBERS_BASE_STRINGS_H_
