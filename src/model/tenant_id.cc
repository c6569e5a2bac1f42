#include "model/tenant_id.h"

#include <string>

#include "base/strings.h"

namespace embers::model {

absl::Status ValidateTenantId(std::string_view tenant) {
  if (tenant.empty()) return absl::InvalidArgumentError("tenant id is empty");
  if (tenant.size() > kMaxTenantIdBytes) {
    return absl::InvalidArgumentError(
        StrCat("tenant id is longer than ", kMaxTenantIdBytes, " bytes"));
  }
  // "." and ".." would name a directory of the bucket rather than a tenant.
  if (tenant == "." || tenant == "..") {
    return absl::InvalidArgumentError(StrCat("tenant id \"", tenant, "\" is not allowed"));
  }
  for (char c : tenant) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '!' || c == '-' || c == '_' || c == '.' || c == '*' || c == '\'' || c == '(' ||
              c == ')';
    if (!ok) {
      return absl::InvalidArgumentError(
          StrCat("tenant id contains an unsupported character '", std::string(1, c), "'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace embers::model
