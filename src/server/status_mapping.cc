#include "server/status_mapping.h"

#include "base/status.h"
#include "nlohmann/json.hpp"

namespace embers::server {
namespace {

struct CodeRow {
  absl::StatusCode code;
  std::string_view connect;
  int http;
};

// The Connect protocol's mapping (connectrpc.com/docs/protocol, "Error codes").
constexpr CodeRow kCodes[] = {
    {absl::StatusCode::kOk, "ok", 200},
    {absl::StatusCode::kCancelled, "canceled", 499},
    {absl::StatusCode::kUnknown, "unknown", 500},
    {absl::StatusCode::kInvalidArgument, "invalid_argument", 400},
    {absl::StatusCode::kDeadlineExceeded, "deadline_exceeded", 504},
    {absl::StatusCode::kNotFound, "not_found", 404},
    {absl::StatusCode::kAlreadyExists, "already_exists", 409},
    {absl::StatusCode::kPermissionDenied, "permission_denied", 403},
    {absl::StatusCode::kResourceExhausted, "resource_exhausted", 429},
    {absl::StatusCode::kFailedPrecondition, "failed_precondition", 400},
    {absl::StatusCode::kAborted, "aborted", 409},
    {absl::StatusCode::kOutOfRange, "out_of_range", 400},
    {absl::StatusCode::kUnimplemented, "unimplemented", 501},
    {absl::StatusCode::kInternal, "internal", 500},
    {absl::StatusCode::kUnavailable, "unavailable", 503},
    {absl::StatusCode::kDataLoss, "data_loss", 500},
    {absl::StatusCode::kUnauthenticated, "unauthenticated", 401},
};

const CodeRow& Row(absl::StatusCode code) {
  for (const auto& row : kCodes) {
    if (row.code == code) return row;
  }
  return kCodes[2];  // unknown
}

}  // namespace

std::string_view ConnectCodeName(absl::StatusCode code) { return Row(code).connect; }

int HttpStatusFor(const absl::Status& status) {
  if (auto override_status = HttpStatusOverride(status)) return *override_status;
  return Row(status.code()).http;
}

absl::StatusCode StatusCodeForConnectName(std::string_view name) {
  for (const auto& row : kCodes) {
    if (row.connect == name) return row.code;
  }
  return absl::StatusCode::kUnknown;
}

absl::StatusCode StatusCodeForHttpStatus(int http_status) {
  if (http_status >= 200 && http_status < 300) return absl::StatusCode::kOk;
  switch (http_status) {
    case 413:  // the overrides of base/status.h
      return absl::StatusCode::kResourceExhausted;
    case 415:
    case 422:
      return absl::StatusCode::kInvalidArgument;
    case 500:
      return absl::StatusCode::kInternal;
    case 502:  // a proxy in front of the server could not reach it
    case 503:
      return absl::StatusCode::kUnavailable;
    default:
      break;
  }
  // Several codes share 400 and 409: the first row, the canonical one, wins.
  for (const auto& row : kCodes) {
    if (row.http == http_status && row.code != absl::StatusCode::kOk) return row.code;
  }
  if (http_status >= 500) return absl::StatusCode::kInternal;
  if (http_status >= 400) return absl::StatusCode::kFailedPrecondition;
  return absl::StatusCode::kUnknown;
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl and gRPC share the canonical numbering.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

std::string ConnectErrorJson(const absl::Status& status) {
  nlohmann::json j;
  j["code"] = std::string(ConnectCodeName(status.code()));
  j["message"] = std::string(status.message());
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

HttpResponse ErrorResponse(const absl::Status& status, bool connect_format) {
  int http = HttpStatusFor(status);
  if (connect_format) return HttpResponse::Json(http, ConnectErrorJson(status));
  return HttpResponse::Text(http, std::string(status.message()));
}

}  // namespace embers::server
