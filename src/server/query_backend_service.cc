#include "server/query_backend_service.h"

#include "base/strings.h"
#include "query/report_codec.h"
#include "querybackend/v1/query_backend.grpc.pb.h"

namespace embers::server {
namespace {

namespace qb = querybackend::v1;

class QueryBackendGrpcService final : public qb::QueryBackendService::CallbackService {
 public:
  QueryBackendGrpcService(const QueryBackendHolder* backend, const RpcEnvironment* env)
      : invoke_(
            "/querybackend.v1.QueryBackendService/Invoke",
            [backend](const CallContext& ctx, const qb::InvokeRequest& req,
                      qb::InvokeResponse* resp, UnaryDone done) {
              std::shared_ptr<query::QueryBackend> b = backend->Get();
              if (b == nullptr) return done(absl::UnavailableError("query-backend not running"));
              absl::StatusOr<query::ReadQuery> q = query::DecodeReadQuery(req);
              if (!q.ok()) return done(q.status());
              if (q->tenant != ctx.tenant) {
                return done(absl::PermissionDeniedError(
                    StrCat("query for tenant ", q->tenant, " sent by tenant ", ctx.tenant)));
              }
              std::vector<metastore::v1::BlockMeta> blocks(req.blocks().begin(),
                                                           req.blocks().end());
              b->Invoke(std::make_shared<const query::ReadQuery>(std::move(*q)), std::move(blocks),
                        [resp, done = std::move(done)](absl::StatusOr<query::QueryReport> r) {
                          if (!r.ok()) return done(r.status());
                          query::EncodeReport(*r, resp);
                          done(absl::OkStatus());
                        });
            },
            env) {}

  grpc::ServerUnaryReactor* Invoke(grpc::CallbackServerContext* context,
                                   const qb::InvokeRequest* request,
                                   qb::InvokeResponse* response) override {
    return invoke_(context, request, response);
  }

 private:
  GrpcUnary<qb::InvokeRequest, qb::InvokeResponse> invoke_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewQueryBackendGrpcService(const QueryBackendHolder* backend,
                                                          const RpcEnvironment* env) {
  return std::make_unique<QueryBackendGrpcService>(backend, env);
}

}  // namespace embers::server
