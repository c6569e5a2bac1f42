// Serves a metastore node over gRPC (internal services, reference §6.1):
//   metastore.v1.IndexService         AddBlock, GetBlockMetadata
//   metastore.v1.MetadataQueryService QueryMetadata, QueryMetadataLabels
//   metastore.v1.TenantService        GetTenants, GetTenant
//   metastore.v1.RaftNodeService      NodeInfo, AddNode, RemoveNode, TransferLeadership
//   metastore.v1.CompactionService    PollCompactionJobs, GetCompactionStatus
//   metastore.v1.MembershipService    Heartbeat, Leave, WatchCluster
// Registered by the `metastore` module of src/server/app.cc. Every method calls the node's own
// service objects (MetastoreNode::replicated_service(), the same one in-process callers use with
// -target=all), so both paths answer alike. Writes and reads on a follower answer Unavailable
// naming the leader's gRPC address (metastore/leader_redirect.h); the shared client
// (metastore/client/metastore_client.h) follows it. Before the node is open every call answers
// Unavailable.
#ifndef EMBERS_SERVER_METASTORE_SERVICE_H_
#define EMBERS_SERVER_METASTORE_SERVICE_H_

#include <atomic>
#include <memory>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/service_type.h>

#include "metastore/raft/metastore_node.h"
#include "server/rpc_adapters.h"

namespace embers::server {

// `node` is read on every call (null: Unavailable); it and `env` must outlive the services.
std::vector<std::unique_ptr<grpc::Service>> NewMetastoreGrpcServices(
    const std::atomic<metastore::MetastoreNode*>* node, const RpcEnvironment* env);

}  // namespace embers::server

#endif  // EMBERS_SERVER_METASTORE_SERVICE_H_
