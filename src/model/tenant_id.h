// Tenant ids: which strings may name a tenant.
//
// The public API takes the tenant from X-Scope-OrgID (server/tenant.h); internal services take it
// from their messages (segment-writer Push, metastore AddBlock) and must not trust the caller, as
// the id becomes part of object keys (blocks/<shard>/<tenant>/…) and index entries. One rule serves
// all of them: Cortex's and Pyroscope's.
#ifndef EMBERS_MODEL_TENANT_ID_H_
#define EMBERS_MODEL_TENANT_ID_H_

#include <cstddef>
#include <string_view>

#include "absl/status/status.h"

namespace embers::model {

inline constexpr size_t kMaxTenantIdBytes = 150;

// OK for 1–150 bytes of [A-Za-z0-9!-_.*'()] other than "." and ".."; InvalidArgument naming the
// problem otherwise.
absl::Status ValidateTenantId(std::string_view tenant);

}  // namespace embers::model

#endif  // EMBERS_MODEL_TENANT_ID_H_
