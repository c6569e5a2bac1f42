#include "query/flame_graph.h"

#include <algorithm>
#include <array>
#include <functional>
#include <queue>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace embers::query {
namespace {

// The values of one side of a rendering: a flame graph has one side, a diff two (left, right)
// over the same tree shape.
struct Side {
  std::vector<int64_t> self;   // by node
  std::vector<int64_t> total;  // by node
};

struct Levels {
  std::vector<std::string_view> names;
  std::vector<std::vector<int64_t>> levels;
  int64_t max_self = 0;
};

// Renders `shape` with one tuple of (x, total, self) per side and a name index per node, the
// layout both FlameGraph and FlameGraphDiff use. A child is kept when its largest total over the
// sides reaches `min_total` (and it is not itself named "other"); the rest fold into one "other"
// child per parent.
Levels RenderLevels(const FunctionTree& shape, const std::vector<Side>& sides, int64_t min_total) {
  const ChildIndex children(shape);
  const size_t k = sides.size();
  const size_t width = 3 * k + 1;
  constexpr uint32_t kSynthetic = UINT32_MAX;  // "other" nodes have no tree node
  struct Item {
    uint32_t node;
    uint32_t level;
    std::string_view name;
    std::array<int64_t, 2> x, total, self;
  };
  Item root{FunctionTree::kRoot, 0, "total", {}, {}, {}};
  for (size_t i = 0; i < k; ++i) {
    // The rendered total is what lies under the root; a sample with an empty stack has no
    // frame to show, as upstream.
    root.total[i] = sides[i].total[FunctionTree::kRoot] - sides[i].self[FunctionTree::kRoot];
  }
  std::vector<Item> stack{root};
  Levels out;
  absl::flat_hash_map<std::string_view, int64_t> name_index;
  while (!stack.empty()) {
    Item it = stack.back();
    stack.pop_back();
    auto [pos, inserted] = name_index.try_emplace(it.name, static_cast<int64_t>(out.names.size()));
    if (inserted) out.names.push_back(it.name);
    if (it.level == out.levels.size()) out.levels.emplace_back();
    std::vector<int64_t>& level = out.levels[it.level];
    for (size_t i = 0; i < k; ++i) {
      out.max_self = std::max(out.max_self, it.self[i]);
      level.insert(level.end(), {it.x[i], it.total[i], it.self[i]});
    }
    level.push_back(pos->second);
    if (it.node == kSynthetic) continue;  // "other" is a leaf

    // Self sits at the left of the node; kept children follow by name, "other" last.
    std::array<int64_t, 2> x{}, other{};
    bool any_other = false;
    for (size_t i = 0; i < k; ++i) x[i] = it.x[i] + it.self[i];
    for (uint32_t c : children.Of(it.node)) {
      std::string_view name = shape.name(c);
      int64_t largest = 0;
      for (size_t i = 0; i < k; ++i) largest = std::max(largest, sides[i].total[c]);
      if (largest >= min_total && name != kOtherNodeName) {
        Item child{c, it.level + 1, name, x, {}, {}};
        for (size_t i = 0; i < k; ++i) {
          child.total[i] = sides[i].total[c];
          child.self[i] = sides[i].self[c];
          x[i] += sides[i].total[c];
        }
        stack.push_back(child);
      } else {
        any_other = true;
        for (size_t i = 0; i < k; ++i) other[i] += sides[i].total[c];
      }
    }
    if (any_other) stack.push_back({kSynthetic, it.level + 1, kOtherNodeName, x, other, other});
  }
  for (std::vector<int64_t>& level : out.levels) {
    // Nodes were visited right to left: reverse the tuples, then delta-encode each side's x
    // relative to the end (x + total) of the previous node of the level.
    const size_t count = level.size() / width;
    for (size_t i = 0; i < count / 2; ++i) {
      std::swap_ranges(level.begin() + width * i, level.begin() + width * (i + 1),
                       level.begin() + width * (count - 1 - i));
    }
    std::array<int64_t, 2> end{};
    for (size_t n = 0; n < count; ++n) {
      for (size_t i = 0; i < k; ++i) {
        int64_t* t = &level[width * n + 3 * i];
        const int64_t x = t[0];
        t[0] = x - end[i];
        end[i] = x + t[1];
      }
    }
  }
  return out;
}

template <class Graph>
void Fill(Levels&& levels, Graph* out) {
  for (std::string_view n : levels.names) out->add_names(std::string(n));
  for (std::vector<int64_t>& level : levels.levels) {
    auto* values = out->add_levels()->mutable_values();
    values->Add(level.begin(), level.end());
  }
  out->set_max_self(levels.max_self);
}

Side SideOf(const FunctionTree& tree) {
  Side side;
  side.total = tree.Totals();
  side.self.resize(tree.size());
  for (uint32_t n = 0; n < tree.size(); ++n) side.self[n] = tree.self(n);
  return side;
}

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
  std::vector<Side> sides{SideOf(tree)};
  const int64_t min_total = MinNodeTotal(tree, sides[0].total, max_nodes);
  querier::v1::FlameGraph fg;
  fg.set_total(sides[0].total[FunctionTree::kRoot] - sides[0].self[FunctionTree::kRoot]);
  Fill(RenderLevels(tree, sides, min_total), &fg);
  return fg;
}

querier::v1::FlameGraphDiff BuildFlameGraphDiff(const FunctionTree& left, const FunctionTree& right,
                                                int64_t max_nodes) {
  // Align both trees on one shape holding every path of either.
  FunctionTree shape;
  const std::vector<uint32_t> left_nodes = shape.MergeShape(left);
  const std::vector<uint32_t> right_nodes = shape.MergeShape(right);
  std::vector<Side> sides(2);
  for (Side& side : sides) side.self.assign(shape.size(), 0);
  for (uint32_t n = 0; n < left.size(); ++n) sides[0].self[left_nodes[n]] += left.self(n);
  for (uint32_t n = 0; n < right.size(); ++n) sides[1].self[right_nodes[n]] += right.self(n);
  for (Side& side : sides) {
    side.total = side.self;
    for (uint32_t n = static_cast<uint32_t>(shape.size()); n-- > 1;) {
      side.total[shape.parent(n)] += side.total[n];
    }
  }
  // Truncation keeps the nodes that are large on either side.
  std::vector<int64_t> largest(shape.size());
  for (size_t n = 0; n < shape.size(); ++n) {
    largest[n] = std::max(sides[0].total[n], sides[1].total[n]);
  }
  const int64_t min_total = MinNodeTotal(shape, largest, max_nodes);
  querier::v1::FlameGraphDiff fg;
  const int64_t left_ticks = sides[0].total[0] - sides[0].self[0];
  const int64_t right_ticks = sides[1].total[0] - sides[1].self[0];
  fg.set_leftticks(left_ticks);
  fg.set_rightticks(right_ticks);
  fg.set_total(left_ticks + right_ticks);
  Fill(RenderLevels(shape, sides, min_total), &fg);
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
