// Serves the QueryFrontend as querier.v1.QuerierService: Connect routes on the HTTP port and the
// gRPC service on the gRPC port, every method written once for both (all of them, SelectHeatmap
// included). The legacy HTTP API built on the same frontend is in legacy_query_routes.h.
#ifndef EMBERS_SERVER_QUERIER_SERVICE_H_
#define EMBERS_SERVER_QUERIER_SERVICE_H_

#include <memory>

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/service_type.h>

#include "query/query_frontend.h"
#include "server/http_router.h"
#include "server/rpc_adapters.h"

namespace embers::server {

void RegisterQuerierConnectRoutes(query::QueryFrontend* frontend, HttpRouter& router,
                                  const RpcEnvironment* env);
std::unique_ptr<grpc::Service> NewQuerierGrpcService(query::QueryFrontend* frontend,
                                                     const RpcEnvironment* env);

}  // namespace embers::server

#endif  // EMBERS_SERVER_QUERIER_SERVICE_H_
