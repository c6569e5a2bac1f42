// The `from` and `until` query parameters of POST /ingest, as Pyroscope's attime package reads
// them (a rough port of Graphite's at-time syntax):
//
//   digits only, 8 long, a valid date   YYYYMMDD, midnight UTC
//   digits only, 13 / 16 / 19 long      unix milliseconds / microseconds / nanoseconds
//   other digits only                   unix seconds
//   now, now-1h, now+30m, -15min, ...   now plus an offset: <number><unit> repeated, units s(ec..),
//                                       m/min(ute..), h(our..), d(ay..), w(eek..), M/mon(th..) = 30
//                                       days, y(ear..) = 365 days
//   empty                               now
// '_', ',' and ' ' are removed first.
//
// Upstream never fails (an unreadable reference or unit silently means "now" or "+0"); we return
// InvalidArgument naming the parameter instead, so a client bug is visible. Used by the /ingest
// handler; `now_ns` is passed in so the caller owns the clock and tests are deterministic.
#ifndef EMBERS_INGEST_LEGACY_TIME_PARAM_H_
#define EMBERS_INGEST_LEGACY_TIME_PARAM_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace embers::ingest {

// Unix nanoseconds (saturating at the int64 range). `param` names the field in errors.
absl::StatusOr<int64_t> ParseTimeParam(std::string_view value, int64_t now_ns,
                                       std::string_view param = "time");

}  // namespace embers::ingest

#endif  // EMBERS_INGEST_LEGACY_TIME_PARAM_H_
