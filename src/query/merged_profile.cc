#include "query/merged_profile.h"

#include <algorithm>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "base/strings.h"

namespace embers::query {

void MergedProfile::Add(block::SymbolsMerger& merger, uint32_t node, int64_t value) {
  if (value == 0) return;
  const uint32_t to = merger.Node(node);
  if (to >= self_.size()) self_.resize(std::max<size_t>(to + 1, self_.size() * 2), 0);
  if (self_[to] == 0) ++nonzero_;
  self_[to] += value;
  if (self_[to] == 0) --nonzero_;
}

void MergedProfile::Merge(const MergedProfile& other) {
  if (other.empty()) return;
  const block::Symbols view = other.symbols_->View();
  block::SymbolsMerger merger(view, symbols_.get());
  for (uint32_t n = 0; n < other.self_.size(); ++n) {
    if (other.self_[n] != 0) Add(merger, n, other.self_[n]);
  }
}

int64_t MergedProfile::Total() const {
  int64_t total = 0;
  for (int64_t v : self_) total += v;
  return total;
}

size_t MergedProfile::MemoryBytes() const {
  return symbols_->MemoryBytes() + self_.capacity() * sizeof(int64_t);
}

google::v1::Profile MergedProfile::ToPprof(const model::ProfileType& type, int64_t start_ms,
                                           int64_t end_ms, int64_t max_nodes) const {
  const block::Symbols s = symbols_->View();
  const size_t nodes = s.node_parent.size();
  google::v1::Profile out;

  // String table: the builder's (index 0 is ""), then the few this rendering adds.
  for (std::string_view str : s.strings) out.add_string_table(std::string(str));
  absl::flat_hash_map<std::string, int64_t> extra;
  auto string_index = [&out, &extra](std::string_view str) -> int64_t {
    auto [it, inserted] = extra.try_emplace(ToAbsl(str), out.string_table_size());
    if (inserted) out.add_string_table(std::string(str));
    return it->second;
  };
  google::v1::ValueType* st = out.add_sample_type();
  st->set_type(string_index(type.sample_type));
  st->set_unit(string_index(type.sample_unit));
  if (!type.period_type.empty() || !type.period_unit.empty()) {
    out.mutable_period_type()->set_type(string_index(type.period_type));
    out.mutable_period_type()->set_unit(string_index(type.period_unit));
  }
  out.set_time_nanos(start_ms * 1'000'000);
  out.set_duration_nanos((end_ms - start_ms) * 1'000'000);

  for (size_t i = 0; i < s.mappings.size(); ++i) {
    const block::SymbolMapping& m = s.mappings[i];
    google::v1::Mapping* pm = out.add_mapping();
    pm->set_id(i + 1);
    pm->set_memory_start(m.memory_start);
    pm->set_memory_limit(m.memory_limit);
    pm->set_file_offset(m.file_offset);
    pm->set_filename(m.filename);
    pm->set_build_id(m.build_id);
    pm->set_has_functions(m.flags & 1);
    pm->set_has_filenames(m.flags & 2);
    pm->set_has_line_numbers(m.flags & 4);
    pm->set_has_inline_frames(m.flags & 8);
  }
  for (size_t i = 0; i < s.functions.size(); ++i) {
    const block::SymbolFunction& f = s.functions[i];
    google::v1::Function* pf = out.add_function();
    pf->set_id(i + 1);
    pf->set_name(f.name);
    pf->set_system_name(f.system_name);
    pf->set_filename(f.filename);
    pf->set_start_line(f.start_line);
  }
  for (size_t i = 0; i < s.locations.size(); ++i) {
    const block::SymbolLocation& l = s.locations[i];
    google::v1::Location* pl = out.add_location();
    pl->set_id(i + 1);
    pl->set_mapping_id(l.mapping >= 0 ? static_cast<uint64_t>(l.mapping) + 1 : 0);
    pl->set_address(l.address);
    for (const block::SymbolLine& line : s.LocationLines(l)) {
      google::v1::Line* pline = pl->add_line();
      pline->set_function_id(line.function + 1);
      pline->set_line(line.line);
    }
  }

  // Truncation: a node is kept when its total reaches the max_nodes-th largest total.
  std::vector<int64_t> total(nodes, 0);
  for (size_t n = 0; n < nodes && n < self_.size(); ++n) total[n] = self_[n];
  for (size_t n = nodes; n-- > 1;) total[s.node_parent[n]] += total[n];
  int64_t min_total = 0;
  if (max_nodes > 0 && nodes > static_cast<size_t>(max_nodes) + 1) {
    std::vector<int64_t> sorted(total.begin() + 1, total.end());
    std::nth_element(sorted.begin(), sorted.begin() + (max_nodes - 1), sorted.end(),
                     std::greater<>());
    min_total = sorted[static_cast<size_t>(max_nodes - 1)];
  }
  // kept[n]: the deepest kept node on the path to n (n itself when every node of it is kept).
  std::vector<uint32_t> kept(nodes, 0);
  for (size_t n = 1; n < nodes; ++n) {
    const uint32_t p = s.node_parent[n];
    kept[n] = (kept[p] == p && total[n] >= min_total) ? static_cast<uint32_t>(n) : kept[p];
  }
  // Value per (kept node, cut?) — a cut stack ends in one synthetic "other" location.
  absl::flat_hash_map<uint64_t, int64_t> values;
  std::vector<uint64_t> order;
  // Node 0 (the root) holds samples with an empty stack: kept as samples without locations.
  for (size_t n = 0; n < nodes && n < self_.size(); ++n) {
    if (self_[n] == 0) continue;
    const uint64_t key = (static_cast<uint64_t>(kept[n]) << 1) | (kept[n] != n ? 1 : 0);
    auto [it, inserted] = values.try_emplace(key, 0);
    if (inserted) order.push_back(key);
    it->second += self_[n];
  }
  uint64_t other_location = 0;
  for (uint64_t key : order) {
    const int64_t value = values[key];
    if (value == 0) continue;
    google::v1::Sample* sample = out.add_sample();
    if (key & 1) {
      if (other_location == 0) {
        google::v1::Function* f = out.add_function();
        f->set_id(static_cast<uint64_t>(out.function_size()));
        f->set_name(string_index("other"));
        google::v1::Location* l = out.add_location();
        l->set_id(static_cast<uint64_t>(out.location_size()));
        l->add_line()->set_function_id(f->id());
        other_location = l->id();
      }
      sample->add_location_id(other_location);
    }
    for (uint32_t n = static_cast<uint32_t>(key >> 1); n != 0; n = s.node_parent[n]) {
      sample->add_location_id(static_cast<uint64_t>(s.node_location[n]) + 1);
    }
    sample->add_value(value);
  }
  return out;
}

}  // namespace embers::query
