// Pyroscope's serialized tree (reference §8.4, pkg/model/tree.go): SelectMergeStacktraces with
// format=TREE returns it, and tools that post-process flame graphs (e.g. profilecli) read it.
//
// Depth-first pre-order from a virtual root (empty name, self 0); each node is
// `uvarint len(name) | name | uvarint self | uvarint child_count`. Siblings are written in
// descending name order, as upstream's stack-based encoder does; readers must not depend on it.
// Truncation is the flame graph's: children below the max_nodes-th largest total fold into one
// child named "other" whose self is their summed total.
#ifndef EMBERS_QUERY_TREE_FORMAT_H_
#define EMBERS_QUERY_TREE_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "query/function_tree.h"

namespace embers::query {

std::string MarshalTree(const FunctionTree& tree, int64_t max_nodes);

// Parses tree bytes (ours or upstream's). Errors name the byte offset.
absl::StatusOr<FunctionTree> UnmarshalTree(std::string_view bytes);

}  // namespace embers::query

#endif  // EMBERS_QUERY_TREE_FORMAT_H_
