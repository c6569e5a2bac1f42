// PprofFlameGraph: the flame graph of one sample type of a single pprof, without storing it.
//
// Used by adhocprofiles.v1 (server/adhoc_profiles_service.h): a user uploads a profile file and
// looks at it as a flame graph, one sample type at a time, as upstream's converter does. Frames
// are function names, inlined frames included (a location's lines, innermost first); a location
// without lines is named by its address in hex, as upstream names it.
#ifndef EMBERS_QUERY_PPROF_FLAME_GRAPH_H_
#define EMBERS_QUERY_PPROF_FLAME_GRAPH_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "model/profile_type.h"
#include "pprof/profile.h"
#include "querier/v1/querier.pb.h"
#include "query/function_tree.h"

namespace embers::query {

// The call tree of one sample type of a profile.
struct PprofFunctionTree {
  FunctionTree tree;
  model::ProfileType type;                // of the chosen sample type
  std::vector<std::string> sample_types;  // every sample type's name, in profile order
};

struct PprofFlameGraph {
  querier::v1::FlameGraph flame_graph;
  model::ProfileType type;                // of the chosen sample type
  std::vector<std::string> sample_types;  // every sample type's name, in profile order
};

// The tree of the sample type named `sample_type` (the first when it is empty or no type has that
// name); `name` becomes the profile type's name. InvalidArgument when the profile has no sample
// type. What BuildPprofFlameGraph renders, and what ad hoc diffs compare.
absl::StatusOr<PprofFunctionTree> BuildPprofFunctionTree(const pprof::Profile& profile,
                                                         std::string_view name,
                                                         std::string_view sample_type);

// The flame graph of that tree, truncated to `max_nodes` as query flame graphs are.
absl::StatusOr<PprofFlameGraph> BuildPprofFlameGraph(const pprof::Profile& profile,
                                                     std::string_view name,
                                                     std::string_view sample_type,
                                                     int64_t max_nodes);

}  // namespace embers::query

#endif  // EMBERS_QUERY_PPROF_FLAME_GRAPH_H_
