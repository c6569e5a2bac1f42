#include "objstore/bucket_config.h"

#include <utility>

#include "base/strings.h"
#include "objstore/filesystem_bucket.h"
#include "objstore/memory_bucket.h"
#include "objstore/prefixed_bucket.h"

namespace embers::objstore {

namespace {

absl::StatusOr<std::unique_ptr<Bucket>> OpenBackend(const BucketConfig& config) {
  if (config.backend == "filesystem") {
    absl::StatusOr<std::unique_ptr<FilesystemBucket>> bucket =
        FilesystemBucket::Open(config.filesystem_dir);
    if (!bucket.ok()) return bucket.status();
    return std::unique_ptr<Bucket>(std::move(*bucket));
  }
  if (config.backend == "memory") return std::unique_ptr<Bucket>(new MemoryBucket());
  return absl::InvalidArgumentError(StrCat("unknown storage backend \"", config.backend,
                                           "\"; valid backends: filesystem, memory"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Bucket>> OpenBucket(const BucketConfig& config) {
  absl::StatusOr<std::unique_ptr<Bucket>> bucket = OpenBackend(config);
  if (!bucket.ok() || config.prefix.empty()) return bucket;
  absl::StatusOr<std::unique_ptr<PrefixedBucket>> prefixed =
      PrefixedBucket::Create(std::move(*bucket), config.prefix);
  if (!prefixed.ok()) return prefixed.status();
  return std::unique_ptr<Bucket>(std::move(*prefixed));
}

}  // namespace embers::objstore
