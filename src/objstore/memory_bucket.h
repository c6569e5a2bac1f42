// MemoryBucket: an in-process Bucket for unit tests and ephemeral single-process runs.
//
// Objects live in a sorted map, so List() order comes for free. Values are immutable shared
// strings: readers copy them outside the lock, so a 100 MiB Get never stalls other callers, and a
// Put swaps in a fully built value, which makes it trivially atomic.

#ifndef EMBERS_OBJSTORE_MEMORY_BUCKET_H_
#define EMBERS_OBJSTORE_MEMORY_BUCKET_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "objstore/bucket.h"

namespace embers::objstore {

class MemoryBucket final : public Bucket {
 public:
  explicit MemoryBucket(std::string name = "memory");

  std::string_view Name() const override { return name_; }
  absl::StatusOr<std::string> Get(std::string_view key) override;
  absl::StatusOr<std::string> GetRange(std::string_view key, uint64_t offset,
                                       uint64_t length) override;
  absl::Status Put(std::string_view key, std::string_view data) override;
  // Reads the file whole: the object is held in memory anyway.
  absl::Status PutFile(std::string_view key, const std::string& path) override;
  absl::Status Delete(std::string_view key) override;
  absl::StatusOr<bool> Exists(std::string_view key) override;
  absl::StatusOr<uint64_t> Size(std::string_view key) override;
  absl::Status List(std::string_view prefix, ListCallback callback) override;

 private:
  using Value = std::shared_ptr<const std::string>;

  // The object's value, or NotFound; validates the key.
  absl::StatusOr<Value> Lookup(std::string_view key) const;

  const std::string name_;
  // std::mutex rather than absl::Mutex: Debian's prebuilt Abseil is not TSan-instrumented, so
  // ThreadSanitizer cannot see absl::Mutex and reports false races in every user of this class.
  mutable std::mutex mu_;
  // Guarded by mu_. std::less<> enables lookups by string_view without building a std::string.
  std::map<std::string, Value, std::less<>> objects_;
};

}  // namespace embers::objstore

#endif  // EMBERS_OBJSTORE_MEMORY_BUCKET_H_
