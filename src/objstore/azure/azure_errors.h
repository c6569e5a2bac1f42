// AzureErrorStatus: the absl::Status for a request Azure Blob Storage (or azurite) refused.
//
// Used by azure_bucket.cc for every non-success answer. The store's error code (the
// x-ms-error-code header, which HEAD answers carry too, else the <Error> document's Code, else
// the HTTP status) picks the canonical code, so callers can tell a missing blob (NotFound) from a
// missing container (FailedPrecondition: a deployment error, never "the object is gone"), a wrong
// key (Unauthenticated), missing rights (PermissionDenied) and a busy or failing store
// (Unavailable). The message names the operation, the container, the key, the HTTP status and the
// store's code and message, plus a hint for the errors operators meet at start-up.
#ifndef EMBERS_OBJSTORE_AZURE_AZURE_ERRORS_H_
#define EMBERS_OBJSTORE_AZURE_AZURE_ERRORS_H_

#include <string_view>

#include "absl/status/status.h"

namespace embers::objstore::azure {

struct AzureErrorContext {
  std::string_view operation;  // the REST API name: "GetBlob", "ListBlobs", …
  std::string_view container;  // the bucket's Name()
  std::string_view key;        // may be empty (container-level operations)
};

// The canonical code for the store's `azure_code` (may be empty) and `http_status`.
absl::StatusCode CodeForAzureError(std::string_view azure_code, int http_status);

// The status for an answer with `http_status`, the x-ms-error-code header (may be empty) and
// `body` (an <Error> document, anything else, or nothing).
absl::Status AzureErrorStatus(const AzureErrorContext& context, int http_status,
                              std::string_view error_code_header, std::string_view body);

}  // namespace embers::objstore::azure

#endif  // EMBERS_OBJSTORE_AZURE_AZURE_ERRORS_H_
