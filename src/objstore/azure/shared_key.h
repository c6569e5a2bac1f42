// Azure Storage "Shared Key" authorization: the Authorization header that authenticates one
// request to Azure Blob Storage (or azurite) with the storage account's key.
//
// Used by AzureBucket (azure_bucket.h) for every request it sends. Pure functions of their inputs
// (no clock, no I/O), so they are checked by shared_key_test.cpp and against the Azure SDK's own
// signer (StorageSharedKeyCredential of @azure/storage-blob) over generated requests
// (tests/node/azure_sign.test.mjs drives the azure_sign tool built from azure_sign_tool.cc).
//
// The string to sign (service version 2015-02-21 and later) is the method, eleven standard header
// values (Content-Length empty when 0), the x-ms-* headers and the canonicalized resource
// ("/<account><encoded path>" plus the query parameters, lower-cased, sorted, decoded). Where the
// documentation and the implementations disagree we follow what the service, the SDK and
// azurite do: x-ms-* header names are sorted as .NET's en-US culture compares them (hyphens
// ignored at first), values are trimmed on the left only, and query parameters with an empty
// value are not signed. AzureBucket sends no header value with surrounding whitespace and no
// empty or repeated query parameter, so none of these corners is reached in practice.
#ifndef EMBERS_OBJSTORE_AZURE_SHARED_KEY_H_
#define EMBERS_OBJSTORE_AZURE_SHARED_KEY_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace embers::objstore::azure {

struct SharedKeyRequest {
  std::string method;  // "GET", "PUT", …
  // The path exactly as the URL carries it, percent-encoded: "/container/some%20blob", or with
  // the account first for path-style endpoints (azurite): "/devstoreaccount1/container/blob".
  std::string encoded_path;
  // Raw (decoded) name and value pairs, in any order.
  std::vector<std::pair<std::string, std::string>> query;
  // Every header the request carries, names in any case, Content-Length included when there is
  // a body (libcurl adds it on the wire, but it is signed).
  std::vector<std::pair<std::string, std::string>> headers;
};

// Percent-encoding for the URLs AzureBucket builds: unreserved characters (A-Z a-z 0-9 - . _ ~)
// kept, every other byte %XY with upper-case hex; '/' kept when `keep_slash`. '+' is encoded, since
// azurite reads a '+' in a query value as a space.
std::string AzureUriEncode(std::string_view s, bool keep_slash);

// The x-ms-date value for `time`: RFC 1123, "Sun, 06 Dec 2026 22:41:19 GMT".
std::string AzureDate(absl::Time time);

// The account key as given by the portal (base64) decoded to the HMAC key. InvalidArgument when
// it is not base64.
absl::StatusOr<std::string> DecodeAccountKey(std::string_view base64_key);

// The string the signature is computed over.
std::string SharedKeyStringToSign(const SharedKeyRequest& request, std::string_view account_name);

// "SharedKey <account>:<base64 HMAC-SHA256 of the string to sign>". `decoded_key` is the result
// of DecodeAccountKey.
std::string SharedKeyAuthorization(const SharedKeyRequest& request, std::string_view account_name,
                                   std::string_view decoded_key);

// Whether `a` sorts before `b` as the service orders x-ms-* header names (lower-case ASCII).
bool SharedKeyHeaderNameLess(std::string_view a, std::string_view b);

}  // namespace embers::objstore::azure

#endif  // EMBERS_OBJSTORE_AZURE_SHARED_KEY_H_
