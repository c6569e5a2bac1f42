// Serves an in-process QueryBackend as querybackend.v1.QueryBackendService on the gRPC port: the
// query-backend module (-target=query-backend) answers the shares of query plans that remote
// query-frontends send (query/remote_query_backend.h). The request names its tenant; it must be
// the caller's (X-Scope-OrgID), so one tenant cannot read another's objects through a backend.
#ifndef EMBERS_SERVER_QUERY_BACKEND_SERVICE_H_
#define EMBERS_SERVER_QUERY_BACKEND_SERVICE_H_

#include <atomic>
#include <memory>

#include <grpcpp/grpcpp.h>

#include "query/query_backend.h"
#include "server/rpc_adapters.h"

namespace embers::server {

// The module's backend, created when it starts (until then calls answer Unavailable).
class QueryBackendHolder {
 public:
  void Set(std::shared_ptr<query::QueryBackend> backend) { std::atomic_store(&backend_, backend); }
  std::shared_ptr<query::QueryBackend> Get() const { return std::atomic_load(&backend_); }

 private:
  std::shared_ptr<query::QueryBackend> backend_;
};

std::unique_ptr<grpc::Service> NewQueryBackendGrpcService(const QueryBackendHolder* backend,
                                                          const RpcEnvironment* env);

}  // namespace embers::server

#endif  // EMBERS_SERVER_QUERY_BACKEND_SERVICE_H_
