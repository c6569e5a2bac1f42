// Tenant resolution for every public request (HTTP and gRPC).
//
// With multi-tenancy off (the default, -auth.multitenancy-enabled=false) every request belongs to
// tenant "anonymous", whatever headers it carries. With it on, the X-Scope-OrgID header (gRPC
// metadata x-scope-orgid) is required and validated like Pyroscope/Cortex tenant ids.
#ifndef EMBERS_SERVER_TENANT_H_
#define EMBERS_SERVER_TENANT_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace embers::server {

inline constexpr std::string_view kDefaultTenant = "anonymous";

class TenantResolver {
 public:
  explicit TenantResolver(bool multitenancy_enabled) : multitenancy_(multitenancy_enabled) {}
  // `header` is the X-Scope-OrgID value (empty when absent). Unauthenticated when required and
  // missing; InvalidArgument when malformed.
  absl::StatusOr<std::string> Resolve(std::string_view header) const;

 private:
  bool multitenancy_;
};

}  // namespace embers::server

#endif  // EMBERS_SERVER_TENANT_H_
