#include "server/tenant.h"

#include "model/tenant_id.h"

namespace embers::server {

RequestCredentials HttpCredentials(const HttpRequest& http) {
  return {.org_id = http.Header("x-scope-orgid"),
          .authorization = http.Header("authorization"),
          .path = http.path};
}

absl::StatusOr<std::string> TenantResolver::Resolve(const RequestCredentials& c) const {
  if (auth_required_) {
    const TokenAuthenticator* auth = authenticator_.load();
    if (auth == nullptr) return absl::UnavailableError("authentication is not running yet");
    return auth->Authenticate(c.authorization, c.org_id, RequiredScope(c.path));
  }
  if (!multitenancy_) return std::string(kDefaultTenant);
  if (c.org_id.empty()) {
    return absl::UnauthenticatedError("no org id: the X-Scope-OrgID header is required");
  }
  if (absl::Status st = model::ValidateTenantId(c.org_id); !st.ok()) return st;
  return std::string(c.org_id);
}

}  // namespace embers::server
