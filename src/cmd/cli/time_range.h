// TimeRange: the --from/--to of the query commands, as a user types them: relative to now
// ("now", "now-1h", "now-30m"), RFC 3339 ("2026-12-07T10:00:00Z", any offset) or a Unix time in
// seconds, milliseconds, microseconds or nanoseconds (told apart by length, as /ingest does).
#ifndef EMBERS_CMD_CLI_TIME_RANGE_H_
#define EMBERS_CMD_CLI_TIME_RANGE_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace embers::cli {

struct TimeRange {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
};

// One time, in Unix milliseconds. InvalidArgument naming `flag` when it cannot be read.
absl::StatusOr<int64_t> ParseTime(std::string_view value, absl::Time now, std::string_view flag);

// Both ends; InvalidArgument unless from < to.
absl::StatusOr<TimeRange> ParseTimeRange(std::string_view from, std::string_view to,
                                         absl::Time now);

}  // namespace embers::cli

#endif  // EMBERS_CMD_CLI_TIME_RANGE_H_
