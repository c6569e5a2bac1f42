// Flame graph rendering: a FunctionTree → querier.v1.FlameGraph, Pyroscope's wire encoding.
//
// The encoding (reference §8.4) is what Grafana's flame graph panel and the Pyroscope UI decode,
// so it must match upstream bit for bit:
//  - names[0] is "total" (the root); names are de-duplicated, assigned in the order nodes are
//    visited (depth first, right-most child first);
//  - levels[d] holds 4 integers per node at depth d, left to right: x offset, total, self, name
//    index. Within a node, its self comes first and its children follow in ascending name order,
//    then the "other" node of that parent;
//  - x offsets are delta-encoded per level: each is relative to the end (offset + total) of the
//    previous node of the same level;
//  - with max_nodes > 0 and a larger tree, children whose total is below the max_nodes-th largest
//    node total (and children already named "other") are folded into one "other" child whose
//    self = total = the folded sum, so every total is preserved.
// Used by the query-frontend (SelectMergeStacktraces) and the legacy /pyroscope/render handler.
#ifndef EMBERS_QUERY_FLAME_GRAPH_H_
#define EMBERS_QUERY_FLAME_GRAPH_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "querier/v1/querier.pb.h"
#include "query/function_tree.h"

namespace embers::query {

inline constexpr std::string_view kOtherNodeName = "other";

// The smallest total a node must have to be kept when rendering at most `max_nodes` nodes: the
// max_nodes-th largest total, or 0 when nothing needs cutting (max_nodes < 1 or a small tree).
int64_t MinNodeTotal(const FunctionTree& tree, const std::vector<int64_t>& totals,
                     int64_t max_nodes);

querier::v1::FlameGraph BuildFlameGraph(const FunctionTree& tree, int64_t max_nodes);

// The diff of two trees (Diff, /pyroscope/render-diff): both are aligned on the union of their
// paths and rendered with 7 integers per node — x, total, self of the left, the same of the
// right (x offsets delta-encoded per side), name index. Truncation keeps a node when its total
// on either side reaches the max_nodes-th largest of those maxima.
querier::v1::FlameGraphDiff BuildFlameGraphDiff(const FunctionTree& left, const FunctionTree& right,
                                                int64_t max_nodes);

// The legacy flamebearer metadata of a profile type (pkg/model ExportToFlamebearer): object
// counts are "objects", CPU sample types "samples", anything else its sample unit.
struct FlamebearerUnits {
  std::string units;
  int sample_rate = 100;
};
FlamebearerUnits UnitsForSampleType(std::string_view sample_type, std::string_view sample_unit);

}  // namespace embers::query

#endif  // EMBERS_QUERY_FLAME_GRAPH_H_
