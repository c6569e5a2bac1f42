#include "objstore/s3/s3_bucket.h"

#include <algorithm>
#include <limits>
#include <utility>

#include <openssl/evp.h>

#include "absl/strings/escaping.h"
#include "base/logging.h"
#include "base/sha256.h"
#include "base/status.h"
#include "base/strings.h"
#include "objstore/http/store_answers.h"
#include "objstore/local_file.h"
#include "objstore/s3/s3_errors.h"
#include "objstore/s3/s3_responses.h"

namespace embers::objstore::s3 {

using ::embers::objstore::http::FileBody;
using ::embers::objstore::http::HttpClient;
using ::embers::objstore::http::HttpRequest;
using ::embers::objstore::http::HttpResponse;
using ::embers::objstore::http::kMaxRangeEnd;
using ::embers::objstore::http::ParseContentRange;
using ::embers::objstore::http::RangedAnswerBytes;
using ::embers::objstore::http::RangeHeaderValue;
namespace {

constexpr uint64_t kMinPartSize = 5ull << 20;  // S3's minimum for every part but the last
constexpr uint64_t kMaxPartSize = 5ull << 30;
constexpr uint64_t kMaxParts = 10000;
// The hex SHA-256 of `size` bytes of `file` from `offset`, read a buffer at a time.
absl::StatusOr<std::string> HashFileRange(const LocalFileReader& file, uint64_t offset,
                                          uint64_t size) {
  Sha256Hasher hasher;
  std::string buffer(std::min<uint64_t>(size, 1 << 20), '\0');
  for (uint64_t done = 0; done < size;) {
    absl::StatusOr<size_t> got =
        file.ReadAt(offset + done, buffer.data(),
                    static_cast<size_t>(std::min<uint64_t>(buffer.size(), size - done)));
    if (!got.ok()) return got.status();
    if (*got == 0) {
      return absl::FailedPreconditionError(
          StrCat("local file \"", file.path(), "\" shrank while it was being uploaded"));
    }
    hasher.Update(std::string_view(buffer.data(), *got));
    done += *got;
  }
  return LowerHex(hasher.Finish());
}

bool IsSuccess(int status) { return status >= 200 && status < 300; }

// Content-MD5 of a body: DeleteObjects requires it (AWS, MinIO, Ceph and GCS all check it).
std::string ContentMd5(std::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(body.data(), body.size(), digest, &size, EVP_md5(), nullptr);
  return absl::Base64Escape(absl::string_view(reinterpret_cast<const char*>(digest), size));
}

// Keys per DeleteObjects request, S3's limit.
constexpr size_t kMaxKeysPerDeleteObjects = 1000;

}  // namespace

absl::StatusOr<std::unique_ptr<S3Bucket>> S3Bucket::Open(S3BucketOptions options) {
  if (options.bucket.empty() || options.bucket.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(
        StrCat("S3: bucket name \"", options.bucket, "\" is empty or contains '/'"));
  }
  if (options.region.empty()) return absl::InvalidArgumentError("S3: region is empty");
  if (options.endpoint.empty()) {
    options.endpoint = StrCat("s3.", options.region, ".amazonaws.com");
  }
  if (options.endpoint.find("://") != std::string::npos ||
      options.endpoint.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(
        StrCat("S3: endpoint \"", options.endpoint,
               "\" must be host[:port] without a scheme or path (-storage.s3.insecure=true "
               "selects http://)"));
  }
  if (options.credentials.access_key_id.empty() != options.credentials.secret_access_key.empty()) {
    return absl::InvalidArgumentError(
        "S3: an access key id without a secret access key or the other way round");
  }
  if (options.part_size < kMinPartSize || options.part_size > kMaxPartSize) {
    return absl::InvalidArgumentError(
        StrCat("S3: part size ", options.part_size, " is outside [5 MiB, 5 GiB], S3's limits"));
  }
  if (options.sse_type != "" && options.sse_type != "SSE-S3" && options.sse_type != "SSE-KMS") {
    return absl::InvalidArgumentError(StrCat("S3: server-side encryption type \"", options.sse_type,
                                             "\" is not one of SSE-S3, SSE-KMS"));
  }
  if (options.sse_type == "SSE-KMS" && options.sse_kms_key_id.empty()) {
    return absl::InvalidArgumentError("S3: SSE-KMS needs a KMS key id");
  }
  if (options.sse_type != "SSE-KMS" &&
      !(options.sse_kms_key_id.empty() && options.sse_kms_encryption_context.empty())) {
    return absl::InvalidArgumentError("S3: a KMS key id or encryption context needs SSE-KMS");
  }
  if (const std::string& context = options.sse_kms_encryption_context;
      !context.empty() && (context.front() != '{' || context.back() != '}')) {
    return absl::InvalidArgumentError("S3: the KMS encryption context must be a JSON object");
  }
  if (options.list_page_size < 1 || options.list_page_size > 1000) {
    return absl::InvalidArgumentError("S3: list page size must be from 1 to 1000");
  }
  absl::StatusOr<std::unique_ptr<HttpClient>> http = HttpClient::Create(options.http);
  if (!http.ok()) return http.status();
  std::unique_ptr<S3Bucket> bucket(new S3Bucket(std::move(options), std::move(*http)));
  // One request that needs the endpoint, the bucket and valid credentials, tried twice only: a
  // misconfiguration must fail start-up quickly, not after minutes of retries.
  absl::StatusOr<std::pair<std::vector<std::string>, std::string>> probe =
      bucket->ListPage("", "", 1, 2);
  if (!probe.ok()) {
    return Annotate(probe.status(), StrCat("opening S3 bucket ", bucket->Name()));
  }
  return bucket;
}

S3Bucket::S3Bucket(S3BucketOptions options, std::unique_ptr<HttpClient> http)
    : options_(std::move(options)),
      scheme_(options_.insecure ? "http" : "https"),
      host_(options_.force_path_style ? options_.endpoint
                                      : StrCat(options_.bucket, ".", options_.endpoint)),
      path_prefix_(options_.force_path_style ? StrCat("/", options_.bucket) : ""),
      name_(StrCat("s3://", options_.bucket, " at ", scheme_, "://", options_.endpoint)),
      http_(std::move(http)) {}

absl::StatusOr<HttpResponse> S3Bucket::Send(HttpRequest request, std::string_view key,
                                            const Query& query, std::string payload_hash) {
  std::string path = path_prefix_;
  if (!key.empty() || path.empty()) path += StrCat("/", key);
  std::string query_string;
  for (const auto& [name, value] : query) {
    query_string += StrCat(query_string.empty() ? "?" : "&", UriEncode(name, false), "=",
                           UriEncode(value, false));
  }
  request.url = StrCat(scheme_, "://", host_, UriEncode(path, true), query_string);
  if (payload_hash.empty()) payload_hash = Sha256Hex(request.body);
  const absl::Time now = absl::Now();
  request.headers.emplace_back("Host", host_);
  request.headers.emplace_back("X-Amz-Date", AmzDate(now));
  request.headers.emplace_back("X-Amz-Content-Sha256", payload_hash);
  if (!options_.credentials.session_token.empty()) {
    request.headers.emplace_back("X-Amz-Security-Token", options_.credentials.session_token);
  }
  if (!options_.credentials.access_key_id.empty()) {
    SigV4Request to_sign{.method = request.method,
                         .path = path,
                         .query = query,
                         .headers = request.headers,
                         .payload_hash = payload_hash};
    request.headers.emplace_back("Authorization", SigV4Authorization(to_sign, options_.credentials,
                                                                     options_.region, "s3", now));
  }
  request.headers.emplace_back("User-Agent", "embers/" EMBERS_VERSION);
  return http_->Send(request);
}

void S3Bucket::AddEncryptionHeaders(HttpRequest& request) const {
  if (options_.sse_type == "SSE-S3") {
    request.headers.emplace_back("x-amz-server-side-encryption", "AES256");
  } else if (options_.sse_type == "SSE-KMS") {
    request.headers.emplace_back("x-amz-server-side-encryption", "aws:kms");
    request.headers.emplace_back("x-amz-server-side-encryption-aws-kms-key-id",
                                 options_.sse_kms_key_id);
    if (!options_.sse_kms_encryption_context.empty()) {
      request.headers.emplace_back("x-amz-server-side-encryption-context",
                                   absl::Base64Escape(options_.sse_kms_encryption_context));
    }
  }
}

absl::Status S3Bucket::Failure(std::string_view operation, std::string_view key,
                               const HttpResponse& response) const {
  absl::Status s = S3ErrorStatus({.operation = operation, .bucket = name_, .key = key},
                                 response.status, response.body);
  // A missing object reads the same from every backend (HEAD answers carry no error code).
  if (s.code() == absl::StatusCode::kNotFound && !key.empty()) {
    const std::optional<S3ErrorDocument> doc = ParseS3Error(response.body);
    if (!doc.has_value() || doc->code == "NoSuchKey") return ObjectNotFoundError(name_, key);
  }
  return s;
}

absl::StatusOr<std::string> S3Bucket::Get(std::string_view key) {
  EMBERS_RETURN_IF_ERROR(ValidateKey(key));
  EMBERS_ASSIGN_OR_RETURN(HttpResponse response, Send({.method = "GET"}, key, {}));
  if (response.status != 200) return Failure("GetObject", key, response);
  return std::move(response.body);
}

absl::StatusOr<std::string> S3Bucket::GetRange(std::string_view key, uint64_t offset,
                                               uint64_t length) {
  EMBERS_RETURN_IF_ERROR(ValidateKey(key));
  if (length == 0) {  // no bytes to read: only the size matters
    EMBERS_ASSIGN_OR_RETURN(uint64_t size, Head(key));
    if (offset > size) return RangeStartPastEndError(name_, key, offset, size);
    return std::string();
  }
  if (offset > kMaxRangeEnd) return RangeAtOrPastEnd(key, offset);
  HttpRequest request{.method = "GET", .headers = {{"Range", RangeHeaderValue(offset, length)}}};
  // An empty object has no satisfiable range: AWS answers 416, but s3rver 3.7 answers 206 with a
  // Content-Range of "*/0"-like "bytes 0-0/0" and a promised byte it never sends. Either way the
  // headers tell all, so the body is not waited for.
  request.want_body = [](const HttpResponse& r) {
    int64_t first = 0, complete = 0;
    const std::optional<std::string_view> content_range = r.Header("content-range");
    return !(r.status == 206 && content_range.has_value() &&
             ParseContentRange(*content_range, &first, &complete) && complete == 0);
  };
  EMBERS_ASSIGN_OR_RETURN(HttpResponse response, Send(std::move(request), key, {}));
  if (response.status == 416 || (response.status == 206 && response.body_skipped)) {
    return RangeAtOrPastEnd(key, offset);
  }
  if (response.status != 200 && response.status != 206) {
    return Failure("GetObject", key, response);
  }
  // A 200: the store ignored the Range header. More than asked: s3rver answers bytes=0-0 with
  // the whole object.
  return RangedAnswerBytes(std::move(response), name_, key, offset, length,
                           StrCat("S3 GetObject of \"", key, "\" in bucket ", name_));
}

absl::StatusOr<std::string> S3Bucket::RangeAtOrPastEnd(std::string_view key, uint64_t offset) {
  EMBERS_ASSIGN_OR_RETURN(uint64_t size, Head(key));
  if (offset > size) return RangeStartPastEndError(name_, key, offset, size);
  if (offset == size) return std::string();
  // The object was replaced by a larger one between the two requests.
  return absl::AbortedError(StrCat("S3 GetObject of \"", key, "\" in bucket ", name_,
                                   ": the object changed while it was read; try again"));
}

absl::StatusOr<uint64_t> S3Bucket::Head(std::string_view key) {
  EMBERS_ASSIGN_OR_RETURN(HttpResponse response, Send({.method = "HEAD"}, key, {}));
  if (response.status != 200) return Failure("HeadObject", key, response);
  int64_t size = 0;
  const std::optional<std::string_view> length = response.Header("content-length");
  if (!length.has_value() || !ParseInt64(*length, &size) || size < 0) {
    return absl::InternalError(StrCat("S3 HeadObject of \"", key, "\" in bucket ", name_,
                                      ": no valid Content-Length in the answer"));
  }
  return static_cast<uint64_t>(size);
}

absl::Status S3Bucket::Put(std::string_view key, std::string_view data) {
  EMBERS_RETURN_IF_ERROR(ValidateKey(key));
  HttpRequest request{.method = "PUT", .body = data};
  AddEncryptionHeaders(request);
  EMBERS_ASSIGN_OR_RETURN(HttpResponse response, Send(std::move(request), key, {}));
  if (!IsSuccess(response.status)) return Failure("PutObject", key, response);
  return absl::OkStatus();
}

absl::Status S3Bucket::PutFile(std::string_view key, const std::string& path) {
  EMBERS_RETURN_IF_ERROR(ValidateKey(key));
  EMBERS_ASSIGN_OR_RETURN(LocalFileReader file, LocalFileReader::Open(path));
  if (file.size() > options_.part_size) return MultipartUpload(key, file);
  std::string etag;
  return PutFileRange(key, file, 0, file.size(), {}, &etag);
}

absl::Status S3Bucket::PutFileRange(std::string_view key, const LocalFileReader& file,
                                    uint64_t offset, uint64_t size, const Query& query,
                                    std::string* etag) {
  // The hash is signed before the body is sent, so the file is read twice (the second time
  // mostly from the page cache) rather than held in memory.
  EMBERS_ASSIGN_OR_RETURN(std::string hash, HashFileRange(file, offset, size));
  HttpRequest request{.method = "PUT",
                      .file_body = FileBody{.fd = file.fd(), .offset = offset, .size = size}};
  if (query.empty()) AddEncryptionHeaders(request);  // a whole object, not a part
  absl::StatusOr<HttpResponse> response = Send(std::move(request), key, query, std::move(hash));
  if (!response.ok()) return Annotate(response.status(), StrCat("uploading \"", file.path(), "\""));
  if (!IsSuccess(response->status)) {
    return Failure(query.empty() ? "PutObject" : "UploadPart", key, *response);
  }
  *etag = std::string(response->Header("etag").value_or(""));
  return absl::OkStatus();
}

absl::Status S3Bucket::MultipartUpload(std::string_view key, const LocalFileReader& file) {
  const uint64_t size = file.size();
  // Parts of part_size, larger when the file would otherwise need more than S3's 10000 parts.
  const uint64_t part_size = std::max(options_.part_size, (size + kMaxParts - 1) / kMaxParts);
  HttpRequest initiate{.method = "POST"};
  AddEncryptionHeaders(initiate);
  EMBERS_ASSIGN_OR_RETURN(HttpResponse initiated,
                          Send(std::move(initiate), key, {{"uploads", ""}}));
  if (!IsSuccess(initiated.status)) return Failure("CreateMultipartUpload", key, initiated);
  absl::StatusOr<std::string> upload_id = ParseInitiateMultipartUpload(initiated.body);
  if (!upload_id.ok()) {
    return Annotate(upload_id.status(),
                    StrCat("S3 CreateMultipartUpload of \"", key, "\" in bucket ", name_));
  }
  auto upload = [&]() -> absl::Status {
    std::vector<std::string> etags;
    for (uint64_t offset = 0; offset < size; offset += part_size) {
      std::string etag;
      EMBERS_RETURN_IF_ERROR(PutFileRange(
          key, file, offset, std::min(part_size, size - offset),
          {{"partNumber", StrCat(etags.size() + 1)}, {"uploadId", *upload_id}}, &etag));
      if (etag.empty()) {
        return absl::InternalError(
            StrCat("S3 UploadPart of \"", key, "\" in bucket ", name_, ": no ETag in the answer"));
      }
      etags.push_back(std::move(etag));
    }
    const std::string body = CompleteMultipartUploadBody(etags);
    EMBERS_ASSIGN_OR_RETURN(HttpResponse completed, Send({.method = "POST", .body = body}, key,
                                                         {{"uploadId", *upload_id}}));
    // CompleteMultipartUpload may fail after its 200 has been sent: the error is in the body.
    if (!IsSuccess(completed.status) || ParseS3Error(completed.body).has_value()) {
      return Failure("CompleteMultipartUpload", key,
                     IsSuccess(completed.status)
                         ? HttpResponse{.status = 500, .body = completed.body}
                         : completed);
    }
    return absl::OkStatus();
  };
  absl::Status status = upload();
  if (status.ok()) return status;
  // Parts of an upload that is neither completed nor aborted are stored (and billed) forever.
  absl::StatusOr<HttpResponse> aborted =
      Send({.method = "DELETE"}, key, {{"uploadId", *upload_id}});
  if (!aborted.ok() || (!IsSuccess(aborted->status) && aborted->status != 404)) {
    log::Warn("S3 AbortMultipartUpload failed; the parts stay until a lifecycle rule removes them",
              {{"bucket", name_},
               {"key", key},
               {"upload_id", *upload_id},
               {"error",
                aborted.ok() ? Failure("AbortMultipartUpload", key, *aborted) : aborted.status()}});
  }
  return status;
}

absl::Status S3Bucket::Delete(std::string_view key) {
  EMBERS_RETURN_IF_ERROR(ValidateKey(key));
  EMBERS_ASSIGN_OR_RETURN(HttpResponse response, Send({.method = "DELETE"}, key, {}));
  if (IsSuccess(response.status)) return absl::OkStatus();
  // S3 answers 204 for a missing key too; some compatible stores answer 404 NoSuchKey.
  absl::Status s = Failure("DeleteObject", key, response);
  return s.code() == absl::StatusCode::kNotFound ? absl::OkStatus() : s;
}

absl::Status S3Bucket::DeleteMany(std::span<const std::string> keys) {
  for (const std::string& key : keys) EMBERS_RETURN_IF_ERROR(ValidateKey(key));
  for (size_t start = 0; start < keys.size(); start += kMaxKeysPerDeleteObjects) {
    const std::span<const std::string> batch =
        keys.subspan(start, std::min(kMaxKeysPerDeleteObjects, keys.size() - start));
    if (batch.size() == 1) {  // one DELETE costs the store less than a batch of one
      EMBERS_RETURN_IF_ERROR(Delete(batch.front()));
      continue;
    }
    const std::string body = DeleteObjectsBody(batch);
    HttpRequest request{.method = "POST", .body = body};
    request.headers.emplace_back("Content-MD5", ContentMd5(body));
    request.headers.emplace_back("Content-Type", "application/xml");
    EMBERS_ASSIGN_OR_RETURN(HttpResponse response, Send(std::move(request), "", {{"delete", ""}}));
    if (!IsSuccess(response.status)) return Failure("DeleteObjects", "", response);
    // A 200 may still list keys the store did not delete (AccessDenied, InternalError, …); a key
    // that was already gone is no failure, as with Delete.
    absl::StatusOr<std::vector<DeleteObjectsError>> errors = ParseDeleteResult(response.body);
    if (!errors.ok()) {
      return absl::UnavailableError(
          StrCat("DeleteObjects on ", name_, ": unreadable answer: ", errors.status().message()));
    }
    std::erase_if(*errors, [](const DeleteObjectsError& e) { return e.code == "NoSuchKey"; });
    if (!errors->empty()) {
      const DeleteObjectsError& first = errors->front();
      return absl::Status(
          CodeForS3Error(first.code, 500),
          StrCat("DeleteObjects on ", name_, ": ", errors->size(), " of ", batch.size(),
                 " keys not deleted; key \"", first.key, "\": ", first.code, ": ", first.message));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> S3Bucket::Exists(std::string_view key) {
  EMBERS_RETURN_IF_ERROR(ValidateKey(key));
  absl::StatusOr<uint64_t> size = Head(key);
  if (size.ok()) return true;
  if (size.status().code() == absl::StatusCode::kNotFound) return false;
  return size.status();
}

absl::StatusOr<uint64_t> S3Bucket::Size(std::string_view key) {
  EMBERS_RETURN_IF_ERROR(ValidateKey(key));
  return Head(key);
}

absl::StatusOr<std::pair<std::vector<std::string>, std::string>> S3Bucket::ListPage(
    std::string_view prefix, const std::string& token, int max_keys, int max_attempts) {
  Query query = {{"list-type", "2"}, {"max-keys", StrCat(max_keys)}, {"encoding-type", "url"}};
  if (!prefix.empty()) query.emplace_back("prefix", std::string(prefix));
  if (!token.empty()) query.emplace_back("continuation-token", token);
  EMBERS_ASSIGN_OR_RETURN(HttpResponse response,
                          Send({.method = "GET", .max_attempts = max_attempts}, "", query));
  if (response.status != 200) return Failure("ListObjectsV2", "", response);
  absl::StatusOr<ListObjectsPage> page = ParseListObjectsV2(response.body);
  if (!page.ok()) {
    return Annotate(page.status(), StrCat("S3 ListObjectsV2 in bucket ", name_));
  }
  return std::make_pair(std::move(page->keys), std::move(page->next_continuation_token));
}

absl::Status S3Bucket::List(std::string_view prefix, ListCallback callback) {
  EMBERS_RETURN_IF_ERROR(ValidateListPrefix(prefix));
  std::string token;
  do {
    // The whole page is in hand before the first callback, so a callback that deletes or reads
    // keys sends its own requests (no connection is held across it).
    EMBERS_ASSIGN_OR_RETURN(auto page, ListPage(prefix, token, options_.list_page_size));
    for (const std::string& key : page.first) {
      EMBERS_RETURN_IF_ERROR(callback(key));
    }
    token = std::move(page.second);
  } while (!token.empty());
  return absl::OkStatus();
}

}  // namespace embers::objstore::s3
