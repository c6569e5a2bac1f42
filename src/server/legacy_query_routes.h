// The legacy Pyroscope HTTP query API (reference §8.5), built on the QueryFrontend methods:
//  - GET /pyroscope/render: flamebearer JSON with metadata, timeline and groupBy groups, or DOT
//    text with format=dot;
//  - GET /pyroscope/render-diff: a "double" flamebearer of two queries of one profile type;
//  - GET /pyroscope/label-values and /pyroscope/labels: JSON arrays of values / names.
// Tenancy comes from the RpcEnvironment; errors are plain-text answers with the status of
// status_mapping (400 for bad queries). Grafana's Pyroscope data source and older UIs use these.
#ifndef EMBERS_SERVER_LEGACY_QUERY_ROUTES_H_
#define EMBERS_SERVER_LEGACY_QUERY_ROUTES_H_

#include "query/query_frontend.h"
#include "server/http_router.h"
#include "server/rpc_adapters.h"

namespace embers::server {

void RegisterLegacyQueryRoutes(query::QueryFrontend* frontend, HttpRouter& router,
                               const RpcEnvironment* env);

}  // namespace embers::server

#endif  // EMBERS_SERVER_LEGACY_QUERY_ROUTES_H_
