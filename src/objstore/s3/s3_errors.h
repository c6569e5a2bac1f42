// S3ErrorStatus: the absl::Status for a request an S3-compatible store refused.
//
// Used by s3_bucket.cc for every non-success answer. The store's error code (from the <Error>
// document, else the HTTP status) picks the canonical code, so callers can tell a missing object
// (NotFound) from a missing bucket (FailedPrecondition: a deployment error, never "the object is
// gone"), bad credentials (Unauthenticated, PermissionDenied) and an overloaded or failing store
// (Unavailable, worth retrying later). The message names the operation, the bucket, the key, the
// HTTP status and the store's code and message, plus a hint for the errors operators meet at
// start-up (wrong key, missing bucket, clock skew).
#ifndef EMBERS_OBJSTORE_S3_S3_ERRORS_H_
#define EMBERS_OBJSTORE_S3_S3_ERRORS_H_

#include <string_view>

#include "absl/status/status.h"

namespace embers::objstore::s3 {

struct S3ErrorContext {
  std::string_view operation;  // the S3 API name: "GetObject", "ListObjectsV2", …
  std::string_view bucket;     // the bucket's Name()
  std::string_view key;        // may be empty (bucket-level operations)
};

// The canonical code for the store's `s3_code` (may be empty) and `http_status`.
absl::StatusCode CodeForS3Error(std::string_view s3_code, int http_status);

// The status for an answer with `http_status` and `body` (an <Error> document, or anything else,
// or nothing).
absl::Status S3ErrorStatus(const S3ErrorContext& context, int http_status, std::string_view body);

}  // namespace embers::objstore::s3

#endif  // EMBERS_OBJSTORE_S3_S3_ERRORS_H_
