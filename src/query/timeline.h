// Timelines of the legacy /pyroscope/render answer (flamebearer "timeline" and "groups").
//
// The old Pyroscope UI draws the total over time above the flame graph from a dense array of
// samples, one per step since `startTime`. Pyroscope (pkg/querier/timeline) picks the step from
// the range — about 1,500 points, rounded to a "nice" interval, at least 15 s — and fills steps
// without data with 0. Both rules are reproduced here so the UI renders the same.
#ifndef EMBERS_QUERY_TIMELINE_H_
#define EMBERS_QUERY_TIMELINE_H_

#include <cstdint>
#include <vector>

#include "types/v1/types.pb.h"

namespace embers::query {

// The step (seconds) for a timeline over [from_ms, until_ms].
double TimelineStepSeconds(int64_t from_ms, int64_t until_ms);

struct Timeline {
  int64_t start_time = 0;      // seconds
  int64_t duration_delta = 0;  // seconds per sample
  std::vector<uint64_t> samples;
};

// Dense samples over [from_ms, until_ms), one per step from `from_ms` (the last one may be
// partial), from a SelectSeries answer over the same range and step: its point at T holds the
// profiles of (T - step, T], so it fills the sample of the step that ends at T.
Timeline BuildTimeline(const types::v1::Series& series, int64_t from_ms, int64_t until_ms,
                       int64_t step_seconds);

}  // namespace embers::query

#endif  // EMBERS_QUERY_TIMELINE_H_
