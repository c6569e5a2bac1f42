#include "objstore/read_cache_bucket.h"

#include <utility>

#include "base/metrics.h"
#include "base/strings.h"

namespace embers::objstore {
namespace {

metrics::CounterFamily& Lookups() {
  static auto& c = metrics::Registry::Global().Counter(
      "embers_objstore_read_cache_lookups_total",
      "Ranged reads of the query path's read cache, by result (hit, miss, bypass: too large).",
      {"result"});
  return c;
}

metrics::GaugeFamily& HeldBytes() {
  static auto& g = metrics::Registry::Global().Gauge(
      "embers_objstore_read_cache_bytes", "Bytes of object data the query path's read cache holds.",
      {});
  return g;
}

std::string EntryId(std::string_view key, uint64_t offset, uint64_t length) {
  return StrCat(key, std::string_view("\0", 1), offset, std::string_view("\0", 1), length);
}

}  // namespace

ReadCacheBucket::ReadCacheBucket(Bucket* inner, ReadCacheOptions options)
    : ForwardingBucket(inner), options_(options) {}

absl::StatusOr<std::string> ReadCacheBucket::GetRange(std::string_view key, uint64_t offset,
                                                      uint64_t length) {
  if (length > static_cast<uint64_t>(options_.max_entry_bytes)) {
    Lookups().WithLabels({"bypass"}).Inc();
    return ForwardingBucket::GetRange(key, offset, length);
  }
  std::string id = EntryId(key, offset, length);
  {
    absl::MutexLock lock(&mu_);
    auto it = by_id_.find(id);
    if (it != by_id_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      Lookups().WithLabels({"hit"}).Inc();
      return it->second->data;
    }
  }
  Lookups().WithLabels({"miss"}).Inc();
  // Two threads missing the same range both read it; the second insert finds the first's.
  absl::StatusOr<std::string> data = ForwardingBucket::GetRange(key, offset, length);
  if (data.ok()) Insert(std::move(id), key, *data);
  return data;
}

void ReadCacheBucket::Insert(std::string id, std::string_view key, const std::string& data) {
  absl::MutexLock lock(&mu_);
  if (by_id_.contains(id)) return;
  lru_.push_front(Entry{.id = std::move(id), .key = std::string(key), .data = data});
  by_id_.emplace(lru_.front().id, lru_.begin());
  bytes_ += static_cast<int64_t>(data.size());
  HeldBytes().WithLabels({}).Add(static_cast<double>(data.size()));
  EvictLocked();
}

void ReadCacheBucket::EvictLocked() {
  while (bytes_ > options_.max_bytes && !lru_.empty()) EraseLocked(std::prev(lru_.end()));
}

void ReadCacheBucket::EraseLocked(Lru::iterator it) {
  bytes_ -= static_cast<int64_t>(it->data.size());
  HeldBytes().WithLabels({}).Sub(static_cast<double>(it->data.size()));
  by_id_.erase(it->id);
  lru_.erase(it);
}

void ReadCacheBucket::DropKey(std::string_view key) {
  absl::MutexLock lock(&mu_);
  // Writes and deletes are rare on the query path (none in the server): a scan is enough.
  for (auto it = lru_.begin(); it != lru_.end();) {
    auto next = std::next(it);
    if (it->key == key) EraseLocked(it);
    it = next;
  }
}

absl::Status ReadCacheBucket::Put(std::string_view key, std::string_view data) {
  absl::Status s = ForwardingBucket::Put(key, data);
  DropKey(key);
  return s;
}

absl::Status ReadCacheBucket::PutFile(std::string_view key, const std::string& path) {
  absl::Status s = ForwardingBucket::PutFile(key, path);
  DropKey(key);
  return s;
}

absl::Status ReadCacheBucket::Delete(std::string_view key) {
  absl::Status s = ForwardingBucket::Delete(key);
  DropKey(key);
  return s;
}

absl::Status ReadCacheBucket::DeleteMany(std::span<const std::string> keys) {
  absl::Status s = ForwardingBucket::DeleteMany(keys);
  for (const std::string& key : keys) DropKey(key);
  return s;
}

int64_t ReadCacheBucket::bytes() const {
  absl::MutexLock lock(&mu_);
  return bytes_;
}

size_t ReadCacheBucket::entries() const {
  absl::MutexLock lock(&mu_);
  return lru_.size();
}

}  // namespace embers::objstore
