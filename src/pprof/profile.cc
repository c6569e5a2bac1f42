#include "pprof/profile.h"

namespace embers::pprof {

namespace {

// Fills `map` (and `dense`) for one element kind. False on a zero or repeated id.
template <class T>
bool BuildIndex(const std::vector<T>& items, bool* dense,
                absl::flat_hash_map<uint64_t, uint32_t>* map) {
  map->clear();
  *dense = true;
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].id != i + 1) {
      *dense = false;
      break;
    }
  }
  if (*dense) return true;
  map->reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].id == 0) return false;
    if (!map->emplace(items[i].id, static_cast<uint32_t>(i)).second) return false;
  }
  return true;
}

}  // namespace

bool Profile::RebuildIndexes() {
  bool ok = BuildIndex(locations, &dense_location_ids, &location_index_by_id);
  ok = BuildIndex(functions, &dense_function_ids, &function_index_by_id) && ok;
  ok = BuildIndex(mappings, &dense_mapping_ids, &mapping_index_by_id) && ok;
  return ok;
}

int64_t Profile::AddString(std::string_view s) {
  auto owned = std::make_shared<const std::string>(s);
  strings.emplace_back(*owned);
  backing.push_back(std::move(owned));
  return static_cast<int64_t>(strings.size() - 1);
}

int64_t Profile::Total(size_t type_index) const {
  int64_t total = 0;
  for (const Sample& s : samples) {
    if (type_index < s.value_count) total += values[s.value_begin + type_index];
  }
  return total;
}

}  // namespace embers::pprof
