// AzureBucket: the Bucket on an Azure Blob Storage container (or azurite, Microsoft's emulator),
// selected with -storage.backend=azure.
//
// OpenBucket (bucket_config.h) builds it from the storage.azure.* options; every component then
// uses it through the Bucket interface. Requests are signed with the account key (Shared Key,
// shared_key.h), or carry a SAS token, over the pooled, retrying libcurl transport the S3 bucket
// uses too
// (http/http_client.h); the XML answers are read by azure_responses.h and errors mapped by
// azure_errors.h.
//
// How the Bucket contract maps onto Azure Blob:
// - Get/GetRange: Get Blob, with x-ms-range for ranges. Azure answers 416 for a range that starts
//   at or past the end (and for any range of an empty blob), so a 416 is settled with a HEAD:
//   offset == size is "", offset > size OutOfRange. More bytes than asked are cut.
// - Put: Put Blob (BlockBlob) in one request; Azure makes it visible whole or not at all.
// - PutFile: streamed from the file. Up to part_size one Put Blob; above, Put Block per part
//   (block ids unique to this upload, so concurrent uploads of one key never mix blocks), then
//   Put Block List. Nothing is visible until the list is committed; when a step fails nothing is
//   committed, and the uncommitted blocks are discarded by Azure (after a week, or at the next
//   commit of the blob) — Azure has no call to drop them sooner.
// - Delete: Delete Blob; BlobNotFound is OK.
// - Exists/Size: Get Blob Properties (HEAD).
// - List: List Blobs pages (prefix, marker, maxresults), in the store's order, which is byte
//   order for every key Embers writes. The one exception (names mixing characters U+E000..U+FFFF
//   and beyond U+FFFF at the same position, which the store sorts by UTF-16) fails the listing
//   with an error rather than breaking the order (see List in azure_bucket.cc). A whole page is
//   read before the callback sees its first key, so the callback may call back into the bucket.
// Every key is checked with ValidateKey first, as with every backend; keys with a backslash are
// refused too (InvalidArgument), since Azure stores '\' as '/' and the key would come back from a
// listing as another one.
#ifndef EMBERS_OBJSTORE_AZURE_AZURE_BUCKET_H_
#define EMBERS_OBJSTORE_AZURE_AZURE_BUCKET_H_

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

namespace embers::objstore::azure {

using ::embers::objstore::http::HttpClient;
using ::embers::objstore::http::HttpClientOptions;
using ::embers::objstore::http::HttpRequest;
using ::embers::objstore::http::HttpResponse;

// The REST API version every request asks for (x-ms-version).
inline constexpr std::string_view kAzureApiVersion = "2021-08-06";

struct AzureBucketOptions {
  // Signs the requests (with the key) and names the bucket; may be empty with a SAS token.
  std::string account_name;
  // The account key, base64 as the portal shows it; requests are signed with it (Shared Key).
  std::string account_key;
  // Or a shared access signature ("sv=…&sig=…", without '?'), appended to every request instead
  // of a signature. Exactly one of the two.
  std::string sas_token;
  std::string container;
  // The blob service endpoint: "https://<account>.blob.core.windows.net" (virtual-host style),
  // or a URL with the account as its path, as azurite serves it:
  // "http://127.0.0.1:10000/devstoreaccount1". No trailing '/'.
  std::string endpoint_url;
  // PutFile of a larger file is a block upload in blocks of this size (1 MiB to 4000 MiB).
  uint64_t part_size = 64ull << 20;
  // Blobs per List Blobs page (1 to 5000); tests use small pages to exercise markers.
  int list_page_size = 5000;
  HttpClientOptions http;
};

class AzureBucket : public Bucket {
 public:
  // Checks the options, then probes the container (List Blobs with maxresults=1), so that a wrong
  // key, a missing container or an unreachable endpoint is one clear error at start-up.
  static absl::StatusOr<std::unique_ptr<AzureBucket>> Open(AzureBucketOptions options);

  std::string_view Name() const override { return name_; }
  absl::StatusOr<std::string> Get(std::string_view key) override;
  absl::StatusOr<std::string> GetRange(std::string_view key, uint64_t offset,
                                       uint64_t length) override;
  absl::Status Put(std::string_view key, std::string_view data) override;
  absl::Status PutFile(std::string_view key, const std::string& path) override;
  absl::Status Delete(std::string_view key) override;
  // Blob Batch (container-scoped), 256 deletes a request (a single key: Delete Blob).
  absl::Status DeleteMany(std::span<const std::string> keys) override;
  absl::StatusOr<bool> Exists(std::string_view key) override;
  absl::StatusOr<uint64_t> Size(std::string_view key) override;
  absl::Status List(std::string_view prefix, ListCallback callback) override;

 private:
  using Query = std::vector<std::pair<std::string, std::string>>;

  AzureBucket(AzureBucketOptions options, std::string decoded_key, std::string endpoint_path,
              std::unique_ptr<HttpClient> http);

  // Signs and sends one request. `key` empty addresses the container itself; `query` is raw
  // (encoded here).
  absl::StatusOr<HttpResponse> Send(HttpRequest request, std::string_view key, const Query& query);
  // The status for an answer that is not a success.
  absl::Status Failure(std::string_view operation, std::string_view key,
                       const HttpResponse& response) const;
  // Get Blob Properties: the size, NotFound, or the error.
  absl::StatusOr<uint64_t> Head(std::string_view key);
  // Settles a ranged read the store answered with 416 (see the header comment).
  absl::StatusOr<std::string> RangeAtOrPastEnd(std::string_view key, uint64_t offset);
  // Put Blob of the whole file, or Put Block of `size` bytes from `offset` when `block_id` is set.
  absl::Status PutFileRange(std::string_view key, const LocalFileReader& file, uint64_t offset,
                            uint64_t size, const std::string& block_id);
  absl::Status BlockUpload(std::string_view key, const LocalFileReader& file);
  // A page of names under `prefix`, after `marker` (empty: the first page), and the next marker.
  absl::StatusOr<std::pair<std::vector<std::string>, std::string>> ListPage(
      std::string_view prefix, const std::string& marker, int max_results, int max_attempts = 0);

  const AzureBucketOptions options_;
  const std::string decoded_key_;
  const std::string endpoint_path_;  // the endpoint URL's path: "" or "/devstoreaccount1"
  const std::string name_;
  const std::unique_ptr<HttpClient> http_;
};

}  // namespace embers::objstore::azure

#endif  // EMBERS_OBJSTORE_AZURE_AZURE_BUCKET_H_
