#include "metastore/placement/dataset_usage.h"

#include <algorithm>
#include <cmath>

namespace embers::metastore {
namespace {

// A string of the block's table, or nullptr for a reference out of range (blocks are validated
// before they get here; this only keeps a bad one from reading past the table).
const std::string* StringRef(const v1::BlockMeta& block, int32_t ref) {
  if (ref < 0 || ref >= block.string_table_size()) return nullptr;
  return &block.string_table(ref);
}

// A full table is swept for idle datasets at most this often, so that a flood of new datasets
// cannot make every sample scan the table.
constexpr int64_t kFullTableSweepIntervalMs = 1000;

}  // namespace

DatasetUsage::DatasetUsage(DatasetUsageOptions options)
    : options_(options),
      half_life_ms_(std::max<int64_t>(1, absl::ToInt64Milliseconds(options.stats_window))),
      idle_ms_(absl::ToInt64Milliseconds(options.idle_timeout)) {}

void DatasetUsage::RecordBlock(const v1::BlockMeta& block, int64_t now_ms) {
  if (block.compaction_level() != 0) return;
  for (const v1::Dataset& ds : block.datasets()) {
    const std::string* tenant = StringRef(block, ds.tenant());
    const std::string* name = StringRef(block, ds.name());
    if (tenant == nullptr || name == nullptr || tenant->empty()) continue;
    Record(*tenant, *name, block.shard(), ds.size(), now_ms);
  }
}

void DatasetUsage::Record(std::string_view tenant, std::string_view dataset, uint32_t shard,
                          uint64_t bytes, int64_t now_ms) {
  const double amount = static_cast<double>(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = datasets_.find(DatasetRef(tenant, dataset));
  if (it == datasets_.end()) {
    if (datasets_.size() >= options_.max_datasets &&
        now_ms - last_expiry_ms_ >= kFullTableSweepIntervalMs) {
      ExpireLocked(now_ms);
    }
    if (datasets_.size() >= options_.max_datasets) {
      ++ignored_samples_;
      return;
    }
    it = datasets_.try_emplace(DatasetKey(tenant, dataset)).first;
  }
  Usage& usage = it->second;
  usage.total.Add(amount, now_ms, half_life_ms_);

  auto s = std::find_if(usage.shards.begin(), usage.shards.end(),
                        [shard](const ShardUsage& u) { return u.shard == shard; });
  if (s != usage.shards.end()) {
    s->rate.Add(amount, now_ms, half_life_ms_);
  } else if (usage.shards.size() < options_.max_shards_per_dataset) {
    usage.shards.push_back({shard, {}});
    usage.shards.back().rate.Add(amount, now_ms, half_life_ms_);
  }

  auto g = shards_.find(shard);
  if (g == shards_.end() && shards_.size() < options_.max_shards) {
    g = shards_.try_emplace(shard).first;
  }
  if (g != shards_.end()) g->second.Add(amount, now_ms, half_life_ms_);
}

void DatasetUsage::ExpireLocked(int64_t now_ms) {
  last_expiry_ms_ = now_ms;
  const int64_t cutoff = now_ms - idle_ms_;
  auto idle = [cutoff](const EwmaRate& r) { return r.last_update_ms() < cutoff; };
  absl::erase_if(datasets_, [&](auto& entry) {
    Usage& usage = entry.second;
    if (idle(usage.total)) return true;
    usage.shards.erase(std::remove_if(usage.shards.begin(), usage.shards.end(),
                                      [&](const ShardUsage& s) { return idle(s.rate); }),
                       usage.shards.end());
    return false;
  });
  absl::erase_if(shards_, [&](const auto& entry) { return idle(entry.second); });
}

DatasetUsage::Snapshot DatasetUsage::Collect(int64_t now_ms) {
  Snapshot out;
  std::lock_guard<std::mutex> lock(mu_);
  ExpireLocked(now_ms);
  out.datasets.reserve(datasets_.size());
  for (const auto& [key, usage] : datasets_) {
    DatasetRate& d = out.datasets.emplace_back();
    d.tenant = key.first;
    d.dataset = key.second;
    d.bytes_per_second = usage.total.RateAt(now_ms, half_life_ms_);
    d.last_update_ms = usage.total.last_update_ms();
    d.shards = static_cast<uint32_t>(usage.shards.size());
    if (usage.shards.size() > 1) {
      double sum = 0, sum_sq = 0;
      for (const ShardUsage& s : usage.shards) {
        const double r = s.rate.RateAt(now_ms, half_life_ms_);
        sum += r;
        sum_sq += r * r;
      }
      const double n = static_cast<double>(usage.shards.size());
      const double mean = sum / n;
      const double variance = std::max(0.0, sum_sq / n - mean * mean);
      if (mean > 0) d.shard_rel_stddev = std::sqrt(variance) / mean;
    }
  }
  out.shards.reserve(shards_.size());
  for (const auto& [shard, rate] : shards_) {
    out.shards.push_back({shard, rate.RateAt(now_ms, half_life_ms_)});
  }
  std::sort(out.shards.begin(), out.shards.end(),
            [](const ShardRate& a, const ShardRate& b) { return a.shard < b.shard; });
  return out;
}

uint64_t DatasetUsage::ignored_samples() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ignored_samples_;
}

size_t DatasetUsage::dataset_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return datasets_.size();
}

}  // namespace embers::metastore
