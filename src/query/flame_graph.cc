#include "query/flame_graph.h"

#include <algorithm>
#include <functional>
#include <queue>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace embers::query {
namespace {

// Children of every node in one flat array (CSR), each node's children sorted by name.
struct ChildIndex {
  std::vector<uint32_t> begin;  // size()+1 entries
  std::vector<uint32_t> child;

  explicit ChildIndex(const FunctionTree& tree) : begin(tree.size() + 1, 0) {
    const size_t n = tree.size();
    if (n > 1) child.resize(n - 1);
    for (uint32_t i = 1; i < n; ++i) ++begin[tree.parent(i) + 1];
    for (size_t i = 1; i <= n; ++i) begin[i] += begin[i - 1];
    std::vector<uint32_t> cursor(begin.begin(), begin.end() - 1);
    for (uint32_t i = 1; i < n; ++i) child[cursor[tree.parent(i)]++] = i;
    for (size_t i = 0; i < n; ++i) {
      std::sort(child.begin() + begin[i], child.begin() + begin[i + 1],
                [&tree](uint32_t a, uint32_t b) { return tree.name(a) < tree.name(b); });
    }
  }
  std::span<const uint32_t> Of(uint32_t node) const {
    return {child.data() + begin[node], begin[node + 1] - begin[node]};
  }
};

}  // namespace

int64_t MinNodeTotal(const FunctionTree& tree, const std::vector<int64_t>& totals,
                     int64_t max_nodes) {
  const int64_t real_nodes = static_cast<int64_t>(tree.size()) - 1;  // without the root
  if (max_nodes < 1 || real_nodes <= max_nodes) return 0;
  // Min-heap of the largest totals seen. A child's total never exceeds its parent's, so once a
  // node cannot enter the heap, nothing below it can: its subtree is skipped.
  ChildIndex children(tree);
  std::priority_queue<int64_t, std::vector<int64_t>, std::greater<>> heap;
  std::vector<uint32_t> stack(children.Of(FunctionTree::kRoot).begin(),
                              children.Of(FunctionTree::kRoot).end());
  while (!stack.empty()) {
    uint32_t n = stack.back();
    stack.pop_back();
    if (static_cast<int64_t>(heap.size()) >= max_nodes) {
      if (totals[n] <= heap.top()) continue;
      heap.pop();
    }
    heap.push(totals[n]);
    for (uint32_t c : children.Of(n)) stack.push_back(c);
  }
  return static_cast<int64_t>(heap.size()) < max_nodes ? 0 : heap.top();
}

querier::v1::FlameGraph BuildFlameGraph(const FunctionTree& tree, int64_t max_nodes) {
  const std::vector<int64_t> totals = tree.Totals();
  const int64_t min_total = MinNodeTotal(tree, totals, max_nodes);
  const ChildIndex children(tree);

  // The rendered total is what lies under the root; a sample with an empty stack has no frame
  // to show, as upstream.
  int64_t total = totals[FunctionTree::kRoot] - tree.self(FunctionTree::kRoot);

  constexpr uint32_t kSynthetic = UINT32_MAX;  // the root and "other" nodes have no tree node
  struct Item {
    uint32_t node;
    uint32_t level;
    int64_t x;
    int64_t self;
    int64_t total;
    std::string_view name;
  };
  std::vector<Item> stack;
  stack.push_back({FunctionTree::kRoot, 0, 0, 0, total, "total"});

  std::vector<std::string_view> names;
  absl::flat_hash_map<std::string_view, int64_t> name_index;
  std::vector<std::vector<int64_t>> levels;  // per level, nodes right to left until reversed
  int64_t max_self = 0;

  while (!stack.empty()) {
    Item it = stack.back();
    stack.pop_back();
    max_self = std::max(max_self, it.self);
    auto [pos, inserted] = name_index.try_emplace(it.name, static_cast<int64_t>(names.size()));
    if (inserted) names.push_back(it.name);
    if (it.level == levels.size()) levels.emplace_back();
    std::vector<int64_t>& level = levels[it.level];
    level.insert(level.end(), {it.x, it.total, it.self, pos->second});
    if (it.node == kSynthetic) continue;  // "other" is a leaf

    // Self sits at the left of the node; kept children follow by name, "other" last.
    int64_t x = it.x + it.self;
    int64_t other = 0;
    for (uint32_t c : children.Of(it.node)) {
      std::string_view name = tree.name(c);
      if (totals[c] >= min_total && name != kOtherNodeName) {
        stack.push_back({c, it.level + 1, x, tree.self(c), totals[c], name});
        x += totals[c];
      } else {
        other += totals[c];
      }
    }
    if (other != 0) stack.push_back({kSynthetic, it.level + 1, x, other, other, kOtherNodeName});
  }

  querier::v1::FlameGraph fg;
  for (std::string_view n : names) fg.add_names(std::string(n));
  for (std::vector<int64_t>& level : levels) {
    // Nodes were visited right to left: reverse the 4-tuples, then delta-encode the offsets.
    const size_t count = level.size() / 4;
    for (size_t i = 0; i < count / 2; ++i) {
      std::swap_ranges(level.begin() + 4 * i, level.begin() + 4 * i + 4,
                       level.begin() + 4 * (count - 1 - i));
    }
    int64_t end = 0;
    auto* values = fg.add_levels()->mutable_values();
    values->Reserve(static_cast<int>(level.size()));
    for (size_t i = 0; i < count; ++i) {
      const int64_t x = level[4 * i], node_total = level[4 * i + 1];
      values->Add(x - end);
      values->Add(node_total);
      values->Add(level[4 * i + 2]);
      values->Add(level[4 * i + 3]);
      end = x + node_total;
    }
  }
  fg.set_total(total);
  fg.set_max_self(max_self);
  return fg;
}

FlamebearerUnits UnitsForSampleType(std::string_view sample_type, std::string_view sample_unit) {
  FlamebearerUnits u;
  if (sample_type == "inuse_objects" || sample_type == "alloc_objects" ||
      sample_type == "goroutine" || sample_type == "samples") {
    u.units = "objects";
  } else if (sample_type == "cpu") {
    u.units = "samples";
  } else {
    u.units = std::string(sample_unit);
  }
  return u;
}

}  // namespace embers::query
