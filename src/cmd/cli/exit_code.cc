#include "cmd/cli/exit_code.h"

#include "base/strings.h"

namespace embers::cli {

ExitCode ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return kExitUsage;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return kExitUnavailable;
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return kExitUnauthorized;
    case absl::StatusCode::kDataLoss:
      return kExitCheckFailed;
    default:
      return kExitFailure;
  }
}

absl::Status CheckFailedError(std::string_view message) {
  return absl::DataLossError(ToAbsl(message));
}

}  // namespace embers::cli
