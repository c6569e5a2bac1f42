// Serves the QueryFrontend as querier.v1.QuerierService: Connect routes on the HTTP port and the
// gRPC service on the gRPC port. Methods the frontend does not implement yet answer Unimplemented
// on both transports (the generated defaults).
//
// Also the legacy Pyroscope HTTP query API built on the same frontend methods:
// GET /pyroscope/render (flamebearer JSON with metadata, timeline and groupBy groups).
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

// GET /pyroscope/render. Tenancy comes from env->tenants; errors are plain-text HTTP answers
// with the status of status_mapping (400 for bad queries).
void RegisterLegacyQueryRoutes(query::QueryFrontend* frontend, HttpRouter& router,
                               const RpcEnvironment* env);

}  // namespace embers::server

#endif  // EMBERS_SERVER_QUERIER_SERVICE_H_
