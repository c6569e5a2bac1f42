// Bucket: the object-storage interface every Embers component uses (DESIGN §5).
//
// Object storage is Embers' only data store. Segment-writers Put one object per shard per flush,
// compaction-workers GetRange sources, PutFile the blocks they assembled in a local file and Delete
// the replaced sources, query-backends read sections by
// byte range, and the metastore parks metadata under dlq/. Implementations: FilesystemBucket
// (single node, the default), MemoryBucket (tests), PrefixedBucket (a key-prefix wrapper),
// S3Bucket (s3/s3_bucket.h, any S3-compatible store) and AzureBucket (azure/azure_bucket.h, Azure
// Blob Storage). All of them pass bucket_conformance_test.cpp.
//
// Keys are '/'-separated paths such as "segments/1/anonymous/<ULID>/block.bin". Every
// implementation validates keys with ValidateKey() below, so a key is accepted or rejected the
// same way whatever the backend.

#ifndef EMBERS_OBJSTORE_BUCKET_H_
#define EMBERS_OBJSTORE_BUCKET_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace embers::objstore {

// Longest key accepted, in bytes (S3 allows 1024; we use the same limit everywhere).
inline constexpr size_t kMaxKeyLength = 1024;

// Key segments starting with this are reserved for implementations' scratch objects (the
// FilesystemBucket's temporary files), so no valid key can collide with one.
inline constexpr std::string_view kReservedSegmentPrefix = ".embers-tmp-";

// Returns OK if `key` is a valid object key: non-empty, at most kMaxKeyLength bytes, no NUL, no
// leading '/', no empty segment (so no "a//b" and no trailing '/'), no "." or ".." segment, and
// no segment starting with kReservedSegmentPrefix. Otherwise InvalidArgumentError.
absl::Status ValidateKey(std::string_view key);

// Returns OK if `prefix` is a valid List() prefix: empty (everything), or a prefix of some valid
// key whose complete segments (those followed by '/') obey ValidateKey's rules. The last segment
// may be partial: "seg" matches "segments/…", "segments/" matches only what is inside.
absl::Status ValidateListPrefix(std::string_view prefix);

// The NotFound status every implementation returns for a missing object, naming key and bucket.
absl::Status ObjectNotFoundError(std::string_view bucket, std::string_view key);

// The OutOfRange status for a ranged read that starts past the end of the object.
absl::Status RangeStartPastEndError(std::string_view bucket, std::string_view key, uint64_t offset,
                                    uint64_t size);

// Thread-safe: every method may be called concurrently from any thread.
class Bucket {
 public:
  // Called once per key; a non-OK return stops the iteration and is returned by List().
  using ListCallback = absl::FunctionRef<absl::Status(std::string_view key)>;

  Bucket() = default;
  Bucket(const Bucket&) = delete;
  Bucket& operator=(const Bucket&) = delete;
  virtual ~Bucket() = default;

  // A short human-readable identity for logs and error messages, e.g. "filesystem:/srv/data".
  virtual std::string_view Name() const = 0;

  // The whole object. NotFoundError if it does not exist.
  virtual absl::StatusOr<std::string> Get(std::string_view key) = 0;

  // Bytes [offset, offset + length) of the object, clipped at its end: a range running past the
  // end returns the available bytes, offset == size returns "", and offset > size is
  // OutOfRangeError. NotFoundError if the object does not exist.
  virtual absl::StatusOr<std::string> GetRange(std::string_view key, uint64_t offset,
                                               uint64_t length) = 0;

  // Creates or replaces the object atomically: readers see the old object or the new one, never
  // a partial one. When Put returns OK the object is durable (as far as the backend promises).
  virtual absl::Status Put(std::string_view key, std::string_view data) = 0;

  // Put with the contents of the local file at `path`, streamed rather than read into memory
  // (compacted blocks are assembled in temporary files and may be larger than a worker's memory
  // budget). Atomic as Put. The file is only read; the caller removes it. An error naming the path
  // when it cannot be read (NotFound when it does not exist), and no object is written then.
  virtual absl::Status PutFile(std::string_view key, const std::string& path) = 0;

  // Removes the object. Deleting a missing object is OK, so retries are harmless.
  virtual absl::Status Delete(std::string_view key) = 0;

  // Removes every object of `keys`, missing ones being OK as with Delete. Stores with a batch
  // operation override it (S3's DeleteObjects takes 1,000 keys a request: compaction's cleanup
  // deletes whole batches of replaced blocks); this default deletes one key after another. On an
  // error some of the keys may be deleted already; calling again is harmless.
  virtual absl::Status DeleteMany(std::span<const std::string> keys);

  virtual absl::StatusOr<bool> Exists(std::string_view key) = 0;

  // Object size in bytes. NotFoundError if it does not exist.
  virtual absl::StatusOr<uint64_t> Size(std::string_view key) = 0;

  // Calls `callback` for every key that starts with `prefix` (byte-wise, not only at '/'
  // boundaries), in lexicographic byte order. Keys added or removed during the iteration may or
  // may not be seen. The callback may call back into the bucket (e.g. to Delete the key).
  virtual absl::Status List(std::string_view prefix, ListCallback callback) = 0;
};

// Convenience for callers that want all keys at once (tests, small listings).
absl::StatusOr<std::vector<std::string>> ListKeys(Bucket& bucket, std::string_view prefix);

}  // namespace embers::objstore

#endif  // EMBERS_OBJSTORE_BUCKET_H_
