#include "server/querier_service.h"

#include "querier/v1/querier.grpc.pb.h"

namespace embers::server {
namespace {

using querier::v1::ProfileTypesRequest;
using querier::v1::ProfileTypesResponse;

constexpr char kService[] = "/querier.v1.QuerierService/";

UnaryMethod<ProfileTypesRequest, ProfileTypesResponse> ProfileTypesMethod(
    query::QueryFrontend* frontend) {
  return
      [frontend](const CallContext& ctx, const ProfileTypesRequest& req, ProfileTypesResponse* resp,
                 UnaryDone done) { frontend->ProfileTypes(ctx, req, resp, std::move(done)); };
}

class QuerierGrpcService final : public querier::v1::QuerierService::CallbackService {
 public:
  QuerierGrpcService(query::QueryFrontend* frontend, const RpcEnvironment* env)
      : profile_types_(std::string(kService) + "ProfileTypes", ProfileTypesMethod(frontend), env) {}

  grpc::ServerUnaryReactor* ProfileTypes(grpc::CallbackServerContext* context,
                                         const ProfileTypesRequest* request,
                                         ProfileTypesResponse* response) override {
    return profile_types_(context, request, response);
  }

 private:
  GrpcUnary<ProfileTypesRequest, ProfileTypesResponse> profile_types_;
};

}  // namespace

void RegisterQuerierConnectRoutes(query::QueryFrontend* frontend, HttpRouter& router,
                                  const RpcEnvironment* env) {
  RegisterConnectUnary<ProfileTypesRequest, ProfileTypesResponse>(
      router, std::string(kService) + "ProfileTypes", ProfileTypesMethod(frontend), env);
}

std::unique_ptr<grpc::Service> NewQuerierGrpcService(query::QueryFrontend* frontend,
                                                     const RpcEnvironment* env) {
  return std::make_unique<QuerierGrpcService>(frontend, env);
}

}  // namespace embers::server
