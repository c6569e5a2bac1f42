// The SelectHeatmap grid: time slots × value buckets, with a count and an exemplar per cell.
//
// The query-backend lists every value of each group (HeatmapPoint: one per profile row, or one
// per sample that has a span id, ReadQuery::Heatmap). Here, as upstream's RangeHeatmap:
//  - values of one profile (same timestamp and profile id, e.g. a profile split into several
//    series by its sample labels) or of one span (same timestamp and span id) are summed into one
//    point, so a cell counts profiles or spans, not rows or samples; their exemplar labels are
//    the ones all of them share;
//  - the value axis is cut into kHeatmapBuckets equal integer buckets between the smallest and the
//    largest value of all groups (the largest + 1 when they are equal), so every series of an
//    answer shares one axis;
//  - a point goes to the slot whose right edge is its timestamp rounded up to the grid
//    start + k * step, clamped to [start, end rounded up the same way]; the backend reads from
//    start - step so the first slot, at start, covers a whole step;
//  - a cell's exemplar is its largest point (then the earliest, then the smallest id, so the
//    choice does not depend on the order reports merged in).
// Upstream gives every stored profile an id; Embers keeps the client's, so a profile pushed without
// one counts once per row (per series it was split into: nothing tells it from another profile of
// the same millisecond) and has no exemplar to point at.
#ifndef EMBERS_QUERY_HEATMAP_H_
#define EMBERS_QUERY_HEATMAP_H_

#include <cstdint>
#include <map>
#include <vector>

#include "google/protobuf/repeated_ptr_field.h"
#include "query/query_backend.h"
#include "types/v1/types.pb.h"

namespace embers::query {

inline constexpr int kHeatmapBuckets = 20;

// One value bucket: [min, max), the last one [min, max]. Buckets may be empty (min == max) when
// the value range is narrower than the bucket count.
struct HeatmapBucket {
  int64_t min = 0;
  int64_t max = 0;
};

// `count` equal buckets from min_value to max_value (> min_value), edges truncated to integers.
std::vector<HeatmapBucket> HeatmapBuckets(int64_t min_value, int64_t max_value,
                                          int count = kHeatmapBuckets);
// The bucket of `value`: the first whose [min, max) holds it, the last for values at or past
// the last one's min; -1 below the first.
int HeatmapBucketOf(int64_t value, const std::vector<HeatmapBucket>& buckets);
// The slot timestamp (right edge) of a point at `ts` on the grid start + k * step (step > 0).
int64_t HeatmapSlotOf(int64_t ts, int64_t start, int64_t end, int64_t step);

// Sums the points of one profile (spans = false: same timestamp and non-empty profile id) or of
// one span (spans = true: same timestamp and span id); points without an id stay alone. The
// result is sorted by timestamp.
void MergeHeatmapPoints(bool spans, std::vector<HeatmapPoint>* points);

struct HeatmapGrid {
  int64_t start_ms = 0;  // the request's start: the first slot ends there
  int64_t end_ms = 0;
  int64_t step_ms = 1;
  bool spans = false;      // the points are span values (exemplars name spans, not profiles)
  bool exemplars = false;  // attach each cell's exemplar
};

// Renders the groups of a heatmap report (merging their points in place) as one series per group
// that has points, in label order.
void RenderHeatmap(const HeatmapGrid& grid,
                   std::map<GroupLabels, std::vector<HeatmapPoint>>* groups,
                   google::protobuf::RepeatedPtrField<types::v1::HeatmapSeries>* out);

// With 0 < limit < series count: keeps the `limit` series with the largest total count, largest
// first, ties in label order (upstream's TopSeries). Otherwise leaves the series as they are.
void TopHeatmapSeries(int64_t limit,
                      google::protobuf::RepeatedPtrField<types::v1::HeatmapSeries>* series);

}  // namespace embers::query

#endif  // EMBERS_QUERY_HEATMAP_H_
