// TenantSettings: the settings.v1 key/value pairs of every tenant (Grafana's Pyroscope app keeps
// its per-tenant preferences there), as the metastore replicates them.
//
// MetastoreFsm applies SetTenantSetting commands to one of these on every replica (so the table is
// identical everywhere and part of each snapshot's header); ReplicatedIndexService reads it after
// a Raft barrier; LocalIndexService keeps its own for single-process tests. Writes follow
// upstream's last-writer-wins rule by modification time: a write older than the stored one is
// refused (FailedPrecondition), an equal or newer one replaces it.
//
// Bounds, so a client cannot grow the replicated state (and every snapshot) without limit: names
// of 1..256 bytes, values up to 16 KiB, 128 settings per tenant, 32 MiB in all (names, values and
// tenant ids counted); past them a write is refused with ResourceExhausted and nothing changes.
//
// Thread safety: all methods may be called from any thread.
#ifndef EMBERS_METASTORE_TENANT_SETTINGS_H_
#define EMBERS_METASTORE_TENANT_SETTINGS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "metastore/v1/tenant.pb.h"

namespace embers::metastore {

namespace v1 = ::metastore::v1;

// The reserved table of API tokens (server/api_tokens.h): one entry per token id. "@" is not
// allowed in tenant ids, so no public request can name it; it is reached through the internal
// metastore services only. An empty value removes an entry (a revoked token), and the table may
// hold max_api_tokens entries rather than max_settings_per_tenant.
inline constexpr std::string_view kApiTokensTenant = "@api-tokens";

struct TenantSettingsLimits {
  size_t max_name_bytes = 256;
  size_t max_value_bytes = 16 << 10;
  size_t max_settings_per_tenant = 128;
  size_t max_api_tokens = 10000;
  size_t max_total_bytes = 32 << 20;
};

class TenantSettings {
  struct Entry {
    std::string value;
    int64_t modified_at_ms = 0;
  };
  using Table = std::map<std::string, std::map<std::string, Entry, std::less<>>, std::less<>>;

 public:
  // A snapshot's table, checked and ready to install.
  class Decoded {
    friend class TenantSettings;
    Table table_;
    size_t bytes_ = 0;
  };

  explicit TenantSettings(TenantSettingsLimits limits = {}) : limits_(limits) {}

  // The checks that need no state (tenant and name present, sizes, UTF-8): InvalidArgument.
  // Callers run it before proposing, so a bad request never reaches the Raft log.
  static absl::Status Validate(const v1::SetTenantSettingRequest& request,
                               const TenantSettingsLimits& limits = {});

  // Stores request.setting() for request.tenant_id(). A setting without a modification time
  // takes `now_ms` (the leader's time of the command). Returns the setting as stored.
  absl::StatusOr<v1::TenantSetting> Set(const v1::SetTenantSettingRequest& request, int64_t now_ms);
  // The tenant's settings, sorted by name (none: empty).
  std::vector<v1::TenantSetting> Get(std::string_view tenant) const;

  // Snapshots: every (tenant, setting) pair; the table rebuilt from them (DataLoss when a pair is
  // malformed), then installed in place of the current one.
  void AppendTo(google::protobuf::RepeatedPtrField<v1::SetTenantSettingRequest>* out) const;
  static absl::StatusOr<Decoded> Decode(
      const google::protobuf::RepeatedPtrField<v1::SetTenantSettingRequest>& in);
  void Install(Decoded decoded);

  size_t total_bytes() const;

 private:
  const TenantSettingsLimits limits_;
  mutable std::mutex mu_;
  Table tenants_;           // guarded by mu_
  size_t total_bytes_ = 0;  // guarded by mu_
};

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_TENANT_SETTINGS_H_
