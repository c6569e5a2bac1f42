#include "base/cluster_secret.h"

#include "base/strings.h"

namespace embers {

absl::Status InternalCallStatus(absl::StatusCode code, std::string_view peer,
                                std::string_view message) {
  if (code == absl::StatusCode::kOk) return absl::OkStatus();
  if (code == absl::StatusCode::kUnauthenticated) {
    return absl::InternalError(StrCat(peer,
                                      " refused this process's cluster secret: set the same "
                                      "-server.cluster-secret in every process (",
                                      message, ")"));
  }
  return absl::Status(code, StrCat(peer, ": ", message));
}

bool ClusterSecretMatches(std::string_view expected, std::string_view presented) {
  // Walk the expected secret whatever was presented; the length difference alone is leaked.
  unsigned char diff = expected.size() == presented.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    unsigned char p = i < presented.size() ? static_cast<unsigned char>(presented[i]) : 0;
    diff |= static_cast<unsigned char>(static_cast<unsigned char>(expected[i]) ^ p);
  }
  return diff == 0;
}

}  // namespace embers
