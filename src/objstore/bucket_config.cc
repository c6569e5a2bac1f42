#include "objstore/bucket_config.h"

#include <stdlib.h>

#include <algorithm>
#include <string_view>
#include <utility>

#include "base/logging.h"
#include "base/status.h"
#include "base/strings.h"
#include "objstore/azure/azure_bucket.h"
#include "objstore/azure/azure_connection_string.h"
#include "objstore/filesystem_bucket.h"
#include "objstore/instrumented_bucket.h"
#include "objstore/memory_bucket.h"
#include "objstore/prefixed_bucket.h"
#include "objstore/s3/aws_credentials.h"
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

// Path style unless virtual-hosted is asked for, or "auto" meets a store known to serve it.
absl::StatusOr<bool> PathStyle(const S3Config& config) {
  if (config.force_path_style || config.bucket_lookup_type == "path") return true;
  if (config.bucket_lookup_type == "virtual-hosted") return false;
  if (config.bucket_lookup_type != "auto") {
    return absl::InvalidArgumentError(StrCat("-storage.s3.bucket-lookup-type: \"",
                                             config.bucket_lookup_type,
                                             "\" is not one of auto, virtual-hosted, path"));
  }
  const std::string_view host =
      std::string_view(config.endpoint)
          .substr(0, std::min(config.endpoint.size(), config.endpoint.find(':')));
  return !(host.empty() || host.ends_with(".amazonaws.com") || host == "storage.googleapis.com");
}

absl::StatusOr<std::unique_ptr<Bucket>> OpenS3(const S3Config& config) {
  absl::StatusOr<bool> path_style = PathStyle(config);
  if (!path_style.ok()) return path_style.status();
  s3::S3BucketOptions options{
      .endpoint = config.endpoint,
      .bucket = config.bucket_name,
      .region = config.region,
      .insecure = config.insecure,
      .force_path_style = *path_style,
      .sse_type = config.sse_type,
      .sse_kms_key_id = config.sse_kms_key_id,
      .sse_kms_encryption_context = config.sse_kms_encryption_context,
  };
  absl::StatusOr<s3::ResolvedAwsCredentials> credentials =
      s3::ResolveAwsCredentials(config.access_key_id, config.secret_access_key,
                                [](const char* name) { return ::getenv(name); });
  if (!credentials.ok()) return credentials.status();
  options.credentials = std::move(credentials->credentials);
  log::Info("S3 credentials", {{"source", credentials->source}});
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

absl::StatusOr<std::unique_ptr<Bucket>> OpenAzure(const AzureConfig& config) {
  azure::AzureBucketOptions options{.account_name = config.account_name,
                                    .account_key = OrEnv(config.account_key, "AZURE_STORAGE_KEY"),
                                    .container = config.container_name};
  const std::string connection_string =
      OrEnv(config.connection_string, "AZURE_STORAGE_CONNECTION_STRING");
  if (!connection_string.empty()) {
    absl::StatusOr<azure::AzureConnectionString> parsed =
        azure::ParseAzureConnectionString(connection_string);
    if (!parsed.ok()) return Annotate(parsed.status(), "-storage.azure.connection-string");
    options.account_name = std::move(parsed->account_name);
    options.account_key = std::move(parsed->account_key);
    options.sas_token = std::move(parsed->sas_token);
    options.endpoint_url = std::move(parsed->blob_endpoint);
  } else {
    if (config.account_name.empty()) {
      return absl::InvalidArgumentError(
          "-storage.backend=azure needs -storage.azure.account-name (or "
          "-storage.azure.connection-string)");
    }
    if (options.account_key.empty()) {
      return absl::InvalidArgumentError(
          "-storage.backend=azure needs -storage.azure.account-key (or AZURE_STORAGE_KEY, or "
          "-storage.azure.connection-string); managed identities are not supported");
    }
    options.endpoint_url =
        StrCat("https://", config.account_name, ".",
               config.endpoint_suffix.empty() ? "blob.core.windows.net" : config.endpoint_suffix);
  }
  if (config.container_name.empty()) {
    return absl::InvalidArgumentError("-storage.backend=azure needs -storage.azure.container-name");
  }
  if (config.part_size < 0) {
    return absl::InvalidArgumentError("-storage.azure.part-size must not be negative");
  }
  if (config.max_retries < 0) {
    return absl::InvalidArgumentError("-storage.azure.max-retries must not be negative");
  }
  options.part_size = static_cast<uint64_t>(config.part_size);
  options.http.max_connections = config.max_connections;
  options.http.max_attempts = config.max_retries + 1;
  absl::StatusOr<std::unique_ptr<azure::AzureBucket>> bucket =
      azure::AzureBucket::Open(std::move(options));
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
  if (config.backend == "azure") return OpenAzure(config.azure);
  return absl::InvalidArgumentError(StrCat("unknown storage backend \"", config.backend,
                                           "\"; valid backends: filesystem, memory, s3, azure"));
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
