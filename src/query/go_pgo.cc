#include "query/go_pgo.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace embers::query {
namespace {

// A location's content, for finding an equal one among the leaf variants.
using LocationKey = std::tuple<uint64_t, uint64_t, bool, std::vector<std::pair<uint64_t, int64_t>>>;

LocationKey KeyOf(const google::v1::Location& l) {
  std::vector<std::pair<uint64_t, int64_t>> lines;
  lines.reserve(static_cast<size_t>(l.line_size()));
  for (const google::v1::Line& line : l.line()) lines.emplace_back(line.function_id(), line.line());
  return {l.mapping_id(), l.address(), l.is_folded(), std::move(lines)};
}

}  // namespace

void ApplyGoPgo(const types::v1::GoPGO& pgo, google::v1::Profile* profile) {
  // Location ids → index (ids are 1..N from MergedProfile::ToPprof, but do not rely on it).
  std::unordered_map<uint64_t, int> location_index;
  for (int i = 0; i < profile->location_size(); ++i) location_index[profile->location(i).id()] = i;
  uint64_t next_location_id = 0;
  for (const google::v1::Location& l : profile->location()) {
    next_location_id = std::max(next_location_id, l.id());
  }

  // The leaf variant (leaf line cleared) of each location, shared by equal contents.
  std::unordered_map<uint64_t, uint64_t> variant_of;
  std::map<LocationKey, uint64_t> by_content;
  for (const google::v1::Location& l : profile->location()) by_content.emplace(KeyOf(l), l.id());
  auto leaf_variant = [&](uint64_t id) -> uint64_t {
    if (auto it = variant_of.find(id); it != variant_of.end()) return it->second;
    auto at = location_index.find(id);
    uint64_t result = id;
    if (at != location_index.end() && profile->location(at->second).line_size() > 0 &&
        profile->location(at->second).line(0).line() != 0) {
      google::v1::Location variant = profile->location(at->second);
      variant.mutable_line(0)->set_line(0);
      auto [found, added] = by_content.emplace(KeyOf(variant), next_location_id + 1);
      if (added) {
        variant.set_id(++next_location_id);
        location_index[variant.id()] = profile->location_size();
        *profile->add_location() = std::move(variant);
      }
      result = found->second;
    }
    variant_of[id] = result;
    return result;
  };

  // Cut, re-point the leaf, and merge equal stacks in first-seen order.
  std::map<std::vector<uint64_t>, int> merged;
  google::protobuf::RepeatedPtrField<google::v1::Sample> samples;
  for (google::v1::Sample& s : *profile->mutable_sample()) {
    std::vector<uint64_t> stack(s.location_id().begin(), s.location_id().end());
    if (pgo.keep_locations() > 0 && stack.size() > pgo.keep_locations()) {
      stack.resize(pgo.keep_locations());  // location_id[0] is the leaf
    }
    if (pgo.aggregate_callees() && !stack.empty()) stack[0] = leaf_variant(stack[0]);
    auto [it, added] = merged.emplace(stack, samples.size());
    if (added) {
      google::v1::Sample* out = samples.Add();
      out->mutable_location_id()->Assign(stack.begin(), stack.end());
      *out->mutable_value() = s.value();
      *out->mutable_label() = s.label();
      continue;
    }
    google::v1::Sample* into = samples.Mutable(it->second);
    for (int v = 0; v < into->value_size() && v < s.value_size(); ++v) {
      into->set_value(v, into->value(v) + s.value(v));
    }
  }
  *profile->mutable_sample() = std::move(samples);

  // Drop what no sample references, renumbering ids 1..N.
  std::unordered_map<uint64_t, uint64_t> new_location_id, new_function_id, new_mapping_id;
  for (google::v1::Sample& s : *profile->mutable_sample()) {
    for (uint64_t& id : *s.mutable_location_id()) {
      auto [it, added] = new_location_id.emplace(id, new_location_id.size() + 1);
      id = it->second;
    }
  }
  google::protobuf::RepeatedPtrField<google::v1::Location> locations;
  locations.Reserve(static_cast<int>(new_location_id.size()));
  for (size_t i = 0; i < new_location_id.size(); ++i) locations.Add();
  for (google::v1::Location& l : *profile->mutable_location()) {
    auto it = new_location_id.find(l.id());
    if (it == new_location_id.end()) continue;
    l.set_id(it->second);
    for (google::v1::Line& line : *l.mutable_line()) {
      auto [f, added] = new_function_id.emplace(line.function_id(), new_function_id.size() + 1);
      line.set_function_id(f->second);
    }
    if (l.mapping_id() != 0) {
      auto [m, added] = new_mapping_id.emplace(l.mapping_id(), new_mapping_id.size() + 1);
      l.set_mapping_id(m->second);
    }
    locations[static_cast<int>(it->second - 1)] = std::move(l);
  }
  *profile->mutable_location() = std::move(locations);
  auto keep = [](auto* items, const std::unordered_map<uint64_t, uint64_t>& renumbered) {
    std::remove_reference_t<decltype(*items)> kept;
    for (size_t i = 0; i < renumbered.size(); ++i) kept.Add();
    for (auto& item : *items) {
      auto it = renumbered.find(item.id());
      if (it == renumbered.end()) continue;
      item.set_id(it->second);
      kept[static_cast<int>(it->second - 1)] = std::move(item);
    }
    *items = std::move(kept);
  };
  keep(profile->mutable_function(), new_function_id);
  keep(profile->mutable_mapping(), new_mapping_id);
}

}  // namespace embers::query
