#include "server/tenant.h"
#include "model/tenant_id.h"

namespace embers::server {

absl::StatusOr<std::string> TenantResolver::Resolve(std::string_view header) const {
  if (!multitenancy_) return std::string(kDefaultTenant);
  if (header.empty()) {
    return absl::UnauthenticatedError("no org id: the X-Scope-OrgID header is required");
  }
  if (absl::Status st = model::ValidateTenantId(header); !st.ok()) return st;
  return std::string(header);
}

}  // namespace embers::server
