// BucketConfig / OpenBucket: turn the `storage` configuration into a Bucket.
//
// The server's module wiring calls OpenBucket() once at startup and shares the result with every
// component (segment-writer, compaction-worker, query-backend, metastore DLQ). Field names follow
// Pyroscope's `storage.*` options so operators recognise them; S3 joins as another backend.

#ifndef EMBERS_OBJSTORE_BUCKET_CONFIG_H_
#define EMBERS_OBJSTORE_BUCKET_CONFIG_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "objstore/bucket.h"

namespace embers::objstore {

struct BucketConfig {
  // "filesystem" or "memory".
  std::string backend = "filesystem";
  // Root directory of the filesystem backend; created if missing.
  std::string filesystem_dir = "./data";
  // If non-empty, every key is stored under "<prefix>/" (see PrefixedBucket).
  std::string prefix;
};

// Opens the configured bucket. InvalidArgument for an unknown backend (the message lists the
// valid ones) or a bad prefix; the backend's own error if it cannot be opened.
absl::StatusOr<std::unique_ptr<Bucket>> OpenBucket(const BucketConfig& config);

}  // namespace embers::objstore

#endif  // EMBERS_OBJSTORE_BUCKET_CONFIG_H_
