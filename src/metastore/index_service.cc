#include "metastore/index_service.h"

namespace embers::metastore {

void LocalIndexService::AddBlock(const CallContext& /*ctx*/, const v1::AddBlockRequest& request,
                                 v1::AddBlockResponse* /*response*/, UnaryDone done) {
  absl::StatusOr<BlockIndex::AddResult> result = index_->AddBlock(request.block());
  done(result.status());
}

void LocalIndexService::QueryMetadata(const CallContext& /*ctx*/,
                                      const v1::QueryMetadataRequest& request,
                                      v1::QueryMetadataResponse* response, UnaryDone done) {
  absl::StatusOr<v1::QueryMetadataResponse> result = index_->QueryMetadata(request);
  if (result.ok()) *response = std::move(*result);
  done(result.status());
}

void LocalIndexService::QueryMetadataLabels(const CallContext& /*ctx*/,
                                            const v1::QueryMetadataLabelsRequest& request,
                                            v1::QueryMetadataLabelsResponse* response,
                                            UnaryDone done) {
  absl::StatusOr<v1::QueryMetadataLabelsResponse> result = index_->QueryMetadataLabels(request);
  if (result.ok()) *response = std::move(*result);
  done(result.status());
}

void LocalIndexService::GetTenant(const CallContext& /*ctx*/, const v1::GetTenantRequest& request,
                                  v1::GetTenantResponse* response, UnaryDone done) {
  if (request.tenant_id().empty()) return done(absl::InvalidArgumentError("tenant_id is empty"));
  *response = index_->GetTenant(request);
  done(absl::OkStatus());
}

void LocalIndexService::GetTenantSettings(const CallContext& /*ctx*/,
                                          const v1::GetTenantSettingsRequest& request,
                                          v1::GetTenantSettingsResponse* response, UnaryDone done) {
  if (request.tenant_id().empty()) return done(absl::InvalidArgumentError("tenant_id is empty"));
  for (v1::TenantSetting& s : settings_.Get(request.tenant_id())) {
    *response->add_settings() = std::move(s);
  }
  done(absl::OkStatus());
}

void LocalIndexService::SetTenantSetting(const CallContext& /*ctx*/,
                                         const v1::SetTenantSettingRequest& request,
                                         v1::SetTenantSettingResponse* response, UnaryDone done) {
  absl::StatusOr<v1::TenantSetting> stored =
      settings_.Set(request, absl::ToUnixMillis(absl::Now()));
  if (stored.ok()) *response->mutable_setting() = std::move(*stored);
  done(stored.status());
}

namespace {
absl::Status NotOpen() { return absl::UnavailableError("the metastore is starting"); }
}  // namespace

// Every method forwards the same way once a target is set.
#define EMBERS_INDEX_PROXY_METHOD(Method, Req, Resp)                                         \
  void IndexServiceProxy::Method(const CallContext& ctx, const Req& request, Resp* response, \
                                 UnaryDone done) {                                           \
    IndexService* t = target_.load();                                                        \
    if (t == nullptr) return done(NotOpen());                                                \
    t->Method(ctx, request, response, std::move(done));                                      \
  }

EMBERS_INDEX_PROXY_METHOD(AddBlock, v1::AddBlockRequest, v1::AddBlockResponse)
EMBERS_INDEX_PROXY_METHOD(QueryMetadata, v1::QueryMetadataRequest, v1::QueryMetadataResponse)
EMBERS_INDEX_PROXY_METHOD(QueryMetadataLabels, v1::QueryMetadataLabelsRequest,
                          v1::QueryMetadataLabelsResponse)
EMBERS_INDEX_PROXY_METHOD(GetTenant, v1::GetTenantRequest, v1::GetTenantResponse)
EMBERS_INDEX_PROXY_METHOD(GetTenantSettings, v1::GetTenantSettingsRequest,
                          v1::GetTenantSettingsResponse)
EMBERS_INDEX_PROXY_METHOD(SetTenantSetting, v1::SetTenantSettingRequest,
                          v1::SetTenantSettingResponse)

#undef EMBERS_INDEX_PROXY_METHOD

}  // namespace embers::metastore
