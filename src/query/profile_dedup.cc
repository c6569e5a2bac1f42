#include "query/profile_dedup.h"

#include "absl/hash/hash.h"

namespace embers::query {

bool ProfileDedup::FirstSeen(const block::ProfileKey& key) {
  Shard& shard = shards_[absl::HashOf(key.fingerprint, key.timestamp_ms) % kShards];
  std::lock_guard<std::mutex> lock(shard.mu);
  if (!shard.keys.insert(key).second) return false;
  keys_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

absl::Status ProfileDedup::Charge() {
  std::lock_guard<std::mutex> lock(charge_mu_);
  return charge_.Update(static_cast<size_t>(keys_.load(std::memory_order_relaxed) * kBytesPerKey));
}

}  // namespace embers::query
