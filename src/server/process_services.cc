#include "server/process_services.h"

#include <google/protobuf/util/json_util.h>

#include "capabilities/v1/feature_flags.grpc.pb.h"
#include "status/v1/status.grpc.pb.h"
#include "version/v1/version.grpc.pb.h"

namespace embers::server {
namespace {

namespace sv1 = ::status::v1;
namespace vv1 = ::version::v1;
namespace cv1 = ::capabilities::v1;
using google::api::HttpBody;

constexpr char kYamlContentType[] = "text/plain; charset=utf-8";

void FillBuildInfo(const ProcessInfo& info, sv1::GetBuildInfoResponse* out) {
  out->set_status("success");
  sv1::GetBuildInfoData* data = out->mutable_data();
  data->set_version(info.version);
  data->set_revision(info.revision);
  data->set_branch(info.branch);
  data->set_build_date(info.build_date);
  data->set_go_version(info.compiler);
}

// The flags upstream lists, sorted by name as upstream sorts them; Embers has the v2 storage
// layer (it is built on it) and no ruler.
void FillFeatureFlags(const ProcessInfo& info, cv1::GetFeatureFlagsResponse* out) {
  struct Flag {
    const char* name;
    bool enabled;
    const char* description;
  };
  const Flag flags[] = {
      {"pyroscopeRuler", false,
       "Supports the Pyroscope ruler, which exports Prometheus metrics from Profiling Data."},
      {"pyroscopeRulerFunctions", false,
       "Enables function support for the Pyroscope ruler, which allows to export resource usage "
       "on a per function level."},
      {"utf8LabelNames", info.utf8_label_names,
       "Supports UTF-8 label names for Pyroscope read/write APIs."},
      {"v2StorageLayer", true, "v2 storage layer"},
  };
  for (const Flag& f : flags) {
    cv1::FeatureFlag* flag = out->add_feature_flags();
    flag->set_name(f.name);
    flag->set_enabled(f.enabled);
    flag->set_description(f.description);
  }
}

UnaryMethod<sv1::GetConfigRequest, HttpBody> ConfigMethod(const std::string* yaml) {
  return [yaml](const CallContext&, const sv1::GetConfigRequest&, HttpBody* out, UnaryDone done) {
    out->set_content_type(kYamlContentType);
    out->set_data(*yaml);
    done(absl::OkStatus());
  };
}

UnaryMethod<sv1::GetBuildInfoRequest, sv1::GetBuildInfoResponse> BuildInfoMethod(
    const ProcessInfo* info) {
  return [info](const CallContext&, const sv1::GetBuildInfoRequest&, sv1::GetBuildInfoResponse* out,
                UnaryDone done) {
    FillBuildInfo(*info, out);
    done(absl::OkStatus());
  };
}

UnaryMethod<vv1::VersionRequest, vv1::VersionResponse> VersionMethod() {
  return [](const CallContext&, const vv1::VersionRequest&, vv1::VersionResponse* out,
            UnaryDone done) {
    out->set_querierapi(kQuerierApiVersion);
    done(absl::OkStatus());
  };
}

UnaryMethod<cv1::GetFeatureFlagsRequest, cv1::GetFeatureFlagsResponse> FeatureFlagsMethod(
    const ProcessInfo* info) {
  return [info](const CallContext&, const cv1::GetFeatureFlagsRequest&,
                cv1::GetFeatureFlagsResponse* out, UnaryDone done) {
    FillFeatureFlags(*info, out);
    done(absl::OkStatus());
  };
}

constexpr char kStatus[] = "/status.v1.StatusService/";
constexpr char kVersion[] = "/version.v1.Version/Version";
constexpr char kFeatureFlags[] = "/capabilities.v1.FeatureFlagsService/GetFeatureFlags";

class StatusGrpcService final : public sv1::StatusService::CallbackService {
 public:
  StatusGrpcService(const ProcessInfo* info, const RpcEnvironment* env)
      : build_info_(std::string(kStatus) + "GetBuildInfo", BuildInfoMethod(info), env),
        config_(std::string(kStatus) + "GetConfig", ConfigMethod(&info->config_yaml), env),
        diff_(std::string(kStatus) + "GetDiffConfig", ConfigMethod(&info->diff_config_yaml), env),
        default_(std::string(kStatus) + "GetDefaultConfig",
                 ConfigMethod(&info->default_config_yaml), env) {}

  grpc::ServerUnaryReactor* GetBuildInfo(grpc::CallbackServerContext* c,
                                         const sv1::GetBuildInfoRequest* req,
                                         sv1::GetBuildInfoResponse* resp) override {
    return build_info_(c, req, resp);
  }
  grpc::ServerUnaryReactor* GetConfig(grpc::CallbackServerContext* c,
                                      const sv1::GetConfigRequest* req, HttpBody* resp) override {
    return config_(c, req, resp);
  }
  grpc::ServerUnaryReactor* GetDiffConfig(grpc::CallbackServerContext* c,
                                          const sv1::GetConfigRequest* req,
                                          HttpBody* resp) override {
    return diff_(c, req, resp);
  }
  grpc::ServerUnaryReactor* GetDefaultConfig(grpc::CallbackServerContext* c,
                                             const sv1::GetConfigRequest* req,
                                             HttpBody* resp) override {
    return default_(c, req, resp);
  }

 private:
  GrpcUnary<sv1::GetBuildInfoRequest, sv1::GetBuildInfoResponse> build_info_;
  GrpcUnary<sv1::GetConfigRequest, HttpBody> config_, diff_, default_;
};

class VersionGrpcService final : public vv1::Version::CallbackService {
 public:
  explicit VersionGrpcService(const RpcEnvironment* env)
      : version_(kVersion, VersionMethod(), env) {}
  grpc::ServerUnaryReactor* Version(grpc::CallbackServerContext* c, const vv1::VersionRequest* req,
                                    vv1::VersionResponse* resp) override {
    return version_(c, req, resp);
  }

 private:
  GrpcUnary<vv1::VersionRequest, vv1::VersionResponse> version_;
};

class FeatureFlagsGrpcService final : public cv1::FeatureFlagsService::CallbackService {
 public:
  FeatureFlagsGrpcService(const ProcessInfo* info, const RpcEnvironment* env)
      : flags_(kFeatureFlags, FeatureFlagsMethod(info), env) {}
  grpc::ServerUnaryReactor* GetFeatureFlags(grpc::CallbackServerContext* c,
                                            const cv1::GetFeatureFlagsRequest* req,
                                            cv1::GetFeatureFlagsResponse* resp) override {
    return flags_(c, req, resp);
  }

 private:
  GrpcUnary<cv1::GetFeatureFlagsRequest, cv1::GetFeatureFlagsResponse> flags_;
};

HttpResponse YamlResponse(const std::string& yaml) {
  HttpResponse r;
  r.content_type = kYamlContentType;
  r.body = yaml;
  return r;
}

}  // namespace

void RegisterProcessServiceRoutes(const ProcessInfo* info, HttpRouter& router,
                                  const RpcEnvironment* env) {
  RegisterConnectUnary<sv1::GetBuildInfoRequest, sv1::GetBuildInfoResponse>(
      router, std::string(kStatus) + "GetBuildInfo", BuildInfoMethod(info), env);
  RegisterConnectUnary<sv1::GetConfigRequest, HttpBody>(router, std::string(kStatus) + "GetConfig",
                                                        ConfigMethod(&info->config_yaml), env);
  RegisterConnectUnary<sv1::GetConfigRequest, HttpBody>(
      router, std::string(kStatus) + "GetDiffConfig", ConfigMethod(&info->diff_config_yaml), env);
  RegisterConnectUnary<sv1::GetConfigRequest, HttpBody>(
      router, std::string(kStatus) + "GetDefaultConfig", ConfigMethod(&info->default_config_yaml),
      env);
  RegisterConnectUnary<vv1::VersionRequest, vv1::VersionResponse>(router, kVersion, VersionMethod(),
                                                                  env);
  RegisterConnectUnary<cv1::GetFeatureFlagsRequest, cv1::GetFeatureFlagsResponse>(
      router, kFeatureFlags, FeatureFlagsMethod(info), env);

  // Upstream's HTTP mapping of StatusService (grpc-gateway): JSON with lowerCamelCase names, every
  // field present.
  router.Handle("GET", "/api/v1/status/buildinfo", [info](HttpRequest&, HttpResponder responder) {
    sv1::GetBuildInfoResponse resp;
    FillBuildInfo(*info, &resp);
    google::protobuf::util::JsonPrintOptions options;
    options.always_print_primitive_fields = true;
    std::string body;
    (void)google::protobuf::util::MessageToJsonString(resp, &body, options);
    responder.Send(HttpResponse::Json(200, std::move(body)));
  });
  router.Handle("GET", "/api/v1/status/config", [info](HttpRequest&, HttpResponder responder) {
    responder.Send(YamlResponse(info->config_yaml));
  });
  router.Handle("GET", "/api/v1/status/config/diff", [info](HttpRequest&, HttpResponder responder) {
    responder.Send(YamlResponse(info->diff_config_yaml));
  });
  router.Handle("GET", "/api/v1/status/config/default",
                [info](HttpRequest&, HttpResponder responder) {
                  responder.Send(YamlResponse(info->default_config_yaml));
                });
}

std::vector<std::unique_ptr<grpc::Service>> NewProcessGrpcServices(const ProcessInfo* info,
                                                                   const RpcEnvironment* env) {
  std::vector<std::unique_ptr<grpc::Service>> services;
  services.push_back(std::make_unique<StatusGrpcService>(info, env));
  services.push_back(std::make_unique<VersionGrpcService>(env));
  services.push_back(std::make_unique<FeatureFlagsGrpcService>(info, env));
  return services;
}

}  // namespace embers::server
