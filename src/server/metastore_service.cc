#include "server/metastore_service.h"

#include <string>
#include <utility>

#include "metastore/v1/compaction.grpc.pb.h"
#include "metastore/v1/index.grpc.pb.h"
#include "metastore/v1/membership.grpc.pb.h"
#include "metastore/v1/query.grpc.pb.h"
#include "metastore/v1/raft_node.grpc.pb.h"
#include "metastore/v1/tenant.grpc.pb.h"

namespace embers::server {
namespace {

namespace v1 = ::metastore::v1;
using NodePtr = const std::atomic<metastore::MetastoreNode*>*;

// A method of the open node, or Unavailable while it is not (yet, or any more) open.
template <class Req, class Resp, class Fn>
UnaryMethod<Req, Resp> OnNode(NodePtr node, Fn fn) {
  return [node, fn = std::move(fn)](const CallContext& ctx, const Req& req, Resp* resp,
                                    UnaryDone done) {
    metastore::MetastoreNode* n = node->load();
    if (n == nullptr) return done(absl::UnavailableError("the metastore is not running"));
    fn(*n, ctx, req, resp, std::move(done));
  };
}

#define EMBERS_METASTORE_METHOD(Name, Req, Resp, member)                                           \
  grpc::ServerUnaryReactor* Name(grpc::CallbackServerContext* context, const Req* req, Resp* resp) \
      override {                                                                                   \
    return member(context, req, resp);                                                             \
  }

class IndexGrpcService final : public v1::IndexService::CallbackService {
 public:
  IndexGrpcService(NodePtr node, const RpcEnvironment* env)
      : add_block_(
            "/metastore.v1.IndexService/AddBlock",
            OnNode<v1::AddBlockRequest, v1::AddBlockResponse>(
                node,
                [](metastore::MetastoreNode& n, const CallContext& ctx,
                   const v1::AddBlockRequest& req, v1::AddBlockResponse* resp, UnaryDone done) {
                  n.replicated_service()->AddBlock(ctx, req, resp, std::move(done));
                }),
            env),
        get_block_metadata_("/metastore.v1.IndexService/GetBlockMetadata",
                            OnNode<v1::GetBlockMetadataRequest, v1::GetBlockMetadataResponse>(
                                node,
                                [](metastore::MetastoreNode& n, const CallContext&,
                                   const v1::GetBlockMetadataRequest& req,
                                   v1::GetBlockMetadataResponse* resp, UnaryDone done) {
                                  n.replicated_service()->GetBlockMetadata(req, resp,
                                                                           std::move(done));
                                }),
                            env) {}

  EMBERS_METASTORE_METHOD(AddBlock, v1::AddBlockRequest, v1::AddBlockResponse, add_block_)
  EMBERS_METASTORE_METHOD(GetBlockMetadata, v1::GetBlockMetadataRequest,
                          v1::GetBlockMetadataResponse, get_block_metadata_)

 private:
  GrpcUnary<v1::AddBlockRequest, v1::AddBlockResponse> add_block_;
  GrpcUnary<v1::GetBlockMetadataRequest, v1::GetBlockMetadataResponse> get_block_metadata_;
};

class QueryGrpcService final : public v1::MetadataQueryService::CallbackService {
 public:
  QueryGrpcService(NodePtr node, const RpcEnvironment* env)
      : query_metadata_("/metastore.v1.MetadataQueryService/QueryMetadata",
                        OnNode<v1::QueryMetadataRequest, v1::QueryMetadataResponse>(
                            node,
                            [](metastore::MetastoreNode& n, const CallContext& ctx,
                               const v1::QueryMetadataRequest& req, v1::QueryMetadataResponse* resp,
                               UnaryDone done) {
                              n.replicated_service()->QueryMetadata(ctx, req, resp,
                                                                    std::move(done));
                            }),
                        env),
        query_metadata_labels_(
            "/metastore.v1.MetadataQueryService/QueryMetadataLabels",
            OnNode<v1::QueryMetadataLabelsRequest, v1::QueryMetadataLabelsResponse>(
                node,
                [](metastore::MetastoreNode& n, const CallContext& ctx,
                   const v1::QueryMetadataLabelsRequest& req, v1::QueryMetadataLabelsResponse* resp,
                   UnaryDone done) {
                  n.replicated_service()->QueryMetadataLabels(ctx, req, resp, std::move(done));
                }),
            env) {}

  EMBERS_METASTORE_METHOD(QueryMetadata, v1::QueryMetadataRequest, v1::QueryMetadataResponse,
                          query_metadata_)
  EMBERS_METASTORE_METHOD(QueryMetadataLabels, v1::QueryMetadataLabelsRequest,
                          v1::QueryMetadataLabelsResponse, query_metadata_labels_)

 private:
  GrpcUnary<v1::QueryMetadataRequest, v1::QueryMetadataResponse> query_metadata_;
  GrpcUnary<v1::QueryMetadataLabelsRequest, v1::QueryMetadataLabelsResponse> query_metadata_labels_;
};

class TenantGrpcService final : public v1::TenantService::CallbackService {
 public:
  TenantGrpcService(NodePtr node, const RpcEnvironment* env)
      : get_tenants_(
            "/metastore.v1.TenantService/GetTenants",
            OnNode<v1::GetTenantsRequest, v1::GetTenantsResponse>(
                node,
                [](metastore::MetastoreNode& n, const CallContext&,
                   const v1::GetTenantsRequest& req, v1::GetTenantsResponse* resp, UnaryDone done) {
                  n.replicated_service()->GetTenants(req, resp, std::move(done));
                }),
            env),
        get_tenant_(
            "/metastore.v1.TenantService/GetTenant",
            OnNode<v1::GetTenantRequest, v1::GetTenantResponse>(
                node,
                [](metastore::MetastoreNode& n, const CallContext&, const v1::GetTenantRequest& req,
                   v1::GetTenantResponse* resp, UnaryDone done) {
                  n.replicated_service()->GetTenant(req, resp, std::move(done));
                }),
            env),
        get_tenant_settings_("/metastore.v1.TenantService/GetTenantSettings",
                             OnNode<v1::GetTenantSettingsRequest, v1::GetTenantSettingsResponse>(
                                 node,
                                 [](metastore::MetastoreNode& n, const CallContext& ctx,
                                    const v1::GetTenantSettingsRequest& req,
                                    v1::GetTenantSettingsResponse* resp, UnaryDone done) {
                                   n.replicated_service()->GetTenantSettings(ctx, req, resp,
                                                                             std::move(done));
                                 }),
                             env),
        set_tenant_setting_("/metastore.v1.TenantService/SetTenantSetting",
                            OnNode<v1::SetTenantSettingRequest, v1::SetTenantSettingResponse>(
                                node,
                                [](metastore::MetastoreNode& n, const CallContext& ctx,
                                   const v1::SetTenantSettingRequest& req,
                                   v1::SetTenantSettingResponse* resp, UnaryDone done) {
                                  n.replicated_service()->SetTenantSetting(ctx, req, resp,
                                                                           std::move(done));
                                }),
                            env) {}

  EMBERS_METASTORE_METHOD(GetTenants, v1::GetTenantsRequest, v1::GetTenantsResponse, get_tenants_)
  EMBERS_METASTORE_METHOD(GetTenant, v1::GetTenantRequest, v1::GetTenantResponse, get_tenant_)
  EMBERS_METASTORE_METHOD(GetTenantSettings, v1::GetTenantSettingsRequest,
                          v1::GetTenantSettingsResponse, get_tenant_settings_)
  EMBERS_METASTORE_METHOD(SetTenantSetting, v1::SetTenantSettingRequest,
                          v1::SetTenantSettingResponse, set_tenant_setting_)

 private:
  GrpcUnary<v1::GetTenantsRequest, v1::GetTenantsResponse> get_tenants_;
  GrpcUnary<v1::GetTenantRequest, v1::GetTenantResponse> get_tenant_;
  GrpcUnary<v1::GetTenantSettingsRequest, v1::GetTenantSettingsResponse> get_tenant_settings_;
  GrpcUnary<v1::SetTenantSettingRequest, v1::SetTenantSettingResponse> set_tenant_setting_;
};

class RaftNodeGrpcService final : public v1::RaftNodeService::CallbackService {
 public:
  RaftNodeGrpcService(NodePtr node, const RpcEnvironment* env)
      : node_info_("/metastore.v1.RaftNodeService/NodeInfo",
                   OnNode<v1::NodeInfoRequest, v1::NodeInfoResponse>(
                       node,
                       [](metastore::MetastoreNode& n, const CallContext&,
                          const v1::NodeInfoRequest&, v1::NodeInfoResponse* resp, UnaryDone done) {
                         *resp = n.NodeInfo();
                         done(absl::OkStatus());
                       }),
                   env),
        add_node_("/metastore.v1.RaftNodeService/AddNode",
                  OnNode<v1::AddNodeRequest, v1::AddNodeResponse>(
                      node, [](metastore::MetastoreNode& n, const CallContext&,
                               const v1::AddNodeRequest& req, v1::AddNodeResponse*,
                               UnaryDone done) { n.AddNode(req, std::move(done)); }),
                  env),
        remove_node_("/metastore.v1.RaftNodeService/RemoveNode",
                     OnNode<v1::RemoveNodeRequest, v1::RemoveNodeResponse>(
                         node, [](metastore::MetastoreNode& n, const CallContext&,
                                  const v1::RemoveNodeRequest& req, v1::RemoveNodeResponse*,
                                  UnaryDone done) { n.RemoveNode(req, std::move(done)); }),
                     env),
        transfer_leadership_(
            "/metastore.v1.RaftNodeService/TransferLeadership",
            OnNode<v1::TransferLeadershipRequest, v1::TransferLeadershipResponse>(
                node,
                [](metastore::MetastoreNode& n, const CallContext&,
                   const v1::TransferLeadershipRequest& req, v1::TransferLeadershipResponse* resp,
                   UnaryDone done) { n.TransferLeadership(req, resp, std::move(done)); }),
            env) {}

  EMBERS_METASTORE_METHOD(NodeInfo, v1::NodeInfoRequest, v1::NodeInfoResponse, node_info_)
  EMBERS_METASTORE_METHOD(AddNode, v1::AddNodeRequest, v1::AddNodeResponse, add_node_)
  EMBERS_METASTORE_METHOD(RemoveNode, v1::RemoveNodeRequest, v1::RemoveNodeResponse, remove_node_)
  EMBERS_METASTORE_METHOD(TransferLeadership, v1::TransferLeadershipRequest,
                          v1::TransferLeadershipResponse, transfer_leadership_)

 private:
  GrpcUnary<v1::NodeInfoRequest, v1::NodeInfoResponse> node_info_;
  GrpcUnary<v1::AddNodeRequest, v1::AddNodeResponse> add_node_;
  GrpcUnary<v1::RemoveNodeRequest, v1::RemoveNodeResponse> remove_node_;
  GrpcUnary<v1::TransferLeadershipRequest, v1::TransferLeadershipResponse> transfer_leadership_;
};

class CompactionGrpcService final : public v1::CompactionService::CallbackService {
 public:
  CompactionGrpcService(NodePtr node, const RpcEnvironment* env)
      : poll_("/metastore.v1.CompactionService/PollCompactionJobs",
              OnNode<v1::PollCompactionJobsRequest, v1::PollCompactionJobsResponse>(
                  node,
                  [](metastore::MetastoreNode& n, const CallContext& ctx,
                     const v1::PollCompactionJobsRequest& req, v1::PollCompactionJobsResponse* resp,
                     UnaryDone done) {
                    n.compaction_service()->PollCompactionJobs(ctx, req, resp, std::move(done));
                  }),
              env),
        status_("/metastore.v1.CompactionService/GetCompactionStatus",
                OnNode<v1::GetCompactionStatusRequest, v1::GetCompactionStatusResponse>(
                    node,
                    [](metastore::MetastoreNode& n, const CallContext& ctx,
                       const v1::GetCompactionStatusRequest& req,
                       v1::GetCompactionStatusResponse* resp, UnaryDone done) {
                      n.compaction_service()->GetCompactionStatus(ctx, req, resp, std::move(done));
                    }),
                env) {}

  EMBERS_METASTORE_METHOD(PollCompactionJobs, v1::PollCompactionJobsRequest,
                          v1::PollCompactionJobsResponse, poll_)
  EMBERS_METASTORE_METHOD(GetCompactionStatus, v1::GetCompactionStatusRequest,
                          v1::GetCompactionStatusResponse, status_)

 private:
  GrpcUnary<v1::PollCompactionJobsRequest, v1::PollCompactionJobsResponse> poll_;
  GrpcUnary<v1::GetCompactionStatusRequest, v1::GetCompactionStatusResponse> status_;
};

// A MembershipService method of the open node.
template <class Req, class Resp>
UnaryMethod<Req, Resp> OnMembership(NodePtr node,
                                    void (metastore::MembershipService::*method)(const CallContext&,
                                                                                 const Req&, Resp*,
                                                                                 UnaryDone)) {
  return OnNode<Req, Resp>(node, [method](metastore::MetastoreNode& n, const CallContext& ctx,
                                          const Req& req, Resp* resp, UnaryDone done) {
    (n.membership_service()->*method)(ctx, req, resp, std::move(done));
  });
}

class MembershipGrpcService final : public v1::MembershipService::CallbackService {
 public:
  MembershipGrpcService(NodePtr node, const RpcEnvironment* env)
      : heartbeat_("/metastore.v1.MembershipService/Heartbeat",
                   OnMembership(node, &metastore::MembershipService::Heartbeat), env),
        leave_("/metastore.v1.MembershipService/Leave",
               OnMembership(node, &metastore::MembershipService::Leave), env),
        watch_("/metastore.v1.MembershipService/WatchCluster",
               OnMembership(node, &metastore::MembershipService::WatchCluster), env) {}

  EMBERS_METASTORE_METHOD(Heartbeat, v1::HeartbeatRequest, v1::HeartbeatResponse, heartbeat_)
  EMBERS_METASTORE_METHOD(Leave, v1::LeaveRequest, v1::LeaveResponse, leave_)
  EMBERS_METASTORE_METHOD(WatchCluster, v1::WatchClusterRequest, v1::ClusterView, watch_)

 private:
  GrpcUnary<v1::HeartbeatRequest, v1::HeartbeatResponse> heartbeat_;
  GrpcUnary<v1::LeaveRequest, v1::LeaveResponse> leave_;
  GrpcUnary<v1::WatchClusterRequest, v1::ClusterView> watch_;
};

#undef EMBERS_METASTORE_METHOD

}  // namespace

std::vector<std::unique_ptr<grpc::Service>> NewMetastoreGrpcServices(
    const std::atomic<metastore::MetastoreNode*>* node, const RpcEnvironment* env) {
  std::vector<std::unique_ptr<grpc::Service>> services;
  services.push_back(std::make_unique<IndexGrpcService>(node, env));
  services.push_back(std::make_unique<QueryGrpcService>(node, env));
  services.push_back(std::make_unique<TenantGrpcService>(node, env));
  services.push_back(std::make_unique<RaftNodeGrpcService>(node, env));
  services.push_back(std::make_unique<CompactionGrpcService>(node, env));
  services.push_back(std::make_unique<MembershipGrpcService>(node, env));
  return services;
}

}  // namespace embers::server
