// DOT rendering of a call tree: SelectMergeStacktraces format=DOT and /pyroscope/render?format=dot.
//
// Like `go tool pprof -dot`, the graph has one node per function (flat and cumulative value,
// recursion counted once) and one edge per caller → callee pair, weighted by the value flowing
// through it; only the `max_nodes` functions with the largest cumulative values are drawn (100 by
// default, as upstream), edges between them only. Upstream renders from a pprof with its graph
// package; this reads the function-name tree the flame graph uses, which holds the same
// function-level information.
#ifndef EMBERS_QUERY_DOT_GRAPH_H_
#define EMBERS_QUERY_DOT_GRAPH_H_

#include <cstdint>
#include <string>

#include "model/profile_type.h"
#include "query/function_tree.h"

namespace embers::query {

inline constexpr int64_t kDefaultDotNodes = 100;

std::string RenderDot(const FunctionTree& tree, const model::ProfileType& type, int64_t max_nodes);

}  // namespace embers::query

#endif  // EMBERS_QUERY_DOT_GRAPH_H_
