// PlacementRulesTable: the distributor's lookup of the placement rules the metastore leader
// computes (adaptive placement, metastore/placement/adaptive_placement.h): how many shards a
// service is spread over. Built once from the replicated PlacementRules and then only read, on
// every series of every push, so it is immutable (share it with a shared_ptr and swap in a new
// one when the rules change) and a lookup neither locks nor allocates.
#ifndef EMBERS_DISTRIBUTOR_PLACEMENT_RULES_TABLE_H_
#define EMBERS_DISTRIBUTOR_PLACEMENT_RULES_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "metastore/v1/membership.pb.h"

namespace embers::distributor {

class PlacementRulesTable {
 public:
  // No rules: every service gets `default_dataset_shards`.
  explicit PlacementRulesTable(uint32_t default_dataset_shards = 1);
  // The rules' default applies to the services they do not list (1 when it is unset). A listed
  // count of 0 reads as 1; when a service is listed twice the first entry wins.
  explicit PlacementRulesTable(const ::metastore::v1::PlacementRules& rules);

  // Shards for a tenant's service (Placement::Shard's `dataset_shards`).
  uint32_t DatasetShards(std::string_view tenant, std::string_view service) const;

  uint32_t default_dataset_shards() const { return default_; }
  // Services with a rule.
  size_t size() const { return size_; }
  // When the leader computed the rules (0 without rules).
  int64_t created_at_ms() const { return created_at_ms_; }

 private:
  uint32_t default_;
  size_t size_ = 0;
  int64_t created_at_ms_ = 0;
  // Tenant, then service: both levels are found from string_views without building a key.
  absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, uint32_t>> rules_;
};

}  // namespace embers::distributor

#endif  // EMBERS_DISTRIBUTOR_PLACEMENT_RULES_TABLE_H_
