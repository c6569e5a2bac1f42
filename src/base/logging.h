// Structured logging in logfmt, one line per event on stderr:
//
//   ts=2026-11-26T23:40:01.123Z level=info caller=http_server.cc:87 msg="listening"
//   addr=0.0.0.0:4040
//
// the format Pyroscope and the rest of the Grafana stack write, so the same tools read our logs.
// Used by every layer:
//
//   embers::log::Info("listening", {{"addr", addr}, {"port", 4040}});
//   embers::log::Error("flush failed", {{"segment", id}, {"err", status}});
//
// Each line is written with a single write(2), so lines from different threads never interleave.
// The minimum level is process-wide (SetLevel, once at startup): with the metrics registry it is
// the only global mutable state in the project. Lines below it cost one atomic load plus building
// the Field arguments; wrap expensive arguments in `if (log::Enabled(Level::kDebug))`.

#ifndef EMBERS_BASE_LOGGING_H_
#define EMBERS_BASE_LOGGING_H_

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace embers::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// "debug", "info", "warn", "error".
std::string_view LevelName(Level level);
// Parses a level name as given to -log.level: debug, info, warn (or warning), error; any case.
absl::StatusOr<Level> ParseLevel(std::string_view name);

// Sets the process-wide minimum level (default info). Meant to be called once at startup, but
// safe at any time.
void SetLevel(Level level);
Level GetLevel();
inline bool Enabled(Level level);

// One key=value pair of a log line. The value is rendered on construction from a string, an
// integer, a floating-point number, a bool or an absl::Status (rendered as its ToString(), "OK"
// when ok).
//
// Like absl::AlphaNum, a Field may refer to the strings it was built from instead of copying
// them, so build Fields in the argument list of the logging call and do not keep them.
class Field {
 public:
  Field(std::string_view key, std::string_view value) : key_(key), kind_(kView), view_(value) {}
  Field(std::string_view key, const std::string& value) : Field(key, std::string_view(value)) {}
  Field(std::string_view key, const char* value)
      : Field(key, value == nullptr ? std::string_view("(null)") : std::string_view(value)) {}
  Field(std::string_view key, bool value) : Field(key, value ? "true" : "false") {}
  template <std::integral T>
  requires(!std::same_as<T, bool>) Field(std::string_view key, T value) : key_(key), kind_(kBuf) {
    if constexpr (std::is_signed_v<T>) {
      FormatInt(static_cast<int64_t>(value));
    } else {
      FormatUint(static_cast<uint64_t>(value));
    }
  }
  Field(std::string_view key, double value);
  Field(std::string_view key, float value) : Field(key, static_cast<double>(value)) {}
  Field(std::string_view key, const absl::Status& status);
  // Any other pointer would silently become a bool; refuse it.
  template <typename T>
  Field(std::string_view key, T* value) = delete;

  std::string_view key() const { return key_; }
  std::string_view value() const {
    switch (kind_) {
      case kView:
        return view_;
      case kBuf:
        return std::string_view(buf_, buf_len_);
      case kOwned:
        return owned_;
    }
    return {};
  }

 private:
  // Where the value lives. An enum instead of a view into buf_/owned_ keeps Field safely
  // copyable.
  enum Kind : uint8_t { kView, kBuf, kOwned };

  void FormatInt(int64_t v);
  void FormatUint(uint64_t v);

  std::string_view key_;
  Kind kind_;
  uint8_t buf_len_ = 0;
  char buf_[32];           // Numbers: the longest int64 or shortest double fits.
  std::string_view view_;  // kView: the caller's string.
  std::string owned_;      // kOwned: text built from a Status.
};

// The call site of a logging function, for the caller field. std::source_location would do, but
// clang 14 (used for the fuzzers) cannot compile libstdc++ 12's <source_location>; these builtins
// exist in both compilers and, as default arguments of a default argument, name the outermost
// call site just the same.
class SourceLocation {
 public:
  static constexpr SourceLocation Current(const char* file = __builtin_FILE(),
                                          int line = __builtin_LINE()) {
    return SourceLocation(file, line);
  }
  constexpr const char* file_name() const { return file_; }
  constexpr int line() const { return line_; }

 private:
  constexpr SourceLocation(const char* file, int line) : file_(file), line_(line) {}
  const char* file_;
  int line_;
};

// Formats one complete log line, ending in '\n'. `caller` ("file.cc:87") is left out when empty.
// The message is always quoted; other values only when needed (see AppendValue). Pure, for tests.
std::string FormatLine(std::chrono::system_clock::time_point ts, Level level,
                       std::string_view caller, std::string_view msg,
                       absl::Span<const Field> fields);

// Appends a logfmt value to `out`: as is, or in double quotes when it is empty or contains a
// space, '=', '"' or a control character; inside quotes \ " and control characters are escaped
// (\\ \" \n \r \t \u00XX).
void AppendValue(std::string& out, std::string_view value);

// Writes a line at `level` if it is enabled; `loc` supplies the caller field.
void Log(Level level, std::string_view msg, absl::Span<const Field> fields,
         SourceLocation loc = SourceLocation::Current());

inline void Debug(std::string_view msg, std::initializer_list<Field> fields = {},
                  SourceLocation loc = SourceLocation::Current()) {
  if (Enabled(Level::kDebug)) Log(Level::kDebug, msg, fields, loc);
}
inline void Info(std::string_view msg, std::initializer_list<Field> fields = {},
                 SourceLocation loc = SourceLocation::Current()) {
  if (Enabled(Level::kInfo)) Log(Level::kInfo, msg, fields, loc);
}
inline void Warn(std::string_view msg, std::initializer_list<Field> fields = {},
                 SourceLocation loc = SourceLocation::Current()) {
  if (Enabled(Level::kWarn)) Log(Level::kWarn, msg, fields, loc);
}
inline void Error(std::string_view msg, std::initializer_list<Field> fields = {},
                  SourceLocation loc = SourceLocation::Current()) {
  if (Enabled(Level::kError)) Log(Level::kError, msg, fields, loc);
}

namespace internal {
// The process-wide minimum level, as an int; read with relaxed ordering (a level change need not
// be seen at once by other threads).
extern std::atomic<int> min_level;
}  // namespace internal

inline bool Enabled(Level level) {
  return static_cast<int>(level) >= internal::min_level.load(std::memory_order_relaxed);
}

}  // namespace embers::log

#endif  // EMBERS_BASE_LOGGING_H_
