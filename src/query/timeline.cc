#include "query/timeline.h"

#include <algorithm>

namespace embers::query {
namespace {

// (bound, step) in ms: an interval up to `bound` is rounded to `step` (upstream roundInterval).
struct Rung {
  int64_t bound;
  int64_t step;
};
constexpr Rung kLadder[] = {
    {10, 1},
    {15, 10},
    {35, 20},
    {75, 50},
    {150, 100},
    {350, 200},
    {750, 500},
    {1500, 1000},
    {3500, 2000},
    {7500, 5000},
    {12500, 10000},
    {17500, 15000},
    {25000, 20000},
    {45000, 30000},
    {90000, 60000},
    {210000, 120000},
    {450000, 300000},
    {750000, 600000},
    {1050000, 900000},
    {1500000, 1200000},
    {2700000, 1800000},
    {5400000, 3600000},
    {9000000, 7200000},
    {16200000, 10800000},
    {32400000, 21600000},
    {86400000, 43200000},
    {172800000, 86400000},
    {604800000, 86400000},
    {1814400000, 604800000},
};
constexpr int64_t kResolution = 1500;
constexpr int64_t kMinIntervalMs = 15000;

}  // namespace

double TimelineStepSeconds(int64_t from_ms, int64_t until_ms) {
  // Upstream divides nanoseconds; in ms the quotient differs only below 1 ms, far under the
  // 15 s minimum.
  const int64_t interval_ms = (until_ms - from_ms) / kResolution;
  if (interval_ms < kMinIntervalMs) return kMinIntervalMs / 1000.0;
  for (const Rung& r : kLadder) {
    if (interval_ms <= r.bound) return static_cast<double>(r.step) / 1000.0;
  }
  // Up to two years: 30 days; beyond: a year.
  return interval_ms < 3628800000ll ? 2592000.0 : 31536000.0;
}

Timeline BuildTimeline(const types::v1::Series& series, int64_t from_ms, int64_t until_ms,
                       int64_t step_seconds) {
  Timeline t;
  t.start_time = from_ms / 1000;
  t.duration_delta = step_seconds;
  if (from_ms >= until_ms || step_seconds <= 0) return t;
  const int64_t step_ms = step_seconds * 1000;
  // A last, partial step is a step too: it holds what was pushed a moment ago.
  const int64_t n = (until_ms - from_ms + step_ms - 1) / step_ms;
  t.samples.assign(static_cast<size_t>(n), 0);
  for (const types::v1::Point& p : series.points()) {
    // A point at T holds the profiles of (T - step, T]: sample k, [from + k step, from + (k+1)
    // step), gets the point at from + (k+1) step. The point at `from` holds the step before it.
    if (p.timestamp() <= from_ms) continue;
    const int64_t k = (p.timestamp() - from_ms - 1) / step_ms;
    if (k >= n) continue;
    t.samples[static_cast<size_t>(k)] += static_cast<uint64_t>(std::max(0.0, p.value()));
  }
  return t;
}

}  // namespace embers::query
