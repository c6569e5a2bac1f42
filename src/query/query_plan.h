// QueryPlan: how the blocks of one query are read and merged (reference §8.2, queryplan.Build).
//
// Leaves are read nodes of at most `max_reads` blocks (read one after the other by one task,
// merging as they go); inner nodes merge at most `max_merges` children. The tree bounds both the
// reports held at once and the fan-in of any merge, and it is the unit a query is split by: a
// merge node's subtrees are independent and can run anywhere. The query-backend executes it.
#ifndef EMBERS_QUERY_QUERY_PLAN_H_
#define EMBERS_QUERY_QUERY_PLAN_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace embers::query {

struct QueryPlan {
  struct Node {
    bool read = false;
    std::vector<uint32_t> children;  // read: block indexes; merge: node indexes
    int32_t parent = -1;             // -1 for the root
  };
  std::vector<Node> nodes;  // the root is the last node
  uint32_t root() const { return static_cast<uint32_t>(nodes.size() - 1); }

  // A plan over blocks 0..blocks-1 (blocks > 0). Upstream reads 4 blocks per leaf and merges 20.
  static QueryPlan Build(size_t blocks, size_t max_reads = 4, size_t max_merges = 20);
};

}  // namespace embers::query

#endif  // EMBERS_QUERY_QUERY_PLAN_H_
