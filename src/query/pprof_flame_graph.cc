#include "query/pprof_flame_graph.h"

#include <cstdio>

#include "base/status.h"
#include "query/flame_graph.h"
#include "query/function_tree.h"

namespace embers::query {

absl::StatusOr<PprofFunctionTree> BuildPprofFunctionTree(const pprof::Profile& profile,
                                                         std::string_view name,
                                                         std::string_view sample_type) {
  if (profile.sample_types.empty()) {
    return absl::InvalidArgumentError("the profile has no sample types");
  }
  PprofFunctionTree out;
  size_t chosen = 0;
  for (size_t i = 0; i < profile.sample_types.size(); ++i) {
    out.sample_types.emplace_back(profile.String(profile.sample_types[i].type));
  }
  for (size_t i = 0; i < out.sample_types.size(); ++i) {
    if (!sample_type.empty() && out.sample_types[i] == sample_type) {
      chosen = i;
      break;
    }
  }
  out.type.name = std::string(name);
  out.type.sample_type = out.sample_types[chosen];
  out.type.sample_unit = std::string(profile.String(profile.sample_types[chosen].unit));
  if (profile.has_period_type) {
    out.type.period_type = std::string(profile.String(profile.period_type.type));
    out.type.period_unit = std::string(profile.String(profile.period_type.unit));
  }

  // Frame names, interned once per location (root-first insertion walks them backwards).
  FunctionTree& tree = out.tree;
  std::vector<std::vector<uint32_t>> location_frames(profile.locations.size());
  for (size_t i = 0; i < profile.locations.size(); ++i) {
    const pprof::Location& l = profile.locations[i];
    std::vector<uint32_t>& frames = location_frames[i];  // innermost first
    for (const pprof::Line& line : profile.LocationLines(l)) {
      int64_t f = profile.FunctionIndex(line.function_id);
      frames.push_back(tree.InternName(f < 0 ? std::string_view("")
                                             : profile.String(profile.functions[f].name)));
    }
    if (frames.empty()) {
      char hex[24];
      std::snprintf(hex, sizeof(hex), "%llx", static_cast<unsigned long long>(l.address));
      frames.push_back(tree.InternName(hex));
    }
  }
  for (const pprof::Sample& s : profile.samples) {
    std::span<const int64_t> values = profile.SampleValues(s);
    if (chosen >= values.size() || values[chosen] == 0) continue;
    std::span<const uint64_t> stack = profile.SampleLocations(s);  // leaf first
    uint32_t node = FunctionTree::kRoot;
    for (size_t k = stack.size(); k-- > 0;) {
      int64_t loc = profile.LocationIndex(stack[k]);
      if (loc < 0) continue;  // the decoder validated references; defensive only
      const std::vector<uint32_t>& frames = location_frames[static_cast<size_t>(loc)];
      for (size_t f = frames.size(); f-- > 0;) node = tree.Child(node, frames[f]);
    }
    tree.AddSelf(node, values[chosen]);
  }
  return out;
}

absl::StatusOr<PprofFlameGraph> BuildPprofFlameGraph(const pprof::Profile& profile,
                                                     std::string_view name,
                                                     std::string_view sample_type,
                                                     int64_t max_nodes) {
  EMBERS_ASSIGN_OR_RETURN(PprofFunctionTree tree,
                          BuildPprofFunctionTree(profile, name, sample_type));
  PprofFlameGraph out;
  out.flame_graph = BuildFlameGraph(tree.tree, max_nodes);
  out.type = std::move(tree.type);
  out.sample_types = std::move(tree.sample_types);
  return out;
}

}  // namespace embers::query
