// Tenant resolution for every public request (HTTP and gRPC).
//
// With multi-tenancy off (the default, -auth.multitenancy-enabled=false) every request belongs to
// tenant "anonymous", whatever headers it carries. With it on, the X-Scope-OrgID header (gRPC
// metadata x-scope-orgid) is required and validated like Pyroscope/Cortex tenant ids. With
// -auth.enabled the request's API token decides the tenant (token_authenticator.h) and
// X-Scope-OrgID may only repeat it.
#ifndef EMBERS_SERVER_TENANT_H_
#define EMBERS_SERVER_TENANT_H_

#include <atomic>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "server/http_message.h"
#include "server/token_authenticator.h"

namespace embers::server {

inline constexpr std::string_view kDefaultTenant = "anonymous";

// What a request says about who sends it.
struct RequestCredentials {
  std::string_view org_id;         // X-Scope-OrgID (empty when absent)
  std::string_view authorization;  // Authorization (empty when absent)
  std::string_view path;           // the route or full RPC method: decides the scope needed
};

// The credentials of an HTTP request (Connect, gRPC-on-HTTP, legacy routes).
RequestCredentials HttpCredentials(const HttpRequest& http);

class TenantResolver {
 public:
  // `auth_required`: -auth.enabled; requests are refused (503) until set_authenticator().
  explicit TenantResolver(bool multitenancy_enabled, bool auth_required = false)
      : multitenancy_(multitenancy_enabled || auth_required), auth_required_(auth_required) {}

  void set_authenticator(const TokenAuthenticator* authenticator) {
    authenticator_.store(authenticator);
  }

  // Unauthenticated when required credentials are missing or wrong, PermissionDenied when they
  // do not allow the request, InvalidArgument when the tenant id is malformed.
  absl::StatusOr<std::string> Resolve(const RequestCredentials& credentials) const;

 private:
  bool multitenancy_;
  bool auth_required_;
  std::atomic<const TokenAuthenticator*> authenticator_{nullptr};
};

}  // namespace embers::server

#endif  // EMBERS_SERVER_TENANT_H_
