// Serves adhocprofiles.v1.AdHocProfileService (Upload, Get, List, Diff) on both public
// transports: profile files a user uploads to look at as flame graphs, or compare two of them as
// a diff flame graph, outside the time-series data. Files may be pprof, flamebearer JSON,
// collapsed stacks or `perf script` output (ingest/adapters/adhoc_file.h).
//
// Each upload is one object `adhoc/<tenant>/<ULID>-<name>` holding upstream's JSON document
// ({"name", "data": base64 pprof, "uploadedAt"}); the id is the key's last part, so List needs
// no reads. (Upstream keeps `<tenant>/adhoc/…`; Embers puts the tenant below a fixed prefix so a
// tenant named like a top-level directory — `segments`, `blocks` — cannot mix with the data.)
// Get and Upload answer the chosen sample type's flame graph as flamebearer JSON
// (query/pprof_flame_graph.h). Bounds: the decoded profile obeys
// -validation.max-profile-size-bytes (413), names are cut to 128 bytes, a tenant keeps at most
// `max_profiles_per_tenant` (-adhoc-profiles.max-per-tenant) uploads (ResourceExhausted, 429,
// beyond). Registered by the query-frontend module; bucket calls run on the HTTP handler pool
// (Connect) or the gRPC callback thread.
#ifndef EMBERS_SERVER_ADHOC_PROFILES_SERVICE_H_
#define EMBERS_SERVER_ADHOC_PROFILES_SERVICE_H_

#include <memory>

#include <grpcpp/grpcpp.h>

#include "objstore/bucket.h"
#include "query/query_frontend.h"
#include "server/http_router.h"
#include "server/rpc_adapters.h"

namespace embers::server {

struct AdHocProfilesDeps {
  // The process's bucket, opened when the storage module starts (Unavailable before).
  const std::unique_ptr<objstore::Bucket>* bucket = nullptr;
  // For max_nodes defaults and limits, as query flame graphs.
  const query::QueryFrontend* frontend = nullptr;
  size_t max_profile_bytes = 4 << 20;
  size_t max_profiles_per_tenant = 1000;
};

void RegisterAdHocProfilesConnectRoutes(AdHocProfilesDeps deps, HttpRouter& router,
                                        const RpcEnvironment* env);
std::unique_ptr<grpc::Service> NewAdHocProfilesGrpcService(AdHocProfilesDeps deps,
                                                           const RpcEnvironment* env);

}  // namespace embers::server

#endif  // EMBERS_SERVER_ADHOC_PROFILES_SERVICE_H_
