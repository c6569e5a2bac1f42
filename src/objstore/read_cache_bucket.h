// ReadCacheBucket: keeps the results of small ranged reads in memory, bounded in bytes, for the
// query path.
//
// Queries read the same sections of the same objects again and again: the footer of every block,
// its series and symbols sections, the profile chunks of the last hours. On a filesystem the page
// cache keeps them; on S3 or Azure every read is a request with a round trip (milliseconds), so the
// query-backend (server/app.cc) reads through one of these. Objects are immutable once written
// (every key names a new ULID), so an entry never goes stale; a Put, PutFile or Delete through
// this bucket still drops the key's entries, so the Bucket contract holds for any caller.
//
// Reads of at most max_entry_bytes are cached; larger ones (a whole compacted dataset's chunks)
// pass through and do not push everything else out. The least recently used entries are evicted
// to stay within max_bytes. Hits, misses and the bytes held are on /metrics
// (embers_objstore_read_cache_*).
#ifndef EMBERS_OBJSTORE_READ_CACHE_BUCKET_H_
#define EMBERS_OBJSTORE_READ_CACHE_BUCKET_H_

#include <cstdint>
#include <list>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "objstore/forwarding_bucket.h"

namespace embers::objstore {

struct ReadCacheOptions {
  int64_t max_bytes = 256ll << 20;
  int64_t max_entry_bytes = 4ll << 20;
};

class ReadCacheBucket final : public ForwardingBucket {
 public:
  // `inner` must outlive this bucket.
  ReadCacheBucket(Bucket* inner, ReadCacheOptions options);

  absl::StatusOr<std::string> GetRange(std::string_view key, uint64_t offset,
                                       uint64_t length) override;
  absl::Status Put(std::string_view key, std::string_view data) override;
  absl::Status PutFile(std::string_view key, const std::string& path) override;
  absl::Status Delete(std::string_view key) override;
  absl::Status DeleteMany(std::span<const std::string> keys) override;

  int64_t bytes() const;
  size_t entries() const;

 private:
  struct Entry {
    std::string id;  // key '\0' offset '\0' length
    std::string key;
    std::string data;
  };
  using Lru = std::list<Entry>;  // most recently used first

  void Insert(std::string id, std::string_view key, const std::string& data);
  void DropKey(std::string_view key);
  void EvictLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EraseLocked(Lru::iterator it) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const ReadCacheOptions options_;
  mutable absl::Mutex mu_;
  Lru lru_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Lru::iterator> by_id_ ABSL_GUARDED_BY(mu_);
  int64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace embers::objstore

#endif  // EMBERS_OBJSTORE_READ_CACHE_BUCKET_H_
