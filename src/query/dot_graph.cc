#include "query/dot_graph.h"

#include <algorithm>
#include <map>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "base/strings.h"

namespace embers::query {
namespace {

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string Percent(int64_t v, int64_t total) {
  if (total == 0) return "0%";
  return absl::StrFormat("%.2f%%", 100.0 * static_cast<double>(v) / static_cast<double>(total));
}

}  // namespace

std::string RenderDot(const FunctionTree& tree, const model::ProfileType& type, int64_t max_nodes) {
  if (max_nodes <= 0) max_nodes = kDefaultDotNodes;
  const std::vector<int64_t> totals = tree.Totals();
  const ChildIndex children(tree);
  const int64_t total = totals[FunctionTree::kRoot] - tree.self(FunctionTree::kRoot);

  // Per function (by name id): flat and cum; per (caller, callee): weight. A function or edge
  // that recurs on one path counts once for that path, as pprof counts it once per sample.
  absl::flat_hash_map<uint32_t, int64_t> flat, cum;
  absl::flat_hash_map<uint64_t, int64_t> edges;
  absl::flat_hash_map<uint32_t, int> on_path;
  absl::flat_hash_map<uint64_t, int> edge_on_path;
  struct Frame {
    uint32_t node;
    bool exit;
  };
  std::vector<Frame> stack;
  for (uint32_t c : children.Of(FunctionTree::kRoot)) stack.push_back({c, false});
  while (!stack.empty()) {
    const Frame f = stack.back();
    stack.pop_back();
    const uint32_t name = tree.name_id(f.node);
    const uint32_t parent = tree.parent(f.node);
    const uint64_t edge = parent == FunctionTree::kRoot
                              ? UINT64_MAX
                              : (static_cast<uint64_t>(tree.name_id(parent)) << 32) | name;
    if (f.exit) {
      --on_path[name];
      if (edge != UINT64_MAX) --edge_on_path[edge];
      continue;
    }
    flat[name] += tree.self(f.node);
    if (on_path[name]++ == 0) cum[name] += totals[f.node];
    if (edge != UINT64_MAX && edge_on_path[edge]++ == 0) edges[edge] += totals[f.node];
    stack.push_back({f.node, true});
    for (uint32_t c : children.Of(f.node)) stack.push_back({c, false});
  }

  std::vector<std::pair<int64_t, uint32_t>> by_cum;
  for (const auto& [name, value] : cum) by_cum.emplace_back(value, name);
  std::sort(by_cum.begin(), by_cum.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first > b.first;
    return a.second < b.second;
  });
  if (static_cast<int64_t>(by_cum.size()) > max_nodes) by_cum.resize(max_nodes);
  std::map<uint32_t, size_t> id;  // name id → node number
  for (size_t i = 0; i < by_cum.size(); ++i) id[by_cum[i].second] = i + 1;

  const std::string unit = type.sample_unit;
  std::string out = "digraph \"unnamed\" {\nnode [style=filled fillcolor=\"#f8f8f8\"]\n";
  out += StrCat("subgraph cluster_L { \"Type: ", Escape(type.sample_type),
                "\" [shape=box fontsize=16 label=\"Type: ", Escape(type.sample_type),
                "\\lShowing nodes accounting for ", total, " ", Escape(unit), ", ", by_cum.size(),
                " of ", cum.size(), " functions\\l\"] }\n");
  for (size_t i = 0; i < by_cum.size(); ++i) {
    const uint32_t name = by_cum[i].second;
    const int64_t f = flat[name], c = by_cum[i].first;
    out += StrCat("N", i + 1, " [label=\"", Escape(tree.NameOf(name)), "\\n", f, " ", Escape(unit),
                  " (", Percent(f, total), ")\\nof ", c, " ", Escape(unit), " (", Percent(c, total),
                  ")\" id=\"node", i + 1,
                  "\" shape=box fontsize=", 8 + static_cast<int>(total > 0 ? 16 * f / total : 0),
                  " tooltip=\"", Escape(tree.NameOf(name)), " (", c, " ", Escape(unit), ")\"]\n");
  }
  std::vector<std::pair<uint64_t, int64_t>> drawn;
  for (const auto& [edge, weight] : edges) {
    if (id.count(static_cast<uint32_t>(edge >> 32)) && id.count(static_cast<uint32_t>(edge))) {
      drawn.emplace_back(edge, weight);
    }
  }
  std::sort(drawn.begin(), drawn.end());
  for (const auto& [edge, weight] : drawn) {
    out +=
        StrCat("N", id[static_cast<uint32_t>(edge >> 32)], " -> N", id[static_cast<uint32_t>(edge)],
               " [label=\" ", weight, "\" weight=", total > 0 ? 1 + 99 * weight / total : 1,
               " penwidth=", total > 0 ? 1 + 4 * weight / total : 1, "]\n");
  }
  out += "}\n";
  return out;
}

}  // namespace embers::query
