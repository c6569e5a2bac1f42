// ResolveAwsCredentials: where the S3 bucket's credentials come from, in the order the AWS SDKs
// use, so a deployment configured for them works unchanged.
//
// Used by OpenBucket (bucket_config.cc) for -storage.backend=s3:
//   1. -storage.s3.access-key-id / -storage.s3.secret-access-key (no session token: a token
//      belongs to the temporary key it was issued with);
//   2. AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN;
//   3. the shared credentials file: AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials, profile
//      AWS_PROFILE (else "default"): aws_access_key_id, aws_secret_access_key,
//      aws_session_token;
//   4. none: unsigned (anonymous) requests, for public buckets and test stores.
// Instance and container roles (IMDS, ECS, web identity) are not read: they need the metadata
// endpoints of the cloud the process runs in.
#ifndef EMBERS_OBJSTORE_S3_AWS_CREDENTIALS_H_
#define EMBERS_OBJSTORE_S3_AWS_CREDENTIALS_H_

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "objstore/s3/sigv4.h"

namespace embers::objstore::s3 {

struct ResolvedAwsCredentials {
  SigV4Credentials credentials;
  // Where they came from, for the start-up log: "flags", "environment",
  // "shared credentials file /root/.aws/credentials (profile default)" or "none".
  std::string source;
};

// The profile `profile` of a shared credentials file's text (INI: "[name]" sections, "key = value"
// lines, '#' and ';' comments). NotFound when the profile is absent, InvalidArgument when it lacks
// the key id or the secret.
absl::StatusOr<SigV4Credentials> ParseAwsSharedCredentials(std::string_view text,
                                                           std::string_view profile);

// `getenv` reads the environment (a parameter so tests need not change the process's own).
// Errors: a half-given pair (key without secret), or a shared credentials file that exists but
// cannot be read or lacks the profile — stated, never silently anonymous.
absl::StatusOr<ResolvedAwsCredentials> ResolveAwsCredentials(
    const std::string& flag_access_key_id, const std::string& flag_secret_access_key,
    const std::function<const char*(const char*)>& getenv);

}  // namespace embers::objstore::s3

#endif  // EMBERS_OBJSTORE_S3_AWS_CREDENTIALS_H_
