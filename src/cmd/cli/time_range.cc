#include "cmd/cli/time_range.h"

#include "absl/strings/ascii.h"
#include "base/status.h"
#include "base/strings.h"
#include "ingest/legacy/time_param.h"

namespace embers::cli {

absl::StatusOr<int64_t> ParseTime(std::string_view value, absl::Time now, std::string_view flag) {
  std::string_view v = StripWhitespace(value);
  if (v.empty()) return absl::InvalidArgumentError(StrCat(flag, " is empty"));
  // RFC 3339 has a 'T' (or a space) between date and time; the relative forms never do.
  if (v.size() >= 19 && (v[10] == 'T' || v[10] == 't' || v[10] == ' ')) {
    std::string text(v);
    text[10] = 'T';
    absl::Time t;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
      return absl::InvalidArgumentError(
          StrCat(flag, " \"", v, "\" is not an RFC 3339 time: ", error));
    }
    return absl::ToUnixMillis(t);
  }
  absl::StatusOr<int64_t> ns = ingest::ParseTimeParam(v, absl::ToUnixNanos(now), flag);
  if (!ns.ok()) {
    return absl::InvalidArgumentError(StrCat(
        flag, " \"", v,
        "\" is not a time (now, now-1h, RFC 3339 like 2026-12-07T10:00:00Z, or Unix seconds)"));
  }
  return *ns / 1'000'000;
}

absl::StatusOr<TimeRange> ParseTimeRange(std::string_view from, std::string_view to,
                                         absl::Time now) {
  TimeRange range;
  EMBERS_ASSIGN_OR_RETURN(range.start_ms, ParseTime(from, now, "--from"));
  EMBERS_ASSIGN_OR_RETURN(range.end_ms, ParseTime(to, now, "--to"));
  if (range.start_ms >= range.end_ms) {
    return absl::InvalidArgumentError(StrCat("--from (", from, ") must be before --to (", to, ")"));
  }
  return range;
}

}  // namespace embers::cli
