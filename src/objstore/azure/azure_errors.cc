#include "objstore/azure/azure_errors.h"

#include <optional>
#include <string>

#include "base/strings.h"
#include "objstore/azure/azure_responses.h"
#include "objstore/http/store_answers.h"

namespace embers::objstore::azure {
namespace {

struct KnownCode {
  std::string_view azure_code;
  absl::StatusCode code;
};

// The codes Azure Blob documents that we treat specially; the rest follow the HTTP status.
constexpr KnownCode kKnownCodes[] = {
    {"BlobNotFound", absl::StatusCode::kNotFound},
    // A missing container or account is a deployment error, not a missing object: callers that
    // take NotFound as "already deleted" must not carry on.
    {"ContainerNotFound", absl::StatusCode::kFailedPrecondition},
    {"ContainerBeingDeleted", absl::StatusCode::kFailedPrecondition},
    {"ContainerDisabled", absl::StatusCode::kFailedPrecondition},
    {"ResourceNotFound", absl::StatusCode::kFailedPrecondition},
    {"AccountIsDisabled", absl::StatusCode::kPermissionDenied},
    {"AuthorizationFailure", absl::StatusCode::kPermissionDenied},
    {"AuthorizationPermissionMismatch", absl::StatusCode::kPermissionDenied},
    {"AuthorizationResourceTypeMismatch", absl::StatusCode::kPermissionDenied},
    {"InsufficientAccountPermissions", absl::StatusCode::kPermissionDenied},
    {"AuthenticationFailed", absl::StatusCode::kUnauthenticated},
    {"InvalidAuthenticationInfo", absl::StatusCode::kUnauthenticated},
    {"NoAuthenticationInformation", absl::StatusCode::kUnauthenticated},
    {"InvalidRange", absl::StatusCode::kOutOfRange},
    {"ServerBusy", absl::StatusCode::kUnavailable},
    {"InternalError", absl::StatusCode::kUnavailable},
    {"OperationTimedOut", absl::StatusCode::kUnavailable},
    {"InvalidBlockList", absl::StatusCode::kAborted},
    {"InvalidBlobOrBlock", absl::StatusCode::kAborted},
    {"LeaseIdMissing", absl::StatusCode::kFailedPrecondition},
    {"InvalidResourceName", absl::StatusCode::kInvalidArgument},
    {"RequestBodyTooLarge", absl::StatusCode::kInvalidArgument},
    {"Md5Mismatch", absl::StatusCode::kDataLoss},
    {"Crc64Mismatch", absl::StatusCode::kDataLoss},
};

// What operators should check, for the errors a misconfiguration causes.
std::string_view HintFor(std::string_view azure_code) {
  if (azure_code == "ContainerNotFound") {
    return "the container does not exist in this storage account (check "
           "-storage.azure.container-name)";
  }
  if (azure_code == "AuthenticationFailed") {
    return "the signature was computed with another key, the SAS token is not valid for this "
           "request, or this machine's clock is off by more than 15 minutes (check "
           "-storage.azure.account-key or the connection string's AccountKey or "
           "SharedAccessSignature, and NTP)";
  }
  if (azure_code == "ResourceNotFound" || azure_code == "InvalidResourceName") {
    return "no such storage account at this endpoint (check -storage.azure.account-name and "
           "-storage.azure.endpoint-suffix or -storage.azure.connection-string)";
  }
  if (azure_code == "AuthorizationPermissionMismatch" || azure_code == "AuthorizationFailure") {
    return "the credentials lack a permission on the container";
  }
  return {};
}

}  // namespace

absl::StatusCode CodeForAzureError(std::string_view azure_code, int http_status) {
  for (const KnownCode& known : kKnownCodes) {
    if (known.azure_code == azure_code) return known.code;
  }
  return http::CodeForHttpStatus(http_status);
}

absl::Status AzureErrorStatus(const AzureErrorContext& context, int http_status,
                              std::string_view error_code_header, std::string_view body) {
  const std::optional<AzureErrorDocument> doc = ParseAzureError(body);
  std::string code(StripWhitespace(error_code_header));
  if (code.empty() && doc.has_value()) code = doc->code;
  // azurite answers a wrong signature with AuthorizationFailure ("Server failed to authenticate
  // the request"), where Azure says AuthenticationFailed: the same mistake, the same status.
  std::string_view effective_code = code;
  if (code == "AuthorizationFailure" && doc.has_value() &&
      doc->message.find("failed to authenticate") != std::string::npos) {
    effective_code = "AuthenticationFailed";
  }
  std::string message = StrCat("Azure ", context.operation);
  if (!context.key.empty()) message += StrCat(" of \"", context.key, "\"");
  message += StrCat(" in container ", context.container, " failed: HTTP ", http_status);
  if (!code.empty()) message += StrCat(" ", code);
  if (doc.has_value()) {
    if (!doc->message.empty()) message += StrCat(": ", doc->message);
    if (!doc->authentication_detail.empty())
      message += StrCat(" (", doc->authentication_detail, ")");
  } else if (!StripWhitespace(body).empty()) {
    message += StrCat(": ", http::BodyExcerpt(body));
  }
  if (std::string_view hint = HintFor(effective_code); !hint.empty()) {
    message += StrCat("; ", hint);
  }
  return absl::Status(CodeForAzureError(effective_code, http_status), message);
}

}  // namespace embers::objstore::azure
