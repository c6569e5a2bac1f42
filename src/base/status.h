// Error helpers shared by every layer.
//
// Errors cross module boundaries as absl::Status with a canonical code; src/server/status_mapping
// turns the code into a Connect code, a gRPC code and an HTTP status. A few HTTP answers that
// Pyroscope's clients expect have no canonical code of their own (413 body too large, 415 unknown
// format, 422 conversion failure): those errors carry the HTTP status as a payload, set only
// through the constructors below, so the mapping stays in one place.
#ifndef EMBERS_BASE_STATUS_H_
#define EMBERS_BASE_STATUS_H_

#include <optional>
#include <string_view>

#include "absl/status/status.h"

namespace embers {

// 413: the request (or a decompressed part of it) exceeds a size limit. Code: ResourceExhausted.
absl::Status PayloadTooLargeError(std::string_view message);
// 415: the content type or format is not one we accept. Code: InvalidArgument.
absl::Status UnsupportedMediaTypeError(std::string_view message);
// 422: well-formed input that cannot be converted to profiles. Code: InvalidArgument.
absl::Status UnprocessableError(std::string_view message);

// The HTTP status attached by one of the constructors above, if any.
std::optional<int> HttpStatusOverride(const absl::Status& status);

// Prepends context to a status message, keeping the code and payloads.
absl::Status Annotate(const absl::Status& status, std::string_view context);

}  // namespace embers

// Returns from the enclosing function when `expr` (an absl::Status) is not OK.
#define EMBERS_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::absl::Status embers_status_ = (expr);          \
    if (!embers_status_.ok()) return embers_status_; \
  } while (0)

#define EMBERS_STATUS_CONCAT_INNER_(a, b) a##b
#define EMBERS_STATUS_CONCAT_(a, b) EMBERS_STATUS_CONCAT_INNER_(a, b)
// `EMBERS_ASSIGN_OR_RETURN(auto x, StatusOrExpr());`
#define EMBERS_ASSIGN_OR_RETURN(lhs, expr)                             \
  auto EMBERS_STATUS_CONCAT_(embers_statusor_, __LINE__) = (expr);     \
  if (!EMBERS_STATUS_CONCAT_(embers_statusor_, __LINE__).ok())         \
    return EMBERS_STATUS_CONCAT_(embers_statusor_, __LINE__).status(); \
  lhs = std::move(EMBERS_STATUS_CONCAT_(embers_statusor_, __LINE__)).value()

#endif  // EMBERS_BASE_STATUS_H_
