#include "server/tenant.h"
#include "base/strings.h"

namespace embers::server {

absl::StatusOr<std::string> TenantResolver::Resolve(std::string_view header) const {
  if (!multitenancy_) return std::string(kDefaultTenant);
  if (header.empty()) {
    return absl::UnauthenticatedError("no org id: the X-Scope-OrgID header is required");
  }
  // Same rules as Cortex/Pyroscope tenant ids: ≤150 bytes of [A-Za-z0-9!-_.*'()], not "." or "..".
  if (header.size() > 150) return absl::InvalidArgumentError("tenant id is longer than 150 bytes");
  if (header == "." || header == "..") {
    return absl::InvalidArgumentError(StrCat("tenant id \"", header, "\" is not allowed"));
  }
  for (char c : header) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '!' || c == '-' || c == '_' || c == '.' || c == '*' || c == '\'' || c == '(' ||
              c == ')';
    if (!ok) {
      return absl::InvalidArgumentError(
          StrCat("tenant id contains an unsupported character '", std::string(1, c), "'"));
    }
  }
  return std::string(header);
}

}  // namespace embers::server
