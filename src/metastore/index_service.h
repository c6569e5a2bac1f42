// IndexService: the metastore's block index as other components see it.
//
// The segment-writer registers every object it writes through AddBlock; the query-frontend asks
// QueryMetadata/QueryMetadataLabels which objects and datasets hold data. Callers only see this
// interface: the replicated node's service (raft/replicated_index_service.h) when the process
// runs the metastore, a gRPC client (client/metastore_client.h) when it does not, and
// LocalIndexService (below) over a bare BlockIndex in tests.
#ifndef EMBERS_METASTORE_INDEX_SERVICE_H_
#define EMBERS_METASTORE_INDEX_SERVICE_H_

#include <atomic>
#include <memory>

#include "base/call_context.h"
#include "metastore/index/block_index.h"
#include "metastore/tenant_settings.h"
#include "metastore/v1/index.pb.h"
#include "metastore/v1/query.pb.h"
#include "metastore/v1/tenant.pb.h"

namespace embers::metastore {

class IndexService {
 public:
  virtual ~IndexService() = default;
  virtual void AddBlock(const CallContext& ctx, const v1::AddBlockRequest& request,
                        v1::AddBlockResponse* response, UnaryDone done) = 0;
  virtual void QueryMetadata(const CallContext& ctx, const v1::QueryMetadataRequest& request,
                             v1::QueryMetadataResponse* response, UnaryDone done) = 0;
  virtual void QueryMetadataLabels(const CallContext& ctx,
                                   const v1::QueryMetadataLabelsRequest& request,
                                   v1::QueryMetadataLabelsResponse* response, UnaryDone done) = 0;
  // A tenant's stats: whether it has data and its time range (GetProfileStats answers from it).
  virtual void GetTenant(const CallContext& ctx, const v1::GetTenantRequest& request,
                         v1::GetTenantResponse* response, UnaryDone done) = 0;
  // A tenant's settings.v1 key/value pairs (tenant_settings.h), read and written.
  virtual void GetTenantSettings(const CallContext& ctx,
                                 const v1::GetTenantSettingsRequest& request,
                                 v1::GetTenantSettingsResponse* response, UnaryDone done) = 0;
  virtual void SetTenantSetting(const CallContext& ctx, const v1::SetTenantSettingRequest& request,
                                v1::SetTenantSettingResponse* response, UnaryDone done) = 0;
};

// Serves the interface from a BlockIndex in this process, without replication; the methods
// complete synchronously.
class LocalIndexService final : public IndexService {
 public:
  explicit LocalIndexService(BlockIndex* index) : index_(index) {}
  void AddBlock(const CallContext& ctx, const v1::AddBlockRequest& request,
                v1::AddBlockResponse* response, UnaryDone done) override;
  void QueryMetadata(const CallContext& ctx, const v1::QueryMetadataRequest& request,
                     v1::QueryMetadataResponse* response, UnaryDone done) override;
  void QueryMetadataLabels(const CallContext& ctx, const v1::QueryMetadataLabelsRequest& request,
                           v1::QueryMetadataLabelsResponse* response, UnaryDone done) override;
  void GetTenant(const CallContext& ctx, const v1::GetTenantRequest& request,
                 v1::GetTenantResponse* response, UnaryDone done) override;
  void GetTenantSettings(const CallContext& ctx, const v1::GetTenantSettingsRequest& request,
                         v1::GetTenantSettingsResponse* response, UnaryDone done) override;
  void SetTenantSetting(const CallContext& ctx, const v1::SetTenantSettingRequest& request,
                        v1::SetTenantSettingResponse* response, UnaryDone done) override;

 private:
  BlockIndex* index_;
  TenantSettings settings_;
};

// Forwards to a service chosen after construction. Components wire themselves to the metastore
// before it has opened its Raft log (module constructors run before any module starts); until
// Set() they get Unavailable, like callers of a metastore that is still electing a leader.
class IndexServiceProxy final : public IndexService {
 public:
  void Set(IndexService* target) { target_.store(target); }
  void AddBlock(const CallContext& ctx, const v1::AddBlockRequest& request,
                v1::AddBlockResponse* response, UnaryDone done) override;
  void QueryMetadata(const CallContext& ctx, const v1::QueryMetadataRequest& request,
                     v1::QueryMetadataResponse* response, UnaryDone done) override;
  void QueryMetadataLabels(const CallContext& ctx, const v1::QueryMetadataLabelsRequest& request,
                           v1::QueryMetadataLabelsResponse* response, UnaryDone done) override;
  void GetTenant(const CallContext& ctx, const v1::GetTenantRequest& request,
                 v1::GetTenantResponse* response, UnaryDone done) override;
  void GetTenantSettings(const CallContext& ctx, const v1::GetTenantSettingsRequest& request,
                         v1::GetTenantSettingsResponse* response, UnaryDone done) override;
  void SetTenantSetting(const CallContext& ctx, const v1::SetTenantSettingRequest& request,
                        v1::SetTenantSettingResponse* response, UnaryDone done) override;

 private:
  std::atomic<IndexService*> target_{nullptr};
};

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_INDEX_SERVICE_H_
