// The XML documents Azure Blob Storage answers with, read into what AzureBucket needs, and the
// one document it sends (Put Block List).
//
// Used by azure_bucket.cc (and azure_errors.cc for <Error>). Parsing is separate from the HTTP
// exchange so that it is unit-tested on recorded answers of Azure and azurite and fuzzed
// (azure_xml_fuzzer.cc): these bytes come from the network.
#ifndef EMBERS_OBJSTORE_AZURE_AZURE_RESPONSES_H_
#define EMBERS_OBJSTORE_AZURE_AZURE_RESPONSES_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace embers::objstore::azure {

// <Error><Code>BlobNotFound</Code><Message>…</Message></Error>, with
// <AuthenticationErrorDetail> when a signature was refused.
struct AzureErrorDocument {
  std::string code;
  // Its lines joined by "; ", without the "RequestId:" and "Time:" lines Azure appends: they
  // differ on every answer, and the message of a repeated error must not (the server logs an
  // unchanged start-up error once).
  std::string message;
  std::string request_id;
  std::string authentication_detail;
};

// The error `body` carries, or nullopt when it is not an <Error> document (HEAD answers have no
// body; a proxy may answer with HTML).
std::optional<AzureErrorDocument> ParseAzureError(std::string_view body);

// One page of List Blobs.
struct ListBlobsPage {
  std::vector<std::string> names;
  std::string next_marker;  // empty on the last page
};

// InvalidArgument when `body` is not an EnumerationResults document, or a <Blob> lacks its
// <Name>.
absl::StatusOr<ListBlobsPage> ParseListBlobs(std::string_view body);

// The body of Put Block List committing `block_ids` (base64, as sent with Put Block) in order.
std::string BlockListBody(const std::vector<std::string>& block_ids);

// One sub-request of a Blob Batch: its request line and headers (already signed).
struct BatchSubRequest {
  std::string method;  // "DELETE"
  std::string path;    // encoded, as the URL would carry it
  std::vector<std::pair<std::string, std::string>> headers;
};

// The multipart/mixed body of a Blob Batch with these sub-requests (Content-ID 0, 1, …).
std::string BlobBatchBody(std::string_view boundary, const std::vector<BatchSubRequest>& requests);

// What the store answered one sub-request: its status and x-ms-error-code (may be empty).
// content_id is -1 for an answer without one (the whole batch refused).
struct BatchSubResponse {
  int content_id = -1;
  int status = 0;
  std::string error_code;
};

// The sub-responses of a Blob Batch answer whose Content-Type is `content_type`
// ("multipart/mixed; boundary=…"). InvalidArgument when it is not such a body.
absl::StatusOr<std::vector<BatchSubResponse>> ParseBlobBatchResponse(std::string_view content_type,
                                                                     std::string_view body);

}  // namespace embers::objstore::azure

#endif  // EMBERS_OBJSTORE_AZURE_AZURE_RESPONSES_H_
