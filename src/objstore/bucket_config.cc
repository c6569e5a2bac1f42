#include "objstore/bucket_config.h"

#include <stdlib.h>

#include <utility>

#include "base/strings.h"
#include "objstore/filesystem_bucket.h"
#include "objstore/instrumented_bucket.h"
#include "objstore/memory_bucket.h"
#include "objstore/prefixed_bucket.h"
#include "objstore/s3/s3_bucket.h"

namespace embers::objstore {

namespace {

// `value`, or the environment variable `env` when `value` is empty (the AWS SDKs' variables, so
// that secrets need not be on the command line).
std::string OrEnv(const std::string& value, const char* env) {
  if (!value.empty()) return value;
  const char* from_env = ::getenv(env);
  return from_env == nullptr ? std::string() : std::string(from_env);
}

absl::StatusOr<std::unique_ptr<Bucket>> OpenS3(const S3Config& config) {
  s3::S3BucketOptions options{
      .endpoint = config.endpoint,
      .bucket = config.bucket_name,
      .region = config.region,
      .insecure = config.insecure,
      .force_path_style = config.force_path_style,
  };
  options.credentials.access_key_id = OrEnv(config.access_key_id, "AWS_ACCESS_KEY_ID");
  options.credentials.secret_access_key = OrEnv(config.secret_access_key, "AWS_SECRET_ACCESS_KEY");
  // A session token belongs to the temporary key it was issued with.
  if (config.access_key_id.empty()) {
    options.credentials.session_token = OrEnv("", "AWS_SESSION_TOKEN");
  }
  if (config.bucket_name.empty()) {
    return absl::InvalidArgumentError("-storage.backend=s3 needs -storage.s3.bucket-name");
  }
  if (config.part_size < 0) {
    return absl::InvalidArgumentError("-storage.s3.part-size must not be negative");
  }
  options.part_size = static_cast<uint64_t>(config.part_size);
  options.http.max_connections = config.max_connections;
  options.http.verify_tls = !config.insecure_skip_verify;
  options.http.ca_file = config.tls_ca_path;
  absl::StatusOr<std::unique_ptr<s3::S3Bucket>> bucket = s3::S3Bucket::Open(std::move(options));
  if (!bucket.ok()) return bucket.status();
  return std::unique_ptr<Bucket>(std::move(*bucket));
}

absl::StatusOr<std::unique_ptr<Bucket>> OpenBackend(const BucketConfig& config) {
  if (config.backend == "filesystem") {
    absl::StatusOr<std::unique_ptr<FilesystemBucket>> bucket =
        FilesystemBucket::Open(config.filesystem_dir);
    if (!bucket.ok()) return bucket.status();
    return std::unique_ptr<Bucket>(std::move(*bucket));
  }
  if (config.backend == "memory") return std::unique_ptr<Bucket>(new MemoryBucket());
  if (config.backend == "s3") return OpenS3(config.s3);
  return absl::InvalidArgumentError(StrCat("unknown storage backend \"", config.backend,
                                           "\"; valid backends: filesystem, memory, s3"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Bucket>> OpenBucket(const BucketConfig& config) {
  absl::StatusOr<std::unique_ptr<Bucket>> bucket = OpenBackend(config);
  if (!bucket.ok()) return bucket;
  bucket = std::unique_ptr<Bucket>(new InstrumentedBucket(std::move(*bucket), config.backend));
  if (config.prefix.empty()) return bucket;
  absl::StatusOr<std::unique_ptr<PrefixedBucket>> prefixed =
      PrefixedBucket::Create(std::move(*bucket), config.prefix);
  if (!prefixed.ok()) return prefixed.status();
  return std::unique_ptr<Bucket>(std::move(*prefixed));
}

}  // namespace embers::objstore
