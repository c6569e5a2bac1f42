#include "distributor/placement_rules_table.h"

#include <algorithm>

#include "absl/strings/string_view.h"

namespace embers::distributor {

PlacementRulesTable::PlacementRulesTable(uint32_t default_dataset_shards)
    : default_(std::max<uint32_t>(1, default_dataset_shards)) {}

PlacementRulesTable::PlacementRulesTable(const ::metastore::v1::PlacementRules& rules)
    : PlacementRulesTable(rules.default_dataset_shards()) {
  created_at_ms_ = rules.created_at_ms();
  for (const ::metastore::v1::DatasetPlacement& d : rules.datasets()) {
    if (rules_[d.tenant_id()]
            .try_emplace(d.dataset(), std::max<uint32_t>(1, d.dataset_shards()))
            .second) {
      ++size_;
    }
  }
}

uint32_t PlacementRulesTable::DatasetShards(std::string_view tenant,
                                            std::string_view service) const {
  // absl::string_view is its own type in Debian's Abseil: the maps' heterogeneous lookup takes
  // it, not std::string_view.
  auto t = rules_.find(absl::string_view(tenant.data(), tenant.size()));
  if (t == rules_.end()) return default_;
  auto s = t->second.find(absl::string_view(service.data(), service.size()));
  return s == t->second.end() ? default_ : s->second;
}

}  // namespace embers::distributor
