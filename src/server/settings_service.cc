#include "server/settings_service.h"

#include <string>
#include <utility>

#include "settings/v1/setting.grpc.pb.h"

namespace embers::server {
namespace {

namespace sv1 = ::settings::v1;
namespace mv1 = ::metastore::v1;

constexpr char kGet[] = "/settings.v1.SettingsService/Get";
constexpr char kSet[] = "/settings.v1.SettingsService/Set";

void ToPublic(const mv1::TenantSetting& in, sv1::Setting* out) {
  out->set_name(in.name());
  out->set_value(in.value());
  out->set_modifiedat(in.modified_at_ms());
}

UnaryMethod<sv1::GetSettingsRequest, sv1::GetSettingsResponse> GetMethod(
    metastore::IndexService* metastore) {
  return [metastore](const CallContext& ctx, const sv1::GetSettingsRequest&,
                     sv1::GetSettingsResponse* response, UnaryDone done) {
    auto req = std::make_shared<mv1::GetTenantSettingsRequest>();
    auto resp = std::make_shared<mv1::GetTenantSettingsResponse>();
    req->set_tenant_id(ctx.tenant);
    metastore->GetTenantSettings(ctx, *req, resp.get(),
                                 [req, resp, response, done = std::move(done)](absl::Status st) {
                                   if (st.ok()) {
                                     for (const mv1::TenantSetting& s : resp->settings()) {
                                       ToPublic(s, response->add_settings());
                                     }
                                   }
                                   done(std::move(st));
                                 });
  };
}

UnaryMethod<sv1::SetSettingsRequest, sv1::SetSettingsResponse> SetMethod(
    metastore::IndexService* metastore) {
  return [metastore](const CallContext& ctx, const sv1::SetSettingsRequest& request,
                     sv1::SetSettingsResponse* response, UnaryDone done) {
    if (!request.has_setting()) return done(absl::InvalidArgumentError("setting is required"));
    auto req = std::make_shared<mv1::SetTenantSettingRequest>();
    auto resp = std::make_shared<mv1::SetTenantSettingResponse>();
    req->set_tenant_id(ctx.tenant);
    req->mutable_setting()->set_name(request.setting().name());
    req->mutable_setting()->set_value(request.setting().value());
    req->mutable_setting()->set_modified_at_ms(request.setting().modifiedat());
    metastore->SetTenantSetting(ctx, *req, resp.get(),
                                [req, resp, response, done = std::move(done)](absl::Status st) {
                                  if (st.ok())
                                    ToPublic(resp->setting(), response->mutable_setting());
                                  done(std::move(st));
                                });
  };
}

class SettingsGrpcService final : public sv1::SettingsService::CallbackService {
 public:
  SettingsGrpcService(metastore::IndexService* metastore, const RpcEnvironment* env)
      : get_(kGet, GetMethod(metastore), env), set_(kSet, SetMethod(metastore), env) {}
  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* c, const sv1::GetSettingsRequest* req,
                                sv1::GetSettingsResponse* resp) override {
    return get_(c, req, resp);
  }
  grpc::ServerUnaryReactor* Set(grpc::CallbackServerContext* c, const sv1::SetSettingsRequest* req,
                                sv1::SetSettingsResponse* resp) override {
    return set_(c, req, resp);
  }

 private:
  GrpcUnary<sv1::GetSettingsRequest, sv1::GetSettingsResponse> get_;
  GrpcUnary<sv1::SetSettingsRequest, sv1::SetSettingsResponse> set_;
};

}  // namespace

void RegisterSettingsConnectRoutes(metastore::IndexService* metastore, HttpRouter& router,
                                   const RpcEnvironment* env) {
  RegisterConnectUnary(router, kGet, GetMethod(metastore), env);
  RegisterConnectUnary(router, kSet, SetMethod(metastore), env);
}

std::unique_ptr<grpc::Service> NewSettingsGrpcService(metastore::IndexService* metastore,
                                                      const RpcEnvironment* env) {
  return std::make_unique<SettingsGrpcService>(metastore, env);
}

}  // namespace embers::server
