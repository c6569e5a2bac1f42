#include "objstore/memory_bucket.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "objstore/local_file.h"

namespace embers::objstore {

MemoryBucket::MemoryBucket(std::string name) : name_(std::move(name)) {}

absl::StatusOr<MemoryBucket::Value> MemoryBucket::Lookup(std::string_view key) const {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return ObjectNotFoundError(name_, key);
  return it->second;
}

absl::StatusOr<std::string> MemoryBucket::Get(std::string_view key) {
  absl::StatusOr<Value> value = Lookup(key);
  if (!value.ok()) return value.status();
  return **value;  // copied outside the lock
}

absl::StatusOr<std::string> MemoryBucket::GetRange(std::string_view key, uint64_t offset,
                                                   uint64_t length) {
  absl::StatusOr<Value> value = Lookup(key);
  if (!value.ok()) return value.status();
  const std::string& data = **value;
  if (offset > data.size()) return RangeStartPastEndError(name_, key, offset, data.size());
  return data.substr(offset, std::min<uint64_t>(length, data.size() - offset));
}

absl::Status MemoryBucket::Put(std::string_view key, std::string_view data) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  // Build the value before taking the lock; free the old one after releasing it.
  Value value = std::make_shared<const std::string>(data);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, inserted] = objects_.try_emplace(std::string(key), value);
    if (!inserted) std::swap(it->second, value);
  }
  return absl::OkStatus();
}

absl::Status MemoryBucket::PutFile(std::string_view key, const std::string& path) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  absl::StatusOr<LocalFileReader> file = LocalFileReader::Open(path);
  if (!file.ok()) return file.status();
  absl::StatusOr<std::string> data = file->ReadAll();
  if (!data.ok()) return data.status();
  return Put(key, *data);
}

absl::Status MemoryBucket::Delete(std::string_view key) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  Value old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find(key);
    if (it == objects_.end()) return absl::OkStatus();
    old = std::move(it->second);
    objects_.erase(it);
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> MemoryBucket::Exists(std::string_view key) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  return objects_.find(key) != objects_.end();
}

absl::StatusOr<uint64_t> MemoryBucket::Size(std::string_view key) {
  absl::StatusOr<Value> value = Lookup(key);
  if (!value.ok()) return value.status();
  return (*value)->size();
}

absl::Status MemoryBucket::List(std::string_view prefix, ListCallback callback) {
  if (absl::Status s = ValidateListPrefix(prefix); !s.ok()) return s;
  // Snapshot the matching keys, then call back without the lock so the callback may use the
  // bucket (list-and-delete is common) without deadlocking.
  std::vector<std::string> keys;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = objects_.lower_bound(prefix);
         it != objects_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      keys.push_back(it->first);
    }
  }
  for (const std::string& key : keys) {
    if (absl::Status s = callback(key); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace embers::objstore
