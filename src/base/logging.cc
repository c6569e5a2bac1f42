#include "base/logging.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <ctime>

#include "base/strings.h"

namespace embers::log {

namespace internal {
std::atomic<int> min_level{static_cast<int>(Level::kInfo)};
}  // namespace internal

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "unknown";
}

absl::StatusOr<Level> ParseLevel(std::string_view name) {
  std::string lower = AsciiLower(name);
  if (lower == "debug") return Level::kDebug;
  if (lower == "info") return Level::kInfo;
  if (lower == "warn" || lower == "warning") return Level::kWarn;
  if (lower == "error") return Level::kError;
  return absl::InvalidArgumentError(
      StrCat("unknown log level \"", name, "\" (want debug, info, warn or error)"));
}

void SetLevel(Level level) {
  internal::min_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

Level GetLevel() { return static_cast<Level>(internal::min_level.load(std::memory_order_relaxed)); }

// ---- Field ----

Field::Field(std::string_view key, double value) : key_(key), kind_(kBuf) {
  // Shortest form that reads back as the same double: 0.1, 1e+20, inf, nan.
  auto [end, ec] = std::to_chars(buf_, buf_ + sizeof(buf_), value);
  buf_len_ = static_cast<uint8_t>(end - buf_);
}

Field::Field(std::string_view key, const absl::Status& status)
    : key_(key), kind_(kOwned), owned_(status.ToString()) {}

void Field::FormatInt(int64_t v) {
  auto [end, ec] = std::to_chars(buf_, buf_ + sizeof(buf_), v);
  buf_len_ = static_cast<uint8_t>(end - buf_);
}

void Field::FormatUint(uint64_t v) {
  auto [end, ec] = std::to_chars(buf_, buf_ + sizeof(buf_), v);
  buf_len_ = static_cast<uint8_t>(end - buf_);
}

// ---- Formatting ----

namespace {

bool NeedsQuotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || u == 0x7f || c == '=' || c == '"') return true;
  }
  return false;
}

void AppendQuoted(std::string& out, std::string_view v) {
  out += '"';
  for (char c : v) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < ' ' || u == 0x7f) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out += kHex[u >> 4];
          out += kHex[u & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// Keys are identifiers chosen by the programmer; a character that would break the key=value
// framing is replaced rather than escaped (logfmt has no quoting for keys).
void AppendKey(std::string& out, std::string_view key) {
  if (key.empty()) {
    out += '_';
    return;
  }
  for (char c : key) {
    auto u = static_cast<unsigned char>(c);
    out += (u <= ' ' || u == 0x7f || c == '=' || c == '"') ? '_' : c;
  }
}

void AppendTimestamp(std::string& out, std::chrono::system_clock::time_point ts) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(ts).time_since_epoch().count();
  const std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  const int millis = static_cast<int>(ms - static_cast<int64_t>(secs) * 1000);
  struct tm tm;
  ::gmtime_r(&secs, &tm);
  char buf[48];
  int n = std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  out.append(buf, static_cast<size_t>(n));
}

// One write(2) for the whole line: POSIX makes it atomic for pipes up to PIPE_BUF bytes, and
// terminals and files opened with O_APPEND do not split it in practice. A short write (rare:
// signals, huge lines) is continued rather than dropped.
void WriteStderr(std::string_view line) {
  while (!line.empty()) {
    ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // Nowhere to report a failure to log.
    }
    line.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

void AppendValue(std::string& out, std::string_view value) {
  if (NeedsQuotes(value)) {
    AppendQuoted(out, value);
  } else {
    out += value;
  }
}

std::string FormatLine(std::chrono::system_clock::time_point ts, Level level,
                       std::string_view caller, std::string_view msg,
                       absl::Span<const Field> fields) {
  std::string out;
  out.reserve(96 + msg.size() + fields.size() * 24);
  out += "ts=";
  AppendTimestamp(out, ts);
  out += " level=";
  out += LevelName(level);
  if (!caller.empty()) {
    out += " caller=";
    AppendValue(out, caller);
  }
  // The message is always quoted, as Pyroscope and Loki's logfmt write it.
  out += " msg=";
  AppendQuoted(out, msg);
  for (const Field& f : fields) {
    out += ' ';
    AppendKey(out, f.key());
    out += '=';
    AppendValue(out, f.value());
  }
  out += '\n';
  return out;
}

void Log(Level level, std::string_view msg, absl::Span<const Field> fields, SourceLocation loc) {
  if (!Enabled(level)) return;
  // The compiler gives the path as passed on its command line; keep only the file name.
  std::string_view file = loc.file_name();
  if (size_t slash = file.rfind('/'); slash != std::string_view::npos) {
    file.remove_prefix(slash + 1);
  }
  std::string caller(file);
  caller += ':';
  caller += std::to_string(loc.line());
  WriteStderr(FormatLine(std::chrono::system_clock::now(), level, caller, msg, fields));
}

}  // namespace embers::log
