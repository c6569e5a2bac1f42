#include "ingest/legacy/folded.h"

#include <charconv>

#include "base/status.h"
#include "base/strings.h"

namespace embers::ingest {
namespace {

// Calls fn(line_number, line) for every line, without its "\n" or "\r\n"; stops at the first error.
template <class Fn>
absl::Status ForEachLine(std::string_view body, Fn&& fn) {
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < body.size()) {
    ++line_no;
    size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = end + 1;
    if (line.empty()) continue;
    absl::Status status = fn(line_no, line);
    if (!status.ok()) return Annotate(status, StrCat("line ", line_no));
  }
  return absl::OkStatus();
}

// A short, printable excerpt of untrusted input for an error message.
std::string Excerpt(std::string_view s) {
  constexpr size_t kMax = 40;
  std::string out;
  for (char c : s.substr(0, kMax)) {
    out.push_back(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f ? c : '?');
  }
  if (s.size() > kMax) out.append("...");
  return out;
}

}  // namespace

absl::StatusOr<StackSamples> ParseFolded(std::string_view body, const ParseLimits& limits) {
  StackSamplesBuilder builder(limits);
  absl::Status status = ForEachLine(body, [&](size_t, std::string_view line) -> absl::Status {
    const size_t space = line.rfind(' ');
    if (space == std::string_view::npos) return absl::OkStatus();  // Pyroscope skips these
    std::string_view count = line.substr(space + 1);
    int64_t value = 0;
    // from_chars accepts no leading '+' and no whitespace; Go's Atoi also allows a '+'.
    std::string_view digits = !count.empty() && count[0] == '+' ? count.substr(1) : count;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size()) {
      return UnprocessableError(StrCat("invalid sample count \"", Excerpt(count),
                                       "\" (want \"frame;frame;... <count>\")"));
    }
    return builder.AddFoldedStack(line.substr(0, space), value);
  });
  if (!status.ok()) return status;
  return builder.Finish();
}

absl::StatusOr<StackSamples> ParseLines(std::string_view body, const ParseLimits& limits) {
  StackSamplesBuilder builder(limits);
  absl::Status status = ForEachLine(
      body, [&](size_t, std::string_view line) { return builder.AddFoldedStack(line, 1); });
  if (!status.ok()) return status;
  return builder.Finish();
}

}  // namespace embers::ingest
