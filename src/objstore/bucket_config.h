// BucketConfig / OpenBucket: turn the `storage` configuration into a Bucket.
//
// The server's module wiring calls OpenBucket() once at startup and shares the result with every
// component (segment-writer, compaction-worker, query-backend, metastore DLQ). Field names follow
// Pyroscope's `storage.*` options so operators recognise them.

#ifndef EMBERS_OBJSTORE_BUCKET_CONFIG_H_
#define EMBERS_OBJSTORE_BUCKET_CONFIG_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "objstore/bucket.h"

namespace embers::objstore {

// The `storage.s3.*` options (s3/s3_bucket.h says what each does). Empty credentials are taken
// from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
struct S3Config {
  std::string endpoint;  // host[:port]; empty: s3.<region>.amazonaws.com
  std::string bucket_name;
  std::string region = "us-east-1";
  std::string access_key_id;
  std::string secret_access_key;
  bool insecure = false;  // http:// instead of https://
  bool force_path_style = false;
  bool insecure_skip_verify = false;  // TLS without certificate checks (test endpoints only)
  std::string tls_ca_path;            // PEM CA bundle instead of the system CAs
  int64_t part_size = 64ll << 20;     // PutFile uses multipart upload above this size
  int max_connections = 32;           // concurrent requests to the store at most
};

struct BucketConfig {
  // "filesystem", "memory" or "s3".
  std::string backend = "filesystem";
  // Root directory of the filesystem backend; created if missing.
  std::string filesystem_dir = "./data";
  // If non-empty, every key is stored under "<prefix>/" (see PrefixedBucket).
  std::string prefix;
  S3Config s3;
};

// Opens the configured bucket. InvalidArgument for an unknown backend (the message lists the
// valid ones) or a bad prefix; the backend's own error if it cannot be opened.
absl::StatusOr<std::unique_ptr<Bucket>> OpenBucket(const BucketConfig& config);

}  // namespace embers::objstore

#endif  // EMBERS_OBJSTORE_BUCKET_CONFIG_H_
