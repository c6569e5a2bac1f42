// S3Bucket: the Bucket on any S3-compatible object store (AWS S3, GCS through its interoperability
// endpoint, MinIO, Ceph RGW, R2, s3rver), selected with -storage.backend=s3.
//
// OpenBucket (bucket_config.h) builds it from the storage.s3.* options; every component then uses
// it through the Bucket interface. Requests are signed with SigV4 (sigv4.h) over a pooled,
// retrying libcurl transport (http_client.h); the XML answers are read by s3_responses.h and
// errors mapped by s3_errors.h.
//
// How the Bucket contract maps onto S3:
// - Get/GetRange: GET, with a Range header for ranges. S3 answers 416 for a range that starts at
//   or past the end (and for any range of an empty object), so a 416 is settled with a HEAD:
//   offset == size is "", offset > size OutOfRange. Stores that ignore Range (200) or send more
//   than asked are cut to the requested bytes.
// - Put: one PUT with the body's SHA-256 signed (x-amz-content-sha256), which the store checks.
// - PutFile: the file is hashed, then streamed; above part_size as a multipart upload (parts of
//   part_size, one after another), aborted when any step fails so no parts are left behind.
// - Delete: DELETE; S3 answers 204 whether or not the key existed.
// - DeleteMany: DeleteObjects (POST ?delete, quiet, Content-MD5) per 1,000 keys; a key the answer
//   lists as NoSuchKey counts as deleted, any other listed key fails the call.
// - Exists/Size: HEAD.
// - List: ListObjectsV2 pages (continuation tokens, encoding-type=url), keys in byte order as S3
//   returns them. A whole page is read before the callback sees its first key, so the callback
//   may call back into the bucket.
// Every key is checked with ValidateKey first, as with every backend.
#ifndef EMBERS_OBJSTORE_S3_S3_BUCKET_H_
#define EMBERS_OBJSTORE_S3_S3_BUCKET_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "objstore/bucket.h"
#include "objstore/http/http_client.h"
#include "objstore/local_file.h"
#include "objstore/s3/sigv4.h"

namespace embers::objstore::s3 {

using ::embers::objstore::http::HttpClient;
using ::embers::objstore::http::HttpClientOptions;
using ::embers::objstore::http::HttpRequest;
using ::embers::objstore::http::HttpResponse;

struct S3BucketOptions {
  // host[:port] of the store, without a scheme; empty: s3.<region>.amazonaws.com.
  std::string endpoint;
  std::string bucket;
  std::string region = "us-east-1";
  // Empty access key and secret: unsigned (anonymous) requests.
  SigV4Credentials credentials;
  // http:// instead of https://.
  bool insecure = false;
  // https://endpoint/bucket/key rather than https://bucket.endpoint/key (virtual-host style,
  // AWS's default). Stores on an IP address or without wildcard DNS need path style.
  bool force_path_style = false;
  // PutFile of a larger file is a multipart upload in parts of this size (5 MiB to 5 GiB).
  uint64_t part_size = 64ull << 20;
  // Server-side encryption of what is written: "" (the bucket's default), "SSE-S3" (AES256 with
  // keys S3 manages) or "SSE-KMS" (a KMS key: sse_kms_key_id, and optionally an encryption
  // context, a JSON object). Sent on PutObject and CreateMultipartUpload, never on parts.
  std::string sse_type;
  std::string sse_kms_key_id;
  std::string sse_kms_encryption_context;
  // Keys per ListObjectsV2 page (1 to 1000); tests use small pages to exercise continuation.
  int list_page_size = 1000;
  HttpClientOptions http;
};

class S3Bucket : public Bucket {
 public:
  // Checks the options, then probes the bucket (ListObjectsV2 with max-keys=1), so that a wrong
  // key, a missing bucket or an unreachable endpoint is one clear error at start-up.
  static absl::StatusOr<std::unique_ptr<S3Bucket>> Open(S3BucketOptions options);

  std::string_view Name() const override { return name_; }
  absl::StatusOr<std::string> Get(std::string_view key) override;
  absl::StatusOr<std::string> GetRange(std::string_view key, uint64_t offset,
                                       uint64_t length) override;
  absl::Status Put(std::string_view key, std::string_view data) override;
  absl::Status PutFile(std::string_view key, const std::string& path) override;
  absl::Status Delete(std::string_view key) override;
  // DeleteObjects, 1,000 keys a request (a single key: DELETE).
  absl::Status DeleteMany(std::span<const std::string> keys) override;
  absl::StatusOr<bool> Exists(std::string_view key) override;
  absl::StatusOr<uint64_t> Size(std::string_view key) override;
  absl::Status List(std::string_view prefix, ListCallback callback) override;

 private:
  using Query = std::vector<std::pair<std::string, std::string>>;

  S3Bucket(S3BucketOptions options, std::unique_ptr<HttpClient> http);

  // Signs and sends one request. `key` empty addresses the bucket itself. `payload_hash` is the
  // hex SHA-256 of the body (of `request.body` when empty).
  absl::StatusOr<HttpResponse> Send(HttpRequest request, std::string_view key, const Query& query,
                                    std::string payload_hash = "");
  // The server-side encryption headers of an object's first write (none without sse_type).
  void AddEncryptionHeaders(HttpRequest& request) const;
  // The status for an answer that is not a success.
  absl::Status Failure(std::string_view operation, std::string_view key,
                       const HttpResponse& response) const;
  // HEAD: the size, NotFound, or the error.
  absl::StatusOr<uint64_t> Head(std::string_view key);
  // Settles a ranged read the store answered with 416 (see the header comment).
  absl::StatusOr<std::string> RangeAtOrPastEnd(std::string_view key, uint64_t offset);
  // PUT of `size` bytes of `file` from `offset` (an object, or a part when `query` names one);
  // the ETag of the answer in `etag`.
  absl::Status PutFileRange(std::string_view key, const LocalFileReader& file, uint64_t offset,
                            uint64_t size, const Query& query, std::string* etag);
  absl::Status MultipartUpload(std::string_view key, const LocalFileReader& file);
  // A page of keys under `prefix`, after `token` (empty: the first page).
  absl::StatusOr<std::pair<std::vector<std::string>, std::string>> ListPage(
      std::string_view prefix, const std::string& token, int max_keys, int max_attempts = 0);

  const S3BucketOptions options_;
  const std::string scheme_;
  const std::string host_;         // the Host header: endpoint, or bucket.endpoint
  const std::string path_prefix_;  // "/bucket" in path style, "" otherwise
  const std::string name_;
  const std::unique_ptr<HttpClient> http_;
};

}  // namespace embers::objstore::s3

#endif  // EMBERS_OBJSTORE_S3_S3_BUCKET_H_
