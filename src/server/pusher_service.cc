#include "server/pusher_service.h"

#include "ingest/push_adapter.h"
#include "push/v1/push.grpc.pb.h"

namespace embers::server {
namespace {

using push::v1::PushRequest;
using push::v1::PushResponse;

constexpr char kPushMethod[] = "/push.v1.PusherService/Push";

UnaryMethod<PushRequest, PushResponse> PushMethod(PusherServiceDeps deps) {
  return [deps](const CallContext& ctx, const PushRequest& req, PushResponse*, UnaryDone done) {
    distributor::Distributor* d = deps.distributor->load();
    if (d == nullptr) return done(absl::UnavailableError("the distributor is starting"));
    if (absl::Status admitted = d->Admit(ctx.tenant); !admitted.ok()) return done(admitted);
    absl::StatusOr<std::vector<ingest::IngestProfile>> profiles =
        ingest::ConvertPushRequest(req, deps.decode, deps.max_push_decompressed_bytes);
    if (!profiles.ok()) return done(profiles.status());
    d->Push(ctx, std::move(*profiles), std::move(done));
  };
}

class PusherGrpcService final : public push::v1::PusherService::CallbackService {
 public:
  PusherGrpcService(PusherServiceDeps deps, const RpcEnvironment* env)
      : push_(kPushMethod, PushMethod(deps), env) {}
  grpc::ServerUnaryReactor* Push(grpc::CallbackServerContext* context, const PushRequest* request,
                                 PushResponse* response) override {
    return push_(context, request, response);
  }

 private:
  GrpcUnary<PushRequest, PushResponse> push_;
};

}  // namespace

void RegisterPusherConnectRoutes(PusherServiceDeps deps, HttpRouter& router,
                                 const RpcEnvironment* env) {
  // Decoding the pushed profiles is most of the write path's CPU: off the I/O threads.
  RegisterConnectUnary<PushRequest, PushResponse>(router, kPushMethod, PushMethod(deps), env,
                                                  {.cpu_bound = true});
}

std::unique_ptr<grpc::Service> NewPusherGrpcService(PusherServiceDeps deps,
                                                    const RpcEnvironment* env) {
  return std::make_unique<PusherGrpcService>(deps, env);
}

}  // namespace embers::server
