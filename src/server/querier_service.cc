#include "server/querier_service.h"

#include <string>

#include "querier/v1/querier.grpc.pb.h"

namespace embers::server {
namespace {

namespace qv1 = querier::v1;
namespace tv1 = types::v1;
using query::QueryFrontend;

constexpr char kService[] = "/querier.v1.QuerierService/";

std::string MethodPath(std::string_view method) {
  return std::string(kService) + std::string(method);
}

// Adapts a QueryFrontend member function to the UnaryMethod shape both transports serve.
template <class Req, class Resp>
UnaryMethod<Req, Resp> Bind(QueryFrontend* frontend,
                            void (QueryFrontend::*method)(const CallContext&, const Req&, Resp*,
                                                          UnaryDone)) {
  return [frontend, method](const CallContext& ctx, const Req& req, Resp* resp, UnaryDone done) {
    (frontend->*method)(ctx, req, resp, std::move(done));
  };
}

// Every QuerierService method, once: X(name, request type, response type).
#define EMBERS_QUERIER_METHODS(X)                                               \
  X(ProfileTypes, qv1::ProfileTypesRequest, qv1::ProfileTypesResponse)          \
  X(LabelNames, tv1::LabelNamesRequest, tv1::LabelNamesResponse)                \
  X(LabelValues, tv1::LabelValuesRequest, tv1::LabelValuesResponse)             \
  X(Series, qv1::SeriesRequest, qv1::SeriesResponse)                            \
  X(SelectMergeStacktraces, qv1::SelectMergeStacktracesRequest,                 \
    qv1::SelectMergeStacktracesResponse)                                        \
  X(SelectMergeSpanProfile, qv1::SelectMergeSpanProfileRequest,                 \
    qv1::SelectMergeSpanProfileResponse)                                        \
  X(SelectMergeProfile, qv1::SelectMergeProfileRequest, google::v1::Profile)    \
  X(SelectSeries, qv1::SelectSeriesRequest, qv1::SelectSeriesResponse)          \
  X(SelectHeatmap, qv1::SelectHeatmapRequest, qv1::SelectHeatmapResponse)       \
  X(Diff, qv1::DiffRequest, qv1::DiffResponse)                                  \
  X(GetProfileStats, tv1::GetProfileStatsRequest, tv1::GetProfileStatsResponse) \
  X(AnalyzeQuery, qv1::AnalyzeQueryRequest, qv1::AnalyzeQueryResponse)

class QuerierGrpcService final : public qv1::QuerierService::CallbackService {
 public:
  QuerierGrpcService(QueryFrontend* frontend, const RpcEnvironment* env)
      :
#define EMBERS_INIT(name, Req, Resp) \
  name##_(MethodPath(#name), Bind(frontend, &QueryFrontend::name), env),
        EMBERS_QUERIER_METHODS(EMBERS_INIT) unused_(0) {
  }
#undef EMBERS_INIT

#define EMBERS_OVERRIDE(name, Req, Resp)                                                   \
  grpc::ServerUnaryReactor* name(grpc::CallbackServerContext* context, const Req* request, \
                                 Resp* response) override {                                \
    return name##_(context, request, response);                                            \
  }
  EMBERS_QUERIER_METHODS(EMBERS_OVERRIDE)
#undef EMBERS_OVERRIDE

 private:
#define EMBERS_MEMBER(name, Req, Resp) GrpcUnary<Req, Resp> name##_;
  EMBERS_QUERIER_METHODS(EMBERS_MEMBER)
#undef EMBERS_MEMBER
  int unused_;
};

}  // namespace

void RegisterQuerierConnectRoutes(QueryFrontend* frontend, HttpRouter& router,
                                  const RpcEnvironment* env) {
#define EMBERS_REGISTER(name, Req, Resp)                                                           \
  RegisterConnectUnary<Req, Resp>(router, MethodPath(#name), Bind(frontend, &QueryFrontend::name), \
                                  env);
  EMBERS_QUERIER_METHODS(EMBERS_REGISTER)
#undef EMBERS_REGISTER
}

std::unique_ptr<grpc::Service> NewQuerierGrpcService(QueryFrontend* frontend,
                                                     const RpcEnvironment* env) {
  return std::make_unique<QuerierGrpcService>(frontend, env);
}

}  // namespace embers::server
