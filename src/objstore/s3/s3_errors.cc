#include "objstore/s3/s3_errors.h"

#include <optional>
#include <string>

#include "base/strings.h"
#include "objstore/http/store_answers.h"
#include "objstore/s3/s3_responses.h"

namespace embers::objstore::s3 {
namespace {

struct KnownCode {
  std::string_view s3_code;
  absl::StatusCode code;
};

// The codes S3 documents (and compatible stores reuse) that we treat specially; the rest follow
// the HTTP status.
constexpr KnownCode kKnownCodes[] = {
    {"NoSuchKey", absl::StatusCode::kNotFound},
    {"NoSuchUpload", absl::StatusCode::kNotFound},
    // A missing bucket is a deployment error, not a missing object: callers that take NotFound
    // as "already deleted" must not carry on.
    {"NoSuchBucket", absl::StatusCode::kFailedPrecondition},
    {"AccessDenied", absl::StatusCode::kPermissionDenied},
    {"AllAccessDisabled", absl::StatusCode::kPermissionDenied},
    {"AccountProblem", absl::StatusCode::kPermissionDenied},
    {"InvalidAccessKeyId", absl::StatusCode::kUnauthenticated},
    {"SignatureDoesNotMatch", absl::StatusCode::kUnauthenticated},
    {"ExpiredToken", absl::StatusCode::kUnauthenticated},
    {"InvalidToken", absl::StatusCode::kUnauthenticated},
    {"TokenRefreshRequired", absl::StatusCode::kUnauthenticated},
    {"AuthorizationHeaderMalformed", absl::StatusCode::kUnauthenticated},
    {"RequestTimeTooSkewed", absl::StatusCode::kUnauthenticated},
    {"InvalidRange", absl::StatusCode::kOutOfRange},
    {"SlowDown", absl::StatusCode::kUnavailable},
    {"ServiceUnavailable", absl::StatusCode::kUnavailable},
    {"InternalError", absl::StatusCode::kUnavailable},
    {"RequestTimeout", absl::StatusCode::kUnavailable},
    {"OperationAborted", absl::StatusCode::kAborted},
    {"InvalidBucketName", absl::StatusCode::kInvalidArgument},
    {"KeyTooLongError", absl::StatusCode::kInvalidArgument},
    {"EntityTooLarge", absl::StatusCode::kInvalidArgument},
    {"BadDigest", absl::StatusCode::kDataLoss},
    {"XAmzContentSHA256Mismatch", absl::StatusCode::kDataLoss},
};

// What operators should check, for the errors a misconfiguration causes.
std::string_view HintFor(std::string_view s3_code) {
  if (s3_code == "NoSuchBucket") {
    return "the bucket does not exist at this endpoint (check -storage.s3.bucket-name, "
           "-storage.s3.endpoint and -storage.s3.region)";
  }
  if (s3_code == "InvalidAccessKeyId") {
    return "the store does not know this access key (check -storage.s3.access-key-id or "
           "AWS_ACCESS_KEY_ID)";
  }
  if (s3_code == "SignatureDoesNotMatch") {
    return "the signature was computed with another secret (check -storage.s3.secret-access-key "
           "or AWS_SECRET_ACCESS_KEY)";
  }
  if (s3_code == "RequestTimeTooSkewed") {
    return "this machine's clock differs from the store's by more than 15 minutes (check NTP)";
  }
  if (s3_code == "AuthorizationHeaderMalformed") {
    return "check -storage.s3.region (it must be the bucket's region)";
  }
  if (s3_code == "AccessDenied") return "the credentials lack a permission on the bucket";
  return {};
}

}  // namespace

absl::StatusCode CodeForS3Error(std::string_view s3_code, int http_status) {
  for (const KnownCode& known : kKnownCodes) {
    if (known.s3_code == s3_code) return known.code;
  }
  return http::CodeForHttpStatus(http_status);
}

absl::Status S3ErrorStatus(const S3ErrorContext& context, int http_status, std::string_view body) {
  const std::optional<S3ErrorDocument> doc = ParseS3Error(body);
  std::string message = StrCat("S3 ", context.operation);
  if (!context.key.empty()) message += StrCat(" of \"", context.key, "\"");
  message += StrCat(" in bucket ", context.bucket, " failed: HTTP ", http_status);
  if (doc.has_value()) {
    if (!doc->code.empty()) message += StrCat(" ", doc->code);
    if (!doc->message.empty()) message += StrCat(": ", doc->message);
    if (!doc->request_id.empty()) message += StrCat(" (request id ", doc->request_id, ")");
  } else if (!StripWhitespace(body).empty()) {
    message += StrCat(": ", http::BodyExcerpt(body));
  }
  const std::string_view s3_code = doc.has_value() ? std::string_view(doc->code) : "";
  if (std::string_view hint = HintFor(s3_code); !hint.empty()) message += StrCat("; ", hint);
  return absl::Status(CodeForS3Error(s3_code, http_status), message);
}

}  // namespace embers::objstore::s3
