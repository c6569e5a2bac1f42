// AWS Signature Version 4 (header form): the Authorization header that authenticates one request
// to S3 or any S3-compatible store (MinIO, Ceph RGW, R2, GCS interoperability).
//
// Used by the S3 bucket for every request it sends. Pure functions of their inputs (no clock, no
// I/O), so they are checked against the AWS test suite and against an independent signer
// (tests/node/sigv4.test.mjs drives the sigv4_sign tool built from sigv4_sign_tool.cc).
//
// What is signed is what the caller passes: the headers listed (lower-cased, values trimmed and
// inner runs of spaces folded, as the specification says) and the payload hash the caller chose
// (the SHA-256 of the body, or "UNSIGNED-PAYLOAD" for S3 over TLS). Paths are not normalised
// (S3 keys may contain what other services would fold); each segment is percent-encoded once.
#ifndef EMBERS_OBJSTORE_S3_SIGV4_H_
#define EMBERS_OBJSTORE_S3_SIGV4_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace embers::objstore::s3 {

struct SigV4Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials (sent as X-Amz-Security-Token); may be empty
};

struct SigV4Request {
  std::string method;  // "GET", "PUT", …
  std::string path;    // raw, not percent-encoded: "/bucket/some key/ሴ"
  // Raw (not encoded) name and value pairs, in any order; a name may repeat.
  std::vector<std::pair<std::string, std::string>> query;
  // Every header to sign (Host and X-Amz-Date among them), names in any case.
  std::vector<std::pair<std::string, std::string>> headers;
  // Lower-case hex SHA-256 of the body, or "UNSIGNED-PAYLOAD".
  std::string payload_hash;
};

// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters (A-Z a-z 0-9 - . _ ~) kept,
// every other byte as %XY with upper-case hex; '/' kept when `keep_slash`.
std::string UriEncode(std::string_view s, bool keep_slash);

// The canonical request (method, path, query, headers, signed header names, payload hash).
std::string CanonicalRequest(const SigV4Request& request);

// "20150830T123600Z" for `time` (UTC).
std::string AmzDate(absl::Time time);

// The value of the Authorization header:
// "AWS4-HMAC-SHA256 Credential=<id>/<date>/<region>/<service>/aws4_request, SignedHeaders=…,
// Signature=<hex>". `time` must be the X-Amz-Date the request carries.
std::string SigV4Authorization(const SigV4Request& request, const SigV4Credentials& credentials,
                               std::string_view region, std::string_view service, absl::Time time);

}  // namespace embers::objstore::s3

#endif  // EMBERS_OBJSTORE_S3_SIGV4_H_
