// The XML documents an S3-compatible store answers with, read into what the S3 bucket needs, and
// the one document it sends (CompleteMultipartUpload).
//
// Used by s3_bucket.cc (and s3_errors.cc for <Error>). Parsing is separate from the HTTP exchange
// so that it is unit-tested on recorded answers of AWS and s3rver and fuzzed (s3_xml_fuzzer.cc).
#ifndef EMBERS_OBJSTORE_S3_S3_RESPONSES_H_
#define EMBERS_OBJSTORE_S3_S3_RESPONSES_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace embers::objstore::s3 {

// <Error><Code>NoSuchKey</Code><Message>…</Message><RequestId>…</RequestId></Error>
struct S3ErrorDocument {
  std::string code;
  std::string message;
  std::string request_id;
};

// The error `body` carries, or nullopt when it is not an <Error> document (an empty body, as
// HEAD answers carry, or a proxy's HTML page).
std::optional<S3ErrorDocument> ParseS3Error(std::string_view body);

// One page of ListObjectsV2.
struct ListObjectsPage {
  std::vector<std::string> keys;  // decoded when the store says it URL-encoded them
  bool is_truncated = false;
  std::string next_continuation_token;  // set when is_truncated
};

// InvalidArgument when `body` is not a ListBucketResult, or is truncated without a continuation
// token (which would make the listing loop forever).
absl::StatusOr<ListObjectsPage> ParseListObjectsV2(std::string_view body);

// The UploadId of an InitiateMultipartUploadResult.
absl::StatusOr<std::string> ParseInitiateMultipartUpload(std::string_view body);

// The request body of CompleteMultipartUpload for parts 1..n with these ETags (as the store
// returned them, quotes included).
std::string CompleteMultipartUploadBody(const std::vector<std::string>& etags);

// The request body of DeleteObjects for `keys` in quiet mode (the answer lists only failures).
std::string DeleteObjectsBody(std::span<const std::string> keys);

// A key DeleteObjects did not delete, from the <Error> elements of its DeleteResult.
struct DeleteObjectsError {
  std::string key;
  std::string code;
  std::string message;
};

// The failures a DeleteResult lists (none: every key deleted). InvalidArgument when `body` is not
// a DeleteResult.
absl::StatusOr<std::vector<DeleteObjectsError>> ParseDeleteResult(std::string_view body);

// Decodes a key the store URL-encoded (encoding-type=url): %XY escapes, and '+' as a space as
// S3 writes it (a literal '+' comes as %2B). InvalidArgument on a malformed escape.
absl::StatusOr<std::string> UrlDecodeKey(std::string_view encoded);

}  // namespace embers::objstore::s3

#endif  // EMBERS_OBJSTORE_S3_S3_RESPONSES_H_
