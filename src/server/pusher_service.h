// Serves push.v1.PusherService/Push — the API of Pyroscope's SDKs, Grafana Alloy and profilecli —
// over Connect (HTTP port) and gRPC (gRPC port). Each request is decoded into IngestProfiles and
// handed to the distributor, whose completion answers the client once the data is durable.
#ifndef EMBERS_SERVER_PUSHER_SERVICE_H_
#define EMBERS_SERVER_PUSHER_SERVICE_H_

#include <atomic>
#include <memory>

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/service_type.h>

#include "distributor/distributor.h"
#include "pprof/decoder.h"
#include "server/http_router.h"
#include "server/rpc_adapters.h"

namespace embers::server {

// `distributor` may still be null while the process starts: calls then answer Unavailable.
struct PusherServiceDeps {
  const std::atomic<distributor::Distributor*>* distributor = nullptr;
  pprof::DecodeOptions decode;
  // -distributor.max-push-decompressed-bytes: all profiles of one push together (0: no bound).
  size_t max_push_decompressed_bytes = 0;
};

void RegisterPusherConnectRoutes(PusherServiceDeps deps, HttpRouter& router,
                                 const RpcEnvironment* env);
std::unique_ptr<grpc::Service> NewPusherGrpcService(PusherServiceDeps deps,
                                                    const RpcEnvironment* env);

}  // namespace embers::server

#endif  // EMBERS_SERVER_PUSHER_SERVICE_H_
