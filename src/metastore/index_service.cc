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

namespace {
absl::Status NotOpen() { return absl::UnavailableError("the metastore is starting"); }
}  // namespace

void IndexServiceProxy::AddBlock(const CallContext& ctx, const v1::AddBlockRequest& request,
                                 v1::AddBlockResponse* response, UnaryDone done) {
  IndexService* t = target_.load();
  if (t == nullptr) return done(NotOpen());
  t->AddBlock(ctx, request, response, std::move(done));
}

void IndexServiceProxy::QueryMetadata(const CallContext& ctx,
                                      const v1::QueryMetadataRequest& request,
                                      v1::QueryMetadataResponse* response, UnaryDone done) {
  IndexService* t = target_.load();
  if (t == nullptr) return done(NotOpen());
  t->QueryMetadata(ctx, request, response, std::move(done));
}

void IndexServiceProxy::QueryMetadataLabels(const CallContext& ctx,
                                            const v1::QueryMetadataLabelsRequest& request,
                                            v1::QueryMetadataLabelsResponse* response,
                                            UnaryDone done) {
  IndexService* t = target_.load();
  if (t == nullptr) return done(NotOpen());
  t->QueryMetadataLabels(ctx, request, response, std::move(done));
}

void IndexServiceProxy::GetTenant(const CallContext& ctx, const v1::GetTenantRequest& request,
                                  v1::GetTenantResponse* response, UnaryDone done) {
  IndexService* t = target_.load();
  if (t == nullptr) return done(NotOpen());
  t->GetTenant(ctx, request, response, std::move(done));
}

}  // namespace embers::metastore
