// The ingest HTTP routes besides Push: the legacy Pyroscope API (`POST /ingest`, alias
// `/pyroscope/ingest`, every format of reference §2.2) and OTLP profiles over HTTP
// (`POST /v1development/profiles`, protobuf or JSON), and OTLP Export as an RPC
// (opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export) over Connect on the
// HTTP port and over gRPC.
//
// Each converts the request with src/ingest/adapters and hands the profiles to the distributor;
// the client is answered when the data is durable. Registered by the distributor module.
#ifndef EMBERS_SERVER_INGEST_ROUTES_H_
#define EMBERS_SERVER_INGEST_ROUTES_H_

#include <atomic>
#include <memory>

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/service_type.h>

#include "distributor/distributor.h"
#include "server/http_router.h"
#include "server/rpc_adapters.h"

namespace embers::server {

struct IngestRouteDeps {
  const std::atomic<distributor::Distributor*>* distributor = nullptr;
  const TenantResolver* tenants = nullptr;
  size_t max_profile_size = 4 << 20;
};

void RegisterIngestRoutes(IngestRouteDeps deps, const RpcEnvironment* env, HttpRouter& router);
std::unique_ptr<grpc::Service> NewOtlpGrpcService(IngestRouteDeps deps, const RpcEnvironment* env);

}  // namespace embers::server

#endif  // EMBERS_SERVER_INGEST_ROUTES_H_
