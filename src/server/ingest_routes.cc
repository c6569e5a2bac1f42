#include "server/ingest_routes.h"

#include <google/protobuf/util/json_util.h>

#include "base/status.h"
#include "base/strings.h"
#include "ingest/adapters/legacy_ingest.h"
#include "ingest/adapters/otlp.h"
#include "opentelemetry/proto/collector/profiles/v1development/profiles_service.grpc.pb.h"
#include "server/status_mapping.h"

namespace embers::server {
namespace {

namespace otlp_v1 = ::opentelemetry::proto::collector::profiles::v1development;

// Pyroscope answers /ingest push failures with 422 unless they are rate limits (429); we keep
// Unavailable as 503 as well, so SDKs retry when storage is down instead of dropping data.
absl::Status ForIngest(absl::Status st) {
  if (st.code() == absl::StatusCode::kInvalidArgument && !HttpStatusOverride(st)) {
    return UnprocessableError(std::string(st.message()));
  }
  return st;
}

// Distributor::Admit before any decoding (OK while the distributor is starting: PushProfiles
// answers that).
absl::Status Admit(const IngestRouteDeps& deps, const std::string& tenant) {
  distributor::Distributor* d = deps.distributor->load();
  return d == nullptr ? absl::OkStatus() : d->Admit(tenant);
}

void PushProfiles(const IngestRouteDeps& deps, const CallContext& ctx,
                  std::vector<ingest::IngestProfile> profiles, UnaryDone done) {
  distributor::Distributor* d = deps.distributor->load();
  if (d == nullptr) return done(absl::UnavailableError("the distributor is starting"));
  if (profiles.empty()) return done(absl::OkStatus());
  d->Push(ctx, std::move(profiles), std::move(done));
}

void HandleLegacyIngest(const IngestRouteDeps& deps, HttpRequest& http, HttpResponder responder) {
  absl::StatusOr<std::string> tenant = deps.tenants->Resolve(HttpCredentials(http));
  if (!tenant.ok()) return responder.Send(ErrorResponse(tenant.status(), false));
  if (absl::Status st = Admit(deps, *tenant); !st.ok()) {
    return responder.Send(ErrorResponse(st, false));
  }
  ingest::LegacyIngestRequest req;
  req.name = std::string(http.Query("name"));
  req.from = std::string(http.Query("from"));
  req.until = std::string(http.Query("until"));
  req.format = std::string(http.Query("format"));
  req.sample_rate = std::string(http.Query("sampleRate"));
  req.spy_name = std::string(http.Query("spyName"));
  req.units = std::string(http.Query("units"));
  req.aggregation_type = std::string(http.Query("aggregationType"));
  req.content_type = std::string(http.Header("content-type"));
  // The body must outlive the conversion only: ConvertLegacyIngest copies what it keeps.
  auto body = std::make_shared<std::string>(std::move(http.body));
  req.body = *body;
  req.limits.max_profile_size = deps.max_profile_size;
  absl::StatusOr<std::vector<ingest::IngestProfile>> profiles = ingest::ConvertLegacyIngest(req);
  if (!profiles.ok()) return responder.Send(ErrorResponse(profiles.status(), false));
  PushProfiles(deps, CallContext{.tenant = *tenant}, std::move(*profiles),
               [responder](absl::Status st) {
                 if (!st.ok()) return responder.Send(ErrorResponse(ForIngest(st), false));
                 responder.Send(HttpResponse::Text(200, ""));
               });
}

void HandleOtlpHttp(const IngestRouteDeps& deps, HttpRequest& http, HttpResponder responder) {
  std::string content_type(http.Header("content-type"));
  const bool json = content_type.find("json") != std::string::npos;
  auto fail = [&](const absl::Status& st) { responder.Send(ErrorResponse(st, false)); };
  absl::StatusOr<std::string> tenant = deps.tenants->Resolve(HttpCredentials(http));
  if (!tenant.ok()) return fail(tenant.status());
  if (absl::Status st = Admit(deps, *tenant); !st.ok()) return fail(st);
  absl::StatusOr<ingest::OtlpExportRequest> request =
      ingest::ParseOtlpHttpBody(content_type, http.body);
  if (!request.ok()) return fail(request.status());
  absl::StatusOr<std::vector<ingest::IngestProfile>> profiles = ingest::ConvertOtlp(*request);
  if (!profiles.ok()) return fail(profiles.status());
  PushProfiles(deps, CallContext{.tenant = *tenant}, std::move(*profiles),
               [responder, json](absl::Status st) {
                 if (!st.ok()) return responder.Send(ErrorResponse(st, false));
                 otlp_v1::ExportProfilesServiceResponse response;
                 HttpResponse out;
                 if (json) {
                   out.content_type = "application/json";
                   (void)google::protobuf::util::MessageToJsonString(response, &out.body);
                 } else {
                   out.content_type = "application/x-protobuf";
                   response.SerializeToString(&out.body);
                 }
                 responder.Send(std::move(out));
               });
}

constexpr char kOtlpExportMethod[] =
    "/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export";

UnaryMethod<otlp_v1::ExportProfilesServiceRequest, otlp_v1::ExportProfilesServiceResponse>
OtlpExportMethod(IngestRouteDeps deps) {
  return [deps](const CallContext& ctx, const otlp_v1::ExportProfilesServiceRequest& req,
                otlp_v1::ExportProfilesServiceResponse*, UnaryDone done) {
    if (absl::Status st = Admit(deps, ctx.tenant); !st.ok()) return done(st);
    absl::StatusOr<std::vector<ingest::IngestProfile>> profiles = ingest::ConvertOtlp(req);
    if (!profiles.ok()) return done(profiles.status());
    PushProfiles(deps, ctx, std::move(*profiles), std::move(done));
  };
}

class OtlpGrpcService final : public otlp_v1::ProfilesService::CallbackService {
 public:
  OtlpGrpcService(IngestRouteDeps deps, const RpcEnvironment* env)
      : export_(kOtlpExportMethod, OtlpExportMethod(deps), env) {}
  grpc::ServerUnaryReactor* Export(grpc::CallbackServerContext* context,
                                   const otlp_v1::ExportProfilesServiceRequest* request,
                                   otlp_v1::ExportProfilesServiceResponse* response) override {
    return export_(context, request, response);
  }

 private:
  GrpcUnary<otlp_v1::ExportProfilesServiceRequest, otlp_v1::ExportProfilesServiceResponse> export_;
};

}  // namespace

void RegisterIngestRoutes(IngestRouteDeps deps, const RpcEnvironment* env, HttpRouter& router) {
  auto legacy = [deps](HttpRequest& http, HttpResponder responder) {
    HandleLegacyIngest(deps, http, std::move(responder));
  };
  // Converting and decoding the profiles is CPU work: the server runs it off the I/O threads.
  const RouteOptions cpu_bound{.cpu_bound = true};
  router.Handle("POST", "/ingest", legacy, cpu_bound);
  router.Handle("POST", "/pyroscope/ingest", legacy, cpu_bound);
  router.Handle(
      "POST", "/v1development/profiles",
      [deps](HttpRequest& http, HttpResponder responder) {
        HandleOtlpHttp(deps, http, std::move(responder));
      },
      cpu_bound);
  // OTLP Export over Connect (unary, proto or JSON), the path upstream also serves it on.
  RegisterConnectUnary(router, kOtlpExportMethod, OtlpExportMethod(deps), env, cpu_bound);
}

std::unique_ptr<grpc::Service> NewOtlpGrpcService(IngestRouteDeps deps, const RpcEnvironment* env) {
  return std::make_unique<OtlpGrpcService>(deps, env);
}

}  // namespace embers::server
