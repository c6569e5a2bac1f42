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
// from the environment or the shared credentials file (s3/aws_credentials.h).
struct S3Config {
  std::string endpoint;  // host[:port]; empty: s3.<region>.amazonaws.com
  std::string bucket_name;
  std::string region = "us-east-1";
  std::string access_key_id;
  std::string secret_access_key;
  bool insecure = false;          // http:// instead of https://
  bool force_path_style = false;  // Pyroscope's deprecated spelling of bucket_lookup_type=path
  // "auto" (virtual-hosted for AWS and GCS endpoints, path style for any other), "virtual-hosted"
  // or "path".
  std::string bucket_lookup_type = "auto";
  std::string sse_type;  // "", "SSE-S3" or "SSE-KMS"
  std::string sse_kms_key_id;
  std::string sse_kms_encryption_context;  // JSON object
  bool insecure_skip_verify = false;       // TLS without certificate checks (test endpoints only)
  std::string tls_ca_path;                 // PEM CA bundle instead of the system CAs
  int64_t part_size = 64ll << 20;          // PutFile uses multipart upload above this size
  int max_connections = 32;                // concurrent requests to the store at most
};

// The `storage.azure.*` options (azure/azure_bucket.h says what each does). The blob endpoint is
// the connection string's (BlobEndpoint, or built from its protocol and EndpointSuffix) when one
// is given, else https://<account-name>.<endpoint-suffix>. An empty key or connection string is
// taken from AZURE_STORAGE_KEY or AZURE_STORAGE_CONNECTION_STRING (the Azure CLI's variables).
struct AzureConfig {
  std::string account_name;
  std::string account_key;        // base64, as the portal shows it
  std::string connection_string;  // overrides account name, key (or SAS) and endpoint suffix
  std::string container_name;
  std::string endpoint_suffix;     // empty: blob.core.windows.net
  int max_retries = 3;             // retries of a failed request (so max_retries + 1 attempts)
  int64_t part_size = 64ll << 20;  // PutFile uses Put Block + Put Block List above this size
  int max_connections = 32;        // concurrent requests to the store at most
};

struct BucketConfig {
  // "filesystem", "memory", "s3" or "azure".
  std::string backend = "filesystem";
  // Root directory of the filesystem backend; created if missing.
  std::string filesystem_dir = "./data";
  // If non-empty, every key is stored under "<prefix>/" (see PrefixedBucket).
  std::string prefix;
  S3Config s3;
  AzureConfig azure;
};

// Opens the configured bucket. InvalidArgument for an unknown backend (the message lists the
// valid ones) or a bad prefix; the backend's own error if it cannot be opened.
absl::StatusOr<std::unique_ptr<Bucket>> OpenBucket(const BucketConfig& config);

}  // namespace embers::objstore

#endif  // EMBERS_OBJSTORE_BUCKET_CONFIG_H_
