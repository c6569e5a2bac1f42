#include "query/query_plan.h"

#include <algorithm>

namespace embers::query {

QueryPlan QueryPlan::Build(size_t blocks, size_t max_reads, size_t max_merges) {
  max_reads = std::max<size_t>(1, max_reads);
  max_merges = std::max<size_t>(2, max_merges);
  QueryPlan plan;
  std::vector<uint32_t> level;
  for (size_t b = 0; b < blocks; b += max_reads) {
    Node read{.read = true};
    for (size_t i = b; i < std::min(blocks, b + max_reads); ++i) {
      read.children.push_back(static_cast<uint32_t>(i));
    }
    level.push_back(static_cast<uint32_t>(plan.nodes.size()));
    plan.nodes.push_back(std::move(read));
  }
  // Group nodes under merge nodes until one remains; a single read node is the whole plan.
  while (level.size() > 1) {
    std::vector<uint32_t> next;
    for (size_t i = 0; i < level.size(); i += max_merges) {
      const auto merge = static_cast<uint32_t>(plan.nodes.size());
      Node node;
      for (size_t j = i; j < std::min(level.size(), i + max_merges); ++j) {
        node.children.push_back(level[j]);
        plan.nodes[level[j]].parent = static_cast<int32_t>(merge);
      }
      plan.nodes.push_back(std::move(node));
      next.push_back(merge);
    }
    level = std::move(next);
  }
  return plan;
}

}  // namespace embers::query
