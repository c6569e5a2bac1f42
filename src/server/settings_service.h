// Serves settings.v1.SettingsService (Get/Set of the caller's tenant's key/value settings) on both
// public transports, over the metastore's replicated settings table (metastore/tenant_settings.h)
// reached through the IndexService the process uses. Registered by the query-frontend module:
// Grafana's Pyroscope app calls it next to the query API.
#ifndef EMBERS_SERVER_SETTINGS_SERVICE_H_
#define EMBERS_SERVER_SETTINGS_SERVICE_H_

#include <memory>

#include <grpcpp/grpcpp.h>

#include "metastore/index_service.h"
#include "server/http_router.h"
#include "server/rpc_adapters.h"

namespace embers::server {

// `metastore` and `env` must outlive the router and the service.
void RegisterSettingsConnectRoutes(metastore::IndexService* metastore, HttpRouter& router,
                                   const RpcEnvironment* env);
std::unique_ptr<grpc::Service> NewSettingsGrpcService(metastore::IndexService* metastore,
                                                      const RpcEnvironment* env);

}  // namespace embers::server

#endif  // EMBERS_SERVER_SETTINGS_SERVICE_H_
