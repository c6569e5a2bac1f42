#include "metastore/tenant_settings.h"

#include <utility>

#include "absl/status/statusor.h"
#include "base/strings.h"
#include "model/labels.h"

namespace embers::metastore {

absl::Status TenantSettings::Validate(const v1::SetTenantSettingRequest& request,
                                      const TenantSettingsLimits& limits) {
  const v1::TenantSetting& s = request.setting();
  if (request.tenant_id().empty()) return absl::InvalidArgumentError("setting: no tenant");
  if (s.name().empty()) return absl::InvalidArgumentError("setting: the name is empty");
  if (s.name().size() > limits.max_name_bytes) {
    return absl::InvalidArgumentError(
        StrCat("setting: the name is ", s.name().size(), " bytes; limit ", limits.max_name_bytes));
  }
  if (s.value().size() > limits.max_value_bytes) {
    return absl::InvalidArgumentError(StrCat("setting \"", s.name(), "\": the value is ",
                                             s.value().size(), " bytes; limit ",
                                             limits.max_value_bytes));
  }
  if (!model::IsValidUtf8(s.name()) || !model::IsValidUtf8(s.value())) {
    return absl::InvalidArgumentError("setting: name and value must be UTF-8");
  }
  if (s.modified_at_ms() < 0) {
    return absl::InvalidArgumentError("setting: modifiedAt must not be negative");
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::TenantSetting> TenantSettings::Set(const v1::SetTenantSettingRequest& request,
                                                      int64_t now_ms) {
  if (absl::Status st = Validate(request, limits_); !st.ok()) return st;
  const v1::TenantSetting& in = request.setting();
  const int64_t modified = in.modified_at_ms() > 0 ? in.modified_at_ms() : now_ms;
  std::lock_guard<std::mutex> lock(mu_);
  auto tenant = tenants_.find(request.tenant_id());
  const Entry* old = nullptr;
  if (tenant != tenants_.end()) {
    if (auto it = tenant->second.find(in.name()); it != tenant->second.end()) old = &it->second;
  }
  if (old != nullptr && old->modified_at_ms > modified) {
    return absl::FailedPreconditionError(StrCat("setting \"", in.name(),
                                                "\": a newer update is already stored (modifiedAt ",
                                                old->modified_at_ms, " > ", modified, ")"));
  }
  const bool tokens = request.tenant_id() == kApiTokensTenant;
  if (tokens && in.value().empty()) {
    // A revoked token: its entry goes (ids are random and never issued twice).
    if (old != nullptr) {
      total_bytes_ -= in.name().size() + old->value.size();
      tenant->second.erase(tenant->second.find(in.name()));
    }
    v1::TenantSetting removed;
    removed.set_name(in.name());
    removed.set_modified_at_ms(modified);
    return removed;
  }
  const size_t tenant_count = tenant == tenants_.end() ? 0 : tenant->second.size();
  const size_t most = tokens ? limits_.max_api_tokens : limits_.max_settings_per_tenant;
  if (old == nullptr && tenant_count >= most) {
    return absl::ResourceExhaustedError(StrCat("tenant \"", request.tenant_id(), "\" has ",
                                               tenant_count, " settings; limit ", most));
  }
  const size_t old_bytes = old == nullptr ? 0 : in.name().size() + old->value.size();
  const size_t new_bytes = in.name().size() + in.value().size() +
                           (tenant == tenants_.end() ? request.tenant_id().size() : 0);
  if (total_bytes_ - old_bytes + new_bytes > limits_.max_total_bytes) {
    return absl::ResourceExhaustedError(
        StrCat("the settings of all tenants would exceed ", limits_.max_total_bytes, " bytes"));
  }
  if (tenant == tenants_.end()) tenant = tenants_.try_emplace(request.tenant_id()).first;
  Entry& e = tenant->second[in.name()];
  e.value = in.value();
  e.modified_at_ms = modified;
  total_bytes_ = total_bytes_ - old_bytes + new_bytes;
  v1::TenantSetting stored;
  stored.set_name(in.name());
  stored.set_value(in.value());
  stored.set_modified_at_ms(modified);
  return stored;
}

std::vector<v1::TenantSetting> TenantSettings::Get(std::string_view tenant) const {
  std::vector<v1::TenantSetting> out;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tenants_.find(tenant);
  if (it == tenants_.end()) return out;
  out.reserve(it->second.size());
  for (const auto& [name, e] : it->second) {
    v1::TenantSetting& s = out.emplace_back();
    s.set_name(name);
    s.set_value(e.value);
    s.set_modified_at_ms(e.modified_at_ms);
  }
  return out;
}

void TenantSettings::AppendTo(
    google::protobuf::RepeatedPtrField<v1::SetTenantSettingRequest>* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [tenant, settings] : tenants_) {
    for (const auto& [name, e] : settings) {
      v1::SetTenantSettingRequest* r = out->Add();
      r->set_tenant_id(tenant);
      r->mutable_setting()->set_name(name);
      r->mutable_setting()->set_value(e.value);
      r->mutable_setting()->set_modified_at_ms(e.modified_at_ms);
    }
  }
}

absl::StatusOr<TenantSettings::Decoded> TenantSettings::Decode(
    const google::protobuf::RepeatedPtrField<v1::SetTenantSettingRequest>& in) {
  // Checked like writes, but without the size limits: a snapshot holds what the replicas
  // accepted, perhaps under other limits.
  Decoded out;
  const TenantSettingsLimits unlimited{.max_name_bytes = SIZE_MAX, .max_value_bytes = SIZE_MAX};
  for (const v1::SetTenantSettingRequest& r : in) {
    if (absl::Status st = Validate(r, unlimited); !st.ok()) {
      return absl::DataLossError(StrCat("metastore snapshot: tenant settings: ", st.message()));
    }
    auto [tenant, added] = out.table_.try_emplace(r.tenant_id());
    if (added) out.bytes_ += r.tenant_id().size();
    auto [it, fresh] = tenant->second.try_emplace(r.setting().name());
    if (!fresh) out.bytes_ -= it->first.size() + it->second.value.size();
    out.bytes_ += r.setting().name().size() + r.setting().value().size();
    it->second.value = r.setting().value();
    it->second.modified_at_ms = r.setting().modified_at_ms();
  }
  return out;
}

void TenantSettings::Install(Decoded decoded) {
  std::lock_guard<std::mutex> lock(mu_);
  tenants_ = std::move(decoded.table_);
  total_bytes_ = decoded.bytes_;
}

size_t TenantSettings::total_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_bytes_;
}

}  // namespace embers::metastore
