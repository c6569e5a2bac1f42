#include "query/flame_graph.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace embers::query {
namespace {

void Insert(FunctionTree& t, std::vector<std::string_view> root_first, int64_t v) {
  t.InsertStack(root_first, v);
}

std::vector<std::vector<int64_t>> Levels(const querier::v1::FlameGraph& fg) {
  std::vector<std::vector<int64_t>> out;
  for (const auto& l : fg.levels()) out.emplace_back(l.values().begin(), l.values().end());
  return out;
}

// Decodes a flame graph back into "root;...;leaf" → {total, self}, checking the layout: offsets
// are inside the parent and totals equal self plus children.
struct NodeValue {
  int64_t total = 0;
  int64_t self = 0;
  friend bool operator==(const NodeValue&, const NodeValue&) = default;
};
std::map<std::string, NodeValue> Decode(const querier::v1::FlameGraph& fg) {
  struct Node {
    int64_t x, total, self;
    std::string path;
  };
  std::vector<std::vector<Node>> levels;
  for (const auto& l : fg.levels()) {
    std::vector<Node> nodes;
    int64_t end = 0;
    EXPECT_EQ(l.values_size() % 4, 0);
    for (int i = 0; i + 3 < l.values_size(); i += 4) {
      Node n{end + l.values(i), l.values(i + 1), l.values(i + 2),
             fg.names(static_cast<int>(l.values(i + 3)))};
      end = n.x + n.total;
      nodes.push_back(n);
    }
    levels.push_back(std::move(nodes));
  }
  std::map<std::string, NodeValue> out;
  for (size_t d = 1; d < levels.size(); ++d) {
    for (Node& n : levels[d]) {
      // The parent is the node of the level above whose span contains this one.
      const Node* parent = nullptr;
      for (const Node& p : levels[d - 1]) {
        if (p.x <= n.x && n.x + n.total <= p.x + p.total) parent = &p;
      }
      EXPECT_NE(parent, nullptr) << n.path;
      if (parent == nullptr) continue;
      if (d > 1) n.path = parent->path + ";" + n.path;
      NodeValue& v = out[n.path];
      v.total += n.total;
      v.self += n.self;
    }
  }
  // total = self + children totals for every node.
  std::map<std::string, int64_t> child_sum;
  for (const auto& [path, v] : out) {
    size_t cut = path.rfind(';');
    if (cut != std::string::npos) child_sum[path.substr(0, cut)] += v.total;
  }
  for (const auto& [path, v] : out) EXPECT_EQ(v.total, v.self + child_sum[path]) << path;
  return out;
}

// The exact encoding of upstream's Test_ExportToFlamebearer.
TEST(FlameGraph, MatchesPyroscopeEncoding) {
  FunctionTree t;
  Insert(t, {"a", "b", "e"}, 1);
  Insert(t, {"a", "c"}, 2);
  Insert(t, {"a", "c", "d"}, 1);
  querier::v1::FlameGraph fg = BuildFlameGraph(t, -1);
  EXPECT_EQ(std::vector<std::string>(fg.names().begin(), fg.names().end()),
            (std::vector<std::string>{"total", "a", "c", "d", "b", "e"}));
  EXPECT_EQ(Levels(fg), (std::vector<std::vector<int64_t>>{
                            {0, 4, 0, 0},
                            {0, 4, 0, 1},
                            {0, 1, 0, 4, 0, 3, 2, 2},
                            {0, 1, 1, 5, 2, 1, 1, 3},
                        }));
  EXPECT_EQ(fg.total(), 4);
  EXPECT_EQ(fg.max_self(), 2);
}

TEST(FlameGraph, EmptyTreeHasOnlyTheRoot) {
  FunctionTree t;
  querier::v1::FlameGraph fg = BuildFlameGraph(t, 8192);
  ASSERT_EQ(fg.names_size(), 1);
  EXPECT_EQ(fg.names(0), "total");
  EXPECT_EQ(Levels(fg), (std::vector<std::vector<int64_t>>{{0, 0, 0, 0}}));
  EXPECT_EQ(fg.total(), 0);
}

TEST(FlameGraph, TruncationKeepsLargestNodesAndPreservesTotals) {
  FunctionTree t;
  // main → big (100), mid (50), and 20 small functions (1 each) with a child each.
  Insert(t, {"main", "big"}, 100);
  Insert(t, {"main", "mid", "leaf"}, 50);
  std::vector<std::string> small;
  for (int i = 0; i < 20; ++i) small.push_back("small" + std::to_string(i));
  for (const std::string& s : small) Insert(t, {"main", s, "x"}, 1);
  const int64_t total = 170;

  querier::v1::FlameGraph full = BuildFlameGraph(t, 0);  // 0 = no cut
  EXPECT_EQ(Decode(full).size(), 1u + 1 + 2 + 40);

  querier::v1::FlameGraph fg = BuildFlameGraph(t, 4);
  EXPECT_EQ(fg.total(), total);
  std::map<std::string, NodeValue> nodes = Decode(fg);
  EXPECT_EQ(nodes["main"], (NodeValue{total, 0}));
  EXPECT_EQ(nodes["main;big"], (NodeValue{100, 100}));
  EXPECT_EQ(nodes["main;mid"], (NodeValue{50, 0}));
  EXPECT_EQ(nodes["main;mid;leaf"], (NodeValue{50, 50}));
  EXPECT_EQ(nodes["main;other"], (NodeValue{20, 20}));
  EXPECT_EQ(nodes.size(), 5u);
  // Level 1 sums to the total.
  int64_t level1 = 0;
  for (int i = 0; i < fg.levels(1).values_size(); i += 4) level1 += fg.levels(1).values(i + 1);
  EXPECT_EQ(level1, total);
  EXPECT_EQ(fg.max_self(), 100);
}

TEST(FlameGraph, ExistingOtherNodesAreFoldedIntoTheOtherNode) {
  FunctionTree t;
  Insert(t, {"a", "other"}, 5);
  Insert(t, {"a", "b"}, 1);
  Insert(t, {"a", "c"}, 7);
  Insert(t, {"d"}, 1);
  querier::v1::FlameGraph fg = BuildFlameGraph(t, 3);
  std::map<std::string, NodeValue> nodes = Decode(fg);
  EXPECT_EQ(nodes["a;c"], (NodeValue{7, 7}));
  EXPECT_EQ(nodes["a;other"], (NodeValue{6, 6}));  // "other" (5) and b (1)
  EXPECT_EQ(nodes["other"], (NodeValue{1, 1}));    // d
  EXPECT_EQ(fg.total(), 14);
}

TEST(FunctionTree, MergeAddsByNamePath) {
  FunctionTree a, b;
  Insert(a, {"x", "y"}, 1);
  Insert(b, {"z"}, 2);
  Insert(b, {"x", "y"}, 3);
  Insert(b, {"x"}, 4);
  a.Merge(b);
  std::map<std::string, NodeValue> nodes = Decode(BuildFlameGraph(a, 0));
  EXPECT_EQ(nodes["x"], (NodeValue{8, 4}));
  EXPECT_EQ(nodes["x;y"], (NodeValue{4, 4}));
  EXPECT_EQ(nodes["z"], (NodeValue{2, 2}));
  EXPECT_EQ(a.Total(), 10);
}

TEST(FlameGraph, UnitsFollowTheSampleType) {
  EXPECT_EQ(UnitsForSampleType("cpu", "nanoseconds").units, "samples");
  EXPECT_EQ(UnitsForSampleType("alloc_objects", "count").units, "objects");
  EXPECT_EQ(UnitsForSampleType("inuse_space", "bytes").units, "bytes");
  EXPECT_EQ(UnitsForSampleType("inuse_space", "bytes").sample_rate, 100);
}

}  // namespace
}  // namespace embers::query
