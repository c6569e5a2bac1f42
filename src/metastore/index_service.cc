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

}  // namespace embers::metastore
