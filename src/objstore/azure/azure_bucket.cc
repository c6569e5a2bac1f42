#include "objstore/azure/azure_bucket.h"

#include <algorithm>
#include <random>
#include <utility>

#include "absl/strings/escaping.h"
#include "base/status.h"
#include "base/strings.h"
#include "objstore/azure/azure_errors.h"
#include "objstore/azure/azure_responses.h"
#include "objstore/azure/shared_key.h"
#include "objstore/http/store_answers.h"
#include "objstore/local_file.h"

namespace embers::objstore::azure {

using ::embers::objstore::http::FileBody;
using ::embers::objstore::http::kMaxRangeEnd;
using ::embers::objstore::http::RangedAnswerBytes;
using ::embers::objstore::http::RangeHeaderValue;
namespace {

constexpr uint64_t kMinPartSize = 1ull << 20;
constexpr uint64_t kMaxPartSize = 4000ull << 20;  // Put Block's limit
constexpr uint64_t kMaxBlocks = 50000;            // committed blocks per blob at most

bool IsSuccess(int status) { return status >= 200 && status < 300; }

// A random 16-hex-digit id per block upload: its block ids cannot collide with those of another
// upload of the same key running at the same time or failed before.
std::string UploadId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return Hex(rng());
}

// Block ids must be base64 and of one length within a blob: "embers-<upload>-<8 digits>".
std::string BlockId(const std::string& upload_id, uint64_t index) {
  std::string number = StrCat(index);
  number.insert(0, 8 - std::min<size_t>(8, number.size()), '0');
  return absl::Base64Escape(ToAbsl(StrCat("embers-", upload_id, "-", number)));
}

absl::Status BackslashError(std::string_view key) {
  return absl::InvalidArgumentError(
      StrCat("key \"", key,
             "\" has a '\\': Azure Blob Storage turns it into '/', so the blob would be listed "
             "under another name (and collide with that key)"));
}

// ValidateKey, and no backslash: Azure (and azurite) store "a\\b" as "a/b".
absl::Status ValidateAzureKey(std::string_view key) {
  EMBERS_RETURN_IF_ERROR(ValidateKey(key));
  if (key.find('\\') != std::string_view::npos) return BackslashError(key);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<AzureBucket>> AzureBucket::Open(AzureBucketOptions options) {
  if (options.container.empty()) {
    return absl::InvalidArgumentError("Azure: the container name is empty");
  }
  if (options.account_key.empty() == options.sas_token.empty()) {
    return absl::InvalidArgumentError(
        "Azure: give either an account key or a SAS token (exactly one of them)");
  }
  std::string key;
  if (!options.account_key.empty()) {
    if (options.account_name.empty()) {
      return absl::InvalidArgumentError("Azure: the storage account name is empty");
    }
    absl::StatusOr<std::string> decoded = DecodeAccountKey(options.account_key);
    if (!decoded.ok()) return decoded.status();
    key = std::move(*decoded);
  }
  if (options.sas_token.find_first_of("?#") != std::string::npos) {
    return absl::InvalidArgumentError("Azure: the SAS token must be a query without '?' or '#'");
  }
  while (!options.endpoint_url.empty() && options.endpoint_url.back() == '/') {
    options.endpoint_url.pop_back();
  }
  const size_t scheme_end = options.endpoint_url.find("://");
  const std::string_view scheme = std::string_view(options.endpoint_url).substr(0, scheme_end);
  if (scheme_end == std::string::npos || (scheme != "http" && scheme != "https") ||
      scheme_end + 3 >= options.endpoint_url.size()) {
    return absl::InvalidArgumentError(
        StrCat("Azure: endpoint \"", options.endpoint_url, "\" is not an http:// or https:// URL"));
  }
  const size_t path_start = options.endpoint_url.find('/', scheme_end + 3);
  std::string endpoint_path =
      path_start == std::string::npos ? "" : options.endpoint_url.substr(path_start);
  if (options.endpoint_url.find_first_of("?#") != std::string::npos) {
    return absl::InvalidArgumentError(
        StrCat("Azure: endpoint \"", options.endpoint_url, "\" has a query or fragment"));
  }
  if (options.part_size < kMinPartSize || options.part_size > kMaxPartSize) {
    return absl::InvalidArgumentError(StrCat("Azure: part size ", options.part_size,
                                             " is outside [1 MiB, 4000 MiB], Put Block's limits"));
  }
  if (options.list_page_size < 1 || options.list_page_size > 5000) {
    return absl::InvalidArgumentError("Azure: list page size must be from 1 to 5000");
  }
  absl::StatusOr<std::unique_ptr<HttpClient>> http = HttpClient::Create(options.http);
  if (!http.ok()) return http.status();
  std::unique_ptr<AzureBucket> bucket(new AzureBucket(std::move(options), std::move(key),
                                                      std::move(endpoint_path), std::move(*http)));
  // One request that needs the endpoint, the account, the container and a valid key, tried twice
  // only: a misconfiguration must fail start-up quickly, not after minutes of retries.
  absl::StatusOr<std::pair<std::vector<std::string>, std::string>> probe =
      bucket->ListPage("", "", 1, 2);
  if (!probe.ok()) {
    return Annotate(probe.status(), StrCat("opening Azure container ", bucket->Name()));
  }
  return bucket;
}

AzureBucket::AzureBucket(AzureBucketOptions options, std::string decoded_key,
                         std::string endpoint_path, std::unique_ptr<HttpClient> http)
    : options_(std::move(options)),
      decoded_key_(std::move(decoded_key)),
      endpoint_path_(std::move(endpoint_path)),
      name_(StrCat("azure://", options_.account_name, options_.account_name.empty() ? "" : "/",
                   options_.container, " at ", options_.endpoint_url)),
      http_(std::move(http)) {}

absl::StatusOr<HttpResponse> AzureBucket::Send(HttpRequest request, std::string_view key,
                                               const Query& query) {
  std::string path = StrCat(endpoint_path_, "/", AzureUriEncode(options_.container, false));
  if (!key.empty()) path += StrCat("/", AzureUriEncode(key, true));
  std::string query_string;
  for (const auto& [name, value] : query) {
    query_string += StrCat(query_string.empty() ? "?" : "&", AzureUriEncode(name, false), "=",
                           AzureUriEncode(value, false));
  }
  // A SAS token is the authorization: it goes with every request, already encoded.
  if (!options_.sas_token.empty()) {
    query_string += StrCat(query_string.empty() ? "?" : "&", options_.sas_token);
  }
  request.url =
      StrCat(options_.endpoint_url.substr(0, options_.endpoint_url.size() - endpoint_path_.size()),
             path, query_string);
  request.headers.emplace_back("x-ms-date", AzureDate(absl::Now()));
  request.headers.emplace_back("x-ms-version", std::string(kAzureApiVersion));
  if (options_.sas_token.empty()) {
    SharedKeyRequest to_sign{
        .method = request.method, .encoded_path = path, .query = query, .headers = request.headers};
    // libcurl sends the Content-Length of every upload; it is part of what is signed.
    if (request.method == "PUT" || request.method == "POST") {
      const uint64_t size =
          request.file_body.has_value() ? request.file_body->size : request.body.size();
      to_sign.headers.emplace_back("Content-Length", StrCat(size));
    }
    request.headers.emplace_back(
        "Authorization", SharedKeyAuthorization(to_sign, options_.account_name, decoded_key_));
  }
  request.headers.emplace_back("User-Agent", "embers/" EMBERS_VERSION);
  return http_->Send(request);
}

absl::Status AzureBucket::Failure(std::string_view operation, std::string_view key,
                                  const HttpResponse& response) const {
  const std::string_view code = response.Header("x-ms-error-code").value_or("");
  absl::Status s = AzureErrorStatus({.operation = operation, .container = name_, .key = key},
                                    response.status, code, response.body);
  // A missing blob reads the same from every backend.
  if (s.code() == absl::StatusCode::kNotFound && !key.empty())
    return ObjectNotFoundError(name_, key);
  return s;
}

absl::StatusOr<std::string> AzureBucket::Get(std::string_view key) {
  EMBERS_RETURN_IF_ERROR(ValidateAzureKey(key));
  EMBERS_ASSIGN_OR_RETURN(HttpResponse response, Send({.method = "GET"}, key, {}));
  if (response.status != 200) return Failure("GetBlob", key, response);
  return std::move(response.body);
}

absl::StatusOr<std::string> AzureBucket::GetRange(std::string_view key, uint64_t offset,
                                                  uint64_t length) {
  EMBERS_RETURN_IF_ERROR(ValidateAzureKey(key));
  if (length == 0) {  // no bytes to read: only the size matters
    EMBERS_ASSIGN_OR_RETURN(uint64_t size, Head(key));
    if (offset > size) return RangeStartPastEndError(name_, key, offset, size);
    return std::string();
  }
  if (offset > kMaxRangeEnd) return RangeAtOrPastEnd(key, offset);
  EMBERS_ASSIGN_OR_RETURN(
      HttpResponse response,
      Send({.method = "GET", .headers = {{"x-ms-range", RangeHeaderValue(offset, length)}}}, key,
           {}));
  if (response.status == 416) return RangeAtOrPastEnd(key, offset);
  if (response.status != 200 && response.status != 206) return Failure("GetBlob", key, response);
  // A 200: the whole blob came (a store that ignored the range).
  return RangedAnswerBytes(std::move(response), name_, key, offset, length,
                           StrCat("Azure GetBlob of \"", key, "\" in container ", name_));
}

absl::StatusOr<std::string> AzureBucket::RangeAtOrPastEnd(std::string_view key, uint64_t offset) {
  EMBERS_ASSIGN_OR_RETURN(uint64_t size, Head(key));
  if (offset > size) return RangeStartPastEndError(name_, key, offset, size);
  if (offset == size) return std::string();
  // The blob was replaced by a larger one between the two requests.
  return absl::AbortedError(StrCat("Azure GetBlob of \"", key, "\" in container ", name_,
                                   ": the blob changed while it was read; try again"));
}

absl::StatusOr<uint64_t> AzureBucket::Head(std::string_view key) {
  EMBERS_ASSIGN_OR_RETURN(HttpResponse response, Send({.method = "HEAD"}, key, {}));
  if (response.status != 200) return Failure("GetBlobProperties", key, response);
  int64_t size = 0;
  const std::optional<std::string_view> length = response.Header("content-length");
  if (!length.has_value() || !ParseInt64(*length, &size) || size < 0) {
    return absl::InternalError(StrCat("Azure GetBlobProperties of \"", key, "\" in container ",
                                      name_, ": no valid Content-Length in the answer"));
  }
  return static_cast<uint64_t>(size);
}

absl::Status AzureBucket::Put(std::string_view key, std::string_view data) {
  EMBERS_RETURN_IF_ERROR(ValidateAzureKey(key));
  EMBERS_ASSIGN_OR_RETURN(
      HttpResponse response,
      Send({.method = "PUT", .headers = {{"x-ms-blob-type", "BlockBlob"}}, .body = data}, key, {}));
  if (!IsSuccess(response.status)) return Failure("PutBlob", key, response);
  return absl::OkStatus();
}

absl::Status AzureBucket::PutFile(std::string_view key, const std::string& path) {
  EMBERS_RETURN_IF_ERROR(ValidateAzureKey(key));
  EMBERS_ASSIGN_OR_RETURN(LocalFileReader file, LocalFileReader::Open(path));
  if (file.size() > options_.part_size) return BlockUpload(key, file);
  return PutFileRange(key, file, 0, file.size(), "");
}

absl::Status AzureBucket::PutFileRange(std::string_view key, const LocalFileReader& file,
                                       uint64_t offset, uint64_t size,
                                       const std::string& block_id) {
  HttpRequest request{.method = "PUT",
                      .file_body = FileBody{.fd = file.fd(), .offset = offset, .size = size}};
  Query query;
  if (block_id.empty()) {
    request.headers.emplace_back("x-ms-blob-type", "BlockBlob");
  } else {
    query = {{"comp", "block"}, {"blockid", block_id}};
  }
  absl::StatusOr<HttpResponse> response = Send(std::move(request), key, query);
  if (!response.ok()) return Annotate(response.status(), StrCat("uploading \"", file.path(), "\""));
  if (!IsSuccess(response->status)) {
    return Failure(block_id.empty() ? "PutBlob" : "PutBlock", key, *response);
  }
  return absl::OkStatus();
}

absl::Status AzureBucket::BlockUpload(std::string_view key, const LocalFileReader& file) {
  const uint64_t size = file.size();
  // Blocks of part_size, larger when the file would otherwise need more than 50000.
  const uint64_t part_size = std::max(options_.part_size, (size + kMaxBlocks - 1) / kMaxBlocks);
  const std::string upload_id = UploadId();
  std::vector<std::string> block_ids;
  for (uint64_t offset = 0; offset < size; offset += part_size) {
    block_ids.push_back(BlockId(upload_id, block_ids.size()));
    // A failed block leaves the blob as it was: the blocks staged so far are never committed.
    EMBERS_RETURN_IF_ERROR(
        PutFileRange(key, file, offset, std::min(part_size, size - offset), block_ids.back()));
  }
  const std::string body = BlockListBody(block_ids);
  EMBERS_ASSIGN_OR_RETURN(
      HttpResponse committed,
      Send({.method = "PUT", .headers = {{"Content-Type", "application/xml"}}, .body = body}, key,
           {{"comp", "blocklist"}}));
  if (!IsSuccess(committed.status)) return Failure("PutBlockList", key, committed);
  return absl::OkStatus();
}

absl::Status AzureBucket::Delete(std::string_view key) {
  EMBERS_RETURN_IF_ERROR(ValidateAzureKey(key));
  EMBERS_ASSIGN_OR_RETURN(HttpResponse response, Send({.method = "DELETE"}, key, {}));
  if (IsSuccess(response.status)) return absl::OkStatus();
  absl::Status s = Failure("DeleteBlob", key, response);
  return s.code() == absl::StatusCode::kNotFound ? absl::OkStatus() : s;
}

absl::Status AzureBucket::DeleteMany(std::span<const std::string> keys) {
  constexpr size_t kMaxPerBatch = 256;  // the service's limit of sub-requests per batch
  for (const std::string& key : keys) EMBERS_RETURN_IF_ERROR(ValidateAzureKey(key));
  if (!options_.sas_token.empty()) return Bucket::DeleteMany(keys);  // sub-requests need Shared Key
  const std::string container_path =
      StrCat(endpoint_path_, "/", AzureUriEncode(options_.container, false));
  for (size_t start = 0; start < keys.size(); start += kMaxPerBatch) {
    const std::span<const std::string> batch =
        keys.subspan(start, std::min(kMaxPerBatch, keys.size() - start));
    if (batch.size() == 1) {
      EMBERS_RETURN_IF_ERROR(Delete(batch.front()));
      continue;
    }
    // Each sub-request is signed on its own, without x-ms-version (the batch carries it).
    std::vector<BatchSubRequest> deletes;
    deletes.reserve(batch.size());
    const std::string date = AzureDate(absl::Now());
    for (const std::string& key : batch) {
      BatchSubRequest& d = deletes.emplace_back(
          BatchSubRequest{.method = "DELETE",
                          .path = StrCat(container_path, "/", AzureUriEncode(key, true)),
                          .headers = {{"x-ms-date", date}}});
      const SharedKeyRequest to_sign{
          .method = d.method, .encoded_path = d.path, .query = {}, .headers = d.headers};
      d.headers.emplace_back("Authorization",
                             SharedKeyAuthorization(to_sign, options_.account_name, decoded_key_));
      d.headers.emplace_back("Content-Length", "0");
    }
    const std::string boundary = StrCat("batch_", UploadId(), UploadId());
    const std::string body = BlobBatchBody(boundary, deletes);
    HttpRequest request{
        .method = "POST",
        .headers = {{"Content-Type", StrCat("multipart/mixed; boundary=", boundary)}},
        .body = body};
    EMBERS_ASSIGN_OR_RETURN(
        HttpResponse response,
        Send(std::move(request), "", {{"restype", "container"}, {"comp", "batch"}}));
    if (response.status != 202) return Failure("BlobBatch", "", response);
    absl::StatusOr<std::vector<BatchSubResponse>> answers =
        ParseBlobBatchResponse(response.Header("content-type").value_or(""), response.body);
    if (!answers.ok()) {
      return absl::UnavailableError(StrCat("Azure BlobBatch on ", name_,
                                           ": unreadable answer: ", answers.status().message()));
    }
    // Every key needs its 202, or a 404 (already gone, as with Delete).
    size_t deleted = 0;
    const BatchSubResponse* failed = nullptr;
    for (const BatchSubResponse& a : *answers) {
      if (a.content_id >= 0 && static_cast<size_t>(a.content_id) < batch.size() &&
          (a.status == 202 || a.status == 404)) {
        ++deleted;
      } else if (failed == nullptr) {
        failed = &a;
      }
    }
    if (failed != nullptr || deleted != batch.size()) {
      const std::string key = failed != nullptr && failed->content_id >= 0 &&
                                      static_cast<size_t>(failed->content_id) < batch.size()
                                  ? batch[static_cast<size_t>(failed->content_id)]
                                  : std::string();
      return absl::Status(
          failed != nullptr ? CodeForAzureError(failed->error_code, failed->status)
                            : absl::StatusCode::kUnavailable,
          StrCat("Azure BlobBatch on ", name_, ": ", batch.size() - deleted, " of ", batch.size(),
                 " blobs not deleted",
                 failed == nullptr
                     ? std::string()
                     : StrCat("; ",
                              key.empty() ? std::string("the batch") : StrCat("blob \"", key, "\""),
                              ": HTTP ", failed->status, " ", failed->error_code)));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> AzureBucket::Exists(std::string_view key) {
  EMBERS_RETURN_IF_ERROR(ValidateAzureKey(key));
  absl::StatusOr<uint64_t> size = Head(key);
  if (size.ok()) return true;
  if (size.status().code() == absl::StatusCode::kNotFound) return false;
  return size.status();
}

absl::StatusOr<uint64_t> AzureBucket::Size(std::string_view key) {
  EMBERS_RETURN_IF_ERROR(ValidateAzureKey(key));
  return Head(key);
}

absl::StatusOr<std::pair<std::vector<std::string>, std::string>> AzureBucket::ListPage(
    std::string_view prefix, const std::string& marker, int max_results, int max_attempts) {
  // Empty parameters are left out: the SDKs and azurite do not sign them (shared_key.h).
  Query query = {{"restype", "container"}, {"comp", "list"}};
  if (!prefix.empty()) query.emplace_back("prefix", std::string(prefix));
  if (!marker.empty()) query.emplace_back("marker", marker);
  query.emplace_back("maxresults", StrCat(max_results));
  EMBERS_ASSIGN_OR_RETURN(HttpResponse response,
                          Send({.method = "GET", .max_attempts = max_attempts}, "", query));
  if (response.status != 200) return Failure("ListBlobs", "", response);
  absl::StatusOr<ListBlobsPage> page = ParseListBlobs(response.body);
  if (!page.ok()) return Annotate(page.status(), StrCat("Azure ListBlobs in container ", name_));
  return std::make_pair(std::move(page->names), std::move(page->next_marker));
}

absl::Status AzureBucket::List(std::string_view prefix, ListCallback callback) {
  EMBERS_RETURN_IF_ERROR(ValidateListPrefix(prefix));
  if (prefix.find('\\') != std::string_view::npos) return BackslashError(prefix);
  // The store sorts names by UTF-16 code units (azurite does; Azure documents only "in
  // alphabetical order"). That is byte order for every name except where, at the first character
  // two names differ in, one has a character in U+E000..U+FFFF and the other one beyond U+FFFF
  // (an emoji, say): UTF-16 puts the latter first. Embers' own keys are ASCII. Reordering would
  // need the whole listing in memory, so such a listing fails instead of silently breaking the
  // byte order the Bucket contract promises; the previous key is all that is kept.
  std::string previous;
  std::string marker;
  do {
    // The whole page is in hand before the first callback, so a callback that deletes or reads
    // keys sends its own requests (no connection is held across it).
    EMBERS_ASSIGN_OR_RETURN(auto page, ListPage(prefix, marker, options_.list_page_size));
    for (std::string& key : page.first) {
      if (!previous.empty() && key <= previous) {
        return absl::InternalError(StrCat(
            "Azure ListBlobs in container ", name_, " listed \"", key, "\" after \"", previous,
            "\", out of byte order: the store orders names by UTF-16 code units, which differs for "
            "names that mix characters U+E000..U+FFFF and beyond U+FFFF at the same position; "
            "such keys are not supported by the Azure backend"));
      }
      EMBERS_RETURN_IF_ERROR(callback(key));
      previous = std::move(key);
    }
    marker = std::move(page.second);
  } while (!marker.empty());
  return absl::OkStatus();
}

}  // namespace embers::objstore::azure
