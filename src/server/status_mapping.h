// The one table that maps canonical status codes to Connect code names, HTTP statuses and gRPC
// codes, and renders errors for HTTP clients. Every transport adapter (Connect, gRPC, /ingest,
// legacy query routes) goes through here so a given error looks the same on every path.
#ifndef EMBERS_SERVER_STATUS_MAPPING_H_
#define EMBERS_SERVER_STATUS_MAPPING_H_

#include <string>
#include <string_view>

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "server/http_message.h"

namespace embers::server {

// "invalid_argument", "not_found", … as the Connect protocol spells them.
std::string_view ConnectCodeName(absl::StatusCode code);
// Connect's HTTP status for the code, or the override set by base/status.h (413, 415, 422).
int HttpStatusFor(const absl::Status& status);
// The reverse, for clients of an embers server (embers-cli): the code of a Connect code name
// (kUnknown for a name it does not know), and of an HTTP status that came without one.
absl::StatusCode StatusCodeForConnectName(std::string_view name);
absl::StatusCode StatusCodeForHttpStatus(int http_status);

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// {"code":"invalid_argument","message":"…"}
std::string ConnectErrorJson(const absl::Status& status);

// An error response: Connect error JSON for Connect routes, plain text otherwise.
HttpResponse ErrorResponse(const absl::Status& status, bool connect_format);

}  // namespace embers::server

#endif  // EMBERS_SERVER_STATUS_MAPPING_H_
