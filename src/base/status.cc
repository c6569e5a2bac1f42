#include "base/status.h"

#include <string>

#include "absl/strings/cord.h"
#include "base/strings.h"

namespace embers {
namespace {

constexpr absl::string_view kHttpStatusPayload = "type.embers.dev/http-status";

absl::Status WithHttpStatus(absl::Status status, int http_status) {
  status.SetPayload(kHttpStatusPayload, absl::Cord(std::to_string(http_status)));
  return status;
}

}  // namespace

absl::Status PayloadTooLargeError(std::string_view message) {
  return WithHttpStatus(absl::ResourceExhaustedError(ToAbsl(message)), 413);
}

absl::Status UnsupportedMediaTypeError(std::string_view message) {
  return WithHttpStatus(absl::InvalidArgumentError(ToAbsl(message)), 415);
}

absl::Status UnprocessableError(std::string_view message) {
  return WithHttpStatus(absl::InvalidArgumentError(ToAbsl(message)), 422);
}

std::optional<int> HttpStatusOverride(const absl::Status& status) {
  auto payload = status.GetPayload(kHttpStatusPayload);
  if (!payload) return std::nullopt;
  int code = 0;
  if (!ParseInt(std::string(*payload), &code)) return std::nullopt;
  return code;
}

absl::Status Annotate(const absl::Status& status, std::string_view context) {
  if (status.ok()) return status;
  absl::Status out(status.code(), StrCat(context, ": ", status.message()));
  status.ForEachPayload(
      [&out](absl::string_view url, const absl::Cord& payload) { out.SetPayload(url, payload); });
  return out;
}

}  // namespace embers
