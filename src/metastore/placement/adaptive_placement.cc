#include "metastore/placement/adaptive_placement.h"

#include <algorithm>

#include "nlohmann/json.hpp"

namespace embers::metastore {
namespace {

// What the status page lists of each kind.
constexpr size_t kStatusTop = 100;

ShardAllocatorOptions AllocatorOptions(const AdaptivePlacementOptions& o) {
  return {.unit_size_bytes = o.unit_size_bytes,
          .min_shards = o.min_dataset_shards,
          .max_shards = o.max_dataset_shards,
          .burst_window = o.burst_window,
          .decay_window = o.decay_window};
}

DatasetUsageOptions UsageOptions(const AdaptivePlacementOptions& o) {
  return {.stats_window = o.stats_window,
          .idle_timeout = o.dataset_idle_timeout,
          .max_datasets = o.max_datasets};
}

// The `n` largest of `v` by `usage`, largest first (ties in the order of `less`).
template <typename T, typename Usage, typename Less>
void KeepLargest(std::vector<T>* v, size_t n, Usage usage, Less less) {
  auto order = [&](const T& a, const T& b) {
    if (usage(a) != usage(b)) return usage(a) > usage(b);
    return less(a, b);
  };
  const size_t keep = std::min(n, v->size());
  std::partial_sort(v->begin(), v->begin() + static_cast<ptrdiff_t>(keep), v->end(), order);
  v->resize(keep);
}

}  // namespace

AdaptivePlacement::AdaptivePlacement(AdaptivePlacementOptions options)
    : options_(options),
      allocator_options_(AllocatorOptions(options)),
      usage_(UsageOptions(options)) {}

void AdaptivePlacement::RecordBlock(const v1::BlockMeta& block, int64_t now_ms) {
  usage_.RecordBlock(block, now_ms);
}

v1::PlacementRules AdaptivePlacement::BuildRules(int64_t now_ms) {
  DatasetUsage::Snapshot snapshot = usage_.Collect(now_ms);
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [key, a] : allocations_) {
    a.usage_bytes_per_second = 0;
    a.shard_rel_stddev = 0;
  }
  for (const DatasetUsage::DatasetRate& d : snapshot.datasets) {
    auto it = allocations_.find(DatasetRef(d.tenant, d.dataset));
    if (it == allocations_.end()) {
      if (allocations_.size() >= options_.max_datasets) continue;  // stays on the default
      it = allocations_.try_emplace(DatasetKey(d.tenant, d.dataset)).first;
    }
    Allocation& a = it->second;
    a.allocator.Observe(allocator_options_, d.bytes_per_second, now_ms);
    a.last_seen_ms = std::max(a.last_seen_ms, d.last_update_ms);
    a.usage_bytes_per_second = d.bytes_per_second;
    a.shard_rel_stddev = d.shard_rel_stddev;
  }
  const int64_t cutoff = now_ms - absl::ToInt64Milliseconds(options_.dataset_idle_timeout);
  absl::erase_if(allocations_, [cutoff](const auto& e) { return e.second.last_seen_ms < cutoff; });

  // The rules, and the status page's view.
  using Entry = std::pair<const DatasetKey, Allocation>;
  std::vector<const Entry*> listed, all;
  all.reserve(allocations_.size());
  for (const Entry& entry : allocations_) {
    all.push_back(&entry);
    if (entry.second.allocator.shards() != options_.default_dataset_shards) {
      listed.push_back(&entry);
    }
  }
  auto by_key = [](const Entry* a, const Entry* b) { return a->first < b->first; };
  std::sort(listed.begin(), listed.end(), by_key);
  v1::PlacementRules rules;
  rules.set_created_at_ms(now_ms);
  rules.set_default_dataset_shards(options_.default_dataset_shards);
  rules.mutable_datasets()->Reserve(static_cast<int>(listed.size()));
  for (const Entry* entry : listed) {
    v1::DatasetPlacement* p = rules.add_datasets();
    p->set_tenant_id(entry->first.first);
    p->set_dataset(entry->first.second);
    p->set_dataset_shards(entry->second.allocator.shards());
    p->set_usage_bytes_per_second(entry->second.usage_bytes_per_second);
  }

  KeepLargest(
      &all, kStatusTop, [](const Entry* e) { return e->second.usage_bytes_per_second; }, by_key);
  top_datasets_.clear();
  for (const Entry* e : all) {
    top_datasets_.push_back({e->first.first, e->first.second, e->second.usage_bytes_per_second,
                             e->second.allocator.shards(), e->second.shard_rel_stddev});
  }
  KeepLargest(
      &snapshot.shards, kStatusTop,
      [](const DatasetUsage::ShardRate& s) { return s.bytes_per_second; },
      [](const DatasetUsage::ShardRate& a, const DatasetUsage::ShardRate& b) {
        return a.shard < b.shard;
      });
  built_at_ms_ = now_ms;
  top_shards_ = std::move(snapshot.shards);
  return rules;
}

bool AdaptivePlacement::SameRules(const v1::PlacementRules& a, const v1::PlacementRules& b) {
  if (a.default_dataset_shards() != b.default_dataset_shards()) return false;
  if (a.datasets_size() != b.datasets_size()) return false;
  for (int i = 0; i < a.datasets_size(); ++i) {
    const v1::DatasetPlacement& x = a.datasets(i);
    const v1::DatasetPlacement& y = b.datasets(i);
    if (x.tenant_id() != y.tenant_id() || x.dataset() != y.dataset() ||
        x.dataset_shards() != y.dataset_shards()) {
      return false;
    }
  }
  return true;
}

void AdaptivePlacement::Seed(const v1::PlacementRules& published, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  allocations_.clear();
  for (const v1::DatasetPlacement& p : published.datasets()) {
    if (p.tenant_id().empty() || allocations_.size() >= options_.max_datasets) continue;
    Allocation& a = allocations_[DatasetKey(p.tenant_id(), p.dataset())];
    a.allocator.Seed(allocator_options_, p.dataset_shards(), now_ms);
    a.last_seen_ms = now_ms;
    a.usage_bytes_per_second = p.usage_bytes_per_second();
  }
}

std::string AdaptivePlacement::StatusJson() const {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json datasets = nlohmann::json::array();
  for (const DatasetStatus& d : top_datasets_) {
    datasets.push_back({{"tenant", d.tenant},
                        {"dataset", d.dataset},
                        {"usage_bytes_per_second", d.usage_bytes_per_second},
                        {"shards", d.shards},
                        {"shard_rel_stddev", d.shard_rel_stddev}});
  }
  nlohmann::json shards = nlohmann::json::array();
  for (const DatasetUsage::ShardRate& s : top_shards_) {
    shards.push_back({{"shard", s.shard}, {"usage_bytes_per_second", s.bytes_per_second}});
  }
  nlohmann::json out = {
      {"built_at_ms", built_at_ms_},
      {"default_dataset_shards", options_.default_dataset_shards},
      {"unit_size_bytes", options_.unit_size_bytes},
      {"tracked_datasets", allocations_.size()},
      {"ignored_samples", usage_.ignored_samples()},
      {"datasets", std::move(datasets)},
      {"shards", std::move(shards)},
  };
  // Replacement of invalid UTF-8: dataset names come from label values, which are checked, but
  // a status page must not fail on one.
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

size_t AdaptivePlacement::tracked_datasets() const {
  std::lock_guard<std::mutex> lock(mu_);
  return allocations_.size();
}

}  // namespace embers::metastore
