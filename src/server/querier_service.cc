#include "server/querier_service.h"

#include <atomic>
#include <cstdlib>
#include <mutex>

#include "absl/time/civil_time.h"
#include "base/strings.h"
#include "model/profile_type.h"
#include "nlohmann/json.hpp"
#include "querier/v1/querier.grpc.pb.h"
#include "query/flame_graph.h"
#include "query/timeline.h"
#include "server/status_mapping.h"

namespace embers::server {
namespace {

using querier::v1::ProfileTypesRequest;
using querier::v1::ProfileTypesResponse;
using querier::v1::SelectMergeStacktracesRequest;
using querier::v1::SelectMergeStacktracesResponse;
using querier::v1::SelectSeriesRequest;
using querier::v1::SelectSeriesResponse;

constexpr char kService[] = "/querier.v1.QuerierService/";

// Adapts a QueryFrontend member function to the UnaryMethod shape both transports serve.
template <class Req, class Resp>
UnaryMethod<Req, Resp> Bind(query::QueryFrontend* frontend,
                            void (query::QueryFrontend::*method)(const CallContext&, const Req&,
                                                                 Resp*, UnaryDone)) {
  return [frontend, method](const CallContext& ctx, const Req& req, Resp* resp, UnaryDone done) {
    (frontend->*method)(ctx, req, resp, std::move(done));
  };
}

class QuerierGrpcService final : public querier::v1::QuerierService::CallbackService {
 public:
  QuerierGrpcService(query::QueryFrontend* frontend, const RpcEnvironment* env)
      : profile_types_(std::string(kService) + "ProfileTypes",
                       Bind(frontend, &query::QueryFrontend::ProfileTypes), env),
        select_merge_stacktraces_(std::string(kService) + "SelectMergeStacktraces",
                                  Bind(frontend, &query::QueryFrontend::SelectMergeStacktraces),
                                  env),
        select_series_(std::string(kService) + "SelectSeries",
                       Bind(frontend, &query::QueryFrontend::SelectSeries), env) {}

  grpc::ServerUnaryReactor* ProfileTypes(grpc::CallbackServerContext* context,
                                         const ProfileTypesRequest* request,
                                         ProfileTypesResponse* response) override {
    return profile_types_(context, request, response);
  }
  grpc::ServerUnaryReactor* SelectMergeStacktraces(
      grpc::CallbackServerContext* context, const SelectMergeStacktracesRequest* request,
      SelectMergeStacktracesResponse* response) override {
    return select_merge_stacktraces_(context, request, response);
  }
  grpc::ServerUnaryReactor* SelectSeries(grpc::CallbackServerContext* context,
                                         const SelectSeriesRequest* request,
                                         SelectSeriesResponse* response) override {
    return select_series_(context, request, response);
  }

 private:
  GrpcUnary<ProfileTypesRequest, ProfileTypesResponse> profile_types_;
  GrpcUnary<SelectMergeStacktracesRequest, SelectMergeStacktracesResponse>
      select_merge_stacktraces_;
  GrpcUnary<SelectSeriesRequest, SelectSeriesResponse> select_series_;
};

// ---- legacy /pyroscope/render ---------------------------------------------------------------

// A time of the legacy API: "now", "now-<n><unit>" (one offset; ms, s, m, h, d, w, M = 30 d,
// y = 365 d), YYYYMMDD (UTC midnight), or a Unix time in s, ms, µs or ns told apart by
// magnitude. Empty → `fallback`.
absl::StatusOr<int64_t> ParseLegacyTime(std::string_view param, std::string_view s, int64_t now_ms,
                                        int64_t fallback) {
  s = StripWhitespace(s);
  if (s.empty()) return fallback;
  auto bad = [&] {
    return absl::InvalidArgumentError(StrCat("invalid '", param, "' time: \"", s, "\""));
  };
  if (s == "now") return now_ms;
  if (s.starts_with("now-")) {
    std::string_view rest = s.substr(4);
    size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    int64_t n = 0;
    if (digits == 0 || !ParseInt64(rest.substr(0, digits), &n)) return bad();
    std::string_view unit = rest.substr(digits);
    static constexpr std::pair<std::string_view, int64_t> kUnits[] = {
        {"ms", 1},
        {"s", 1000},
        {"m", 60'000},
        {"h", 3'600'000},
        {"d", 86'400'000},
        {"w", 7 * 86'400'000ll},
        {"M", 30 * 86'400'000ll},
        {"y", 365 * 86'400'000ll},
    };
    int64_t ms = 0;
    for (const auto& [name, unit_ms] : kUnits) {
      if (unit == name) ms = unit_ms;
    }
    if (ms == 0) return bad();
    return now_ms - n * ms;
  }
  int64_t v = 0;
  if (!ParseInt64(s, &v) || v < 0) return bad();
  if (s.size() == 8 && (s.starts_with("19") || s.starts_with("20"))) {
    absl::CivilDay day(v / 10000, v / 100 % 100, v % 100);
    return absl::ToUnixMillis(absl::FromCivil(day, absl::UTCTimeZone()));
  }
  if (v < 10'000'000'000ll) return v * 1000;          // seconds
  if (v < 10'000'000'000'000ll) return v;             // milliseconds
  if (v < 10'000'000'000'000'000ll) return v / 1000;  // microseconds
  return v / 1'000'000;                               // nanoseconds
}

nlohmann::ordered_json TimelineJson(const query::Timeline& t) {
  nlohmann::ordered_json j;
  j["startTime"] = t.start_time;
  j["samples"] = t.samples;
  j["durationDelta"] = t.duration_delta;
  j["watermarks"] = nullptr;
  return j;
}

// Both queries of one render request and what they answered.
struct RenderCall {
  SelectMergeStacktracesRequest merge_request;
  SelectMergeStacktracesResponse merge_response;
  SelectSeriesRequest series_request;
  SelectSeriesResponse series_response;
  model::ProfileType type;
  std::string group_by;
  int64_t step_seconds = 0;
  HttpResponder responder;
  std::atomic<int> pending{2};
  std::mutex mu;
  absl::Status status;

  explicit RenderCall(HttpResponder r) : responder(std::move(r)) {}

  void Done(absl::Status st) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (status.ok()) status = st;
    }
    if (pending.fetch_sub(1) != 1) return;
    if (!status.ok()) return responder.Send(ErrorResponse(status, false));
    responder.Send(HttpResponse::Json(200, Render()));
  }

  std::string Render() const {
    const querier::v1::FlameGraph& fg = merge_response.flamegraph();
    nlohmann::ordered_json levels = nlohmann::ordered_json::array();
    for (const auto& l : fg.levels()) {
      levels.push_back(std::vector<int64_t>(l.values().begin(), l.values().end()));
    }
    query::FlamebearerUnits units = query::UnitsForSampleType(type.sample_type, type.sample_unit);
    nlohmann::ordered_json out;
    out["version"] = 1;
    out["flamebearer"] = {
        {"names", std::vector<std::string>(fg.names().begin(), fg.names().end())},
        {"levels", std::move(levels)},
        {"numTicks", fg.total()},
        {"maxSelf", fg.max_self()},
    };
    out["metadata"] = {
        {"format", "single"},
        {"spyName", ""},
        {"sampleRate", units.sample_rate},
        {"units", units.units},
        {"name", type.sample_type},
    };
    const int64_t from = series_request.start(), until = series_request.end();
    // The timeline is the single series' (none when group-by split it), as upstream.
    types::v1::Series one;
    if (series_response.series_size() == 1) one = series_response.series(0);
    out["timeline"] = TimelineJson(query::BuildTimeline(one, from, until, step_seconds));
    if (group_by.empty()) {
      out["groups"] = nullptr;
    } else {
      nlohmann::ordered_json groups = nlohmann::ordered_json::object();
      for (const auto& s : series_response.series()) {
        std::string key = "*";
        for (const auto& l : s.labels()) {
          if (l.name() == group_by) key = l.value();
        }
        groups[key] = TimelineJson(query::BuildTimeline(s, from, until, step_seconds));
      }
      out["groups"] = std::move(groups);
    }
    out["heatmap"] = nullptr;
    return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
};

void HandleRender(query::QueryFrontend* frontend, const RpcEnvironment* env, HttpRequest& http,
                  HttpResponder responder) {
  absl::StatusOr<std::string> tenant = env->tenants->Resolve(http.Header("x-scope-orgid"));
  if (!tenant.ok()) return responder.Send(ErrorResponse(tenant.status(), false));
  auto fail = [&responder](absl::Status st) { responder.Send(ErrorResponse(st, false)); };

  if (http.Query("format") == "dot") {
    return fail(absl::UnimplementedError("format=dot is not supported yet"));
  }
  // query = <profile type id>{selector}
  std::string_view q = StripWhitespace(http.Query("query"));
  if (q.empty()) return fail(absl::InvalidArgumentError("the 'query' parameter is required"));
  size_t brace = q.find('{');
  std::string_view type_id = StripWhitespace(q.substr(0, brace));
  std::string_view selector = brace == std::string_view::npos ? "" : q.substr(brace);
  absl::StatusOr<model::ProfileType> type = model::ParseProfileType(type_id);
  if (!type.ok()) return fail(type.status());

  const int64_t now = absl::ToUnixMillis(absl::Now());
  absl::StatusOr<int64_t> from = ParseLegacyTime("from", http.Query("from"), now, now - 3'600'000);
  if (!from.ok()) return fail(from.status());
  absl::StatusOr<int64_t> until = ParseLegacyTime("until", http.Query("until"), now, now);
  if (!until.ok()) return fail(until.status());
  int64_t max_nodes = 0;
  std::string_view max_nodes_text = http.Query("max-nodes");
  if (max_nodes_text.empty()) max_nodes_text = http.Query("maxNodes");
  if (!max_nodes_text.empty() && !ParseInt64(max_nodes_text, &max_nodes)) {
    return fail(absl::InvalidArgumentError(StrCat("invalid max-nodes: \"", max_nodes_text, "\"")));
  }
  std::string_view aggregation = http.Query("aggregation");
  if (!aggregation.empty() && aggregation != "sum" && aggregation != "avg") {
    return fail(absl::InvalidArgumentError(
        StrCat("invalid aggregation \"", aggregation, "\": want sum or avg")));
  }

  auto call = std::make_shared<RenderCall>(std::move(responder));
  call->type = std::move(*type);
  call->group_by = std::string(http.Query("groupBy"));
  call->merge_request.set_profile_typeid(std::string(type_id));
  call->merge_request.set_label_selector(std::string(selector));
  call->merge_request.set_start(*from);
  call->merge_request.set_end(*until);
  if (max_nodes != 0) call->merge_request.set_max_nodes(max_nodes);
  const double step = query::TimelineStepSeconds(*from, *until);
  call->step_seconds = static_cast<int64_t>(step);
  SelectSeriesRequest& sr = call->series_request;
  sr.set_profile_typeid(std::string(type_id));
  sr.set_label_selector(std::string(selector));
  sr.set_start(*from);
  sr.set_end(*until);
  sr.set_step(step);
  if (!call->group_by.empty()) sr.add_group_by(call->group_by);
  sr.set_aggregation(aggregation == "avg" ? types::v1::TIME_SERIES_AGGREGATION_TYPE_AVERAGE
                                          : types::v1::TIME_SERIES_AGGREGATION_TYPE_SUM);

  CallContext ctx{.tenant = *tenant};
  frontend->SelectMergeStacktraces(ctx, call->merge_request, &call->merge_response,
                                   [call](absl::Status st) { call->Done(st); });
  frontend->SelectSeries(ctx, call->series_request, &call->series_response,
                         [call](absl::Status st) { call->Done(st); });
}

}  // namespace

void RegisterQuerierConnectRoutes(query::QueryFrontend* frontend, HttpRouter& router,
                                  const RpcEnvironment* env) {
  RegisterConnectUnary<ProfileTypesRequest, ProfileTypesResponse>(
      router, std::string(kService) + "ProfileTypes",
      Bind(frontend, &query::QueryFrontend::ProfileTypes), env);
  RegisterConnectUnary<SelectMergeStacktracesRequest, SelectMergeStacktracesResponse>(
      router, std::string(kService) + "SelectMergeStacktraces",
      Bind(frontend, &query::QueryFrontend::SelectMergeStacktraces), env);
  RegisterConnectUnary<SelectSeriesRequest, SelectSeriesResponse>(
      router, std::string(kService) + "SelectSeries",
      Bind(frontend, &query::QueryFrontend::SelectSeries), env);
}

std::unique_ptr<grpc::Service> NewQuerierGrpcService(query::QueryFrontend* frontend,
                                                     const RpcEnvironment* env) {
  return std::make_unique<QuerierGrpcService>(frontend, env);
}

void RegisterLegacyQueryRoutes(query::QueryFrontend* frontend, HttpRouter& router,
                               const RpcEnvironment* env) {
  router.Handle("GET", "/pyroscope/render",
                [frontend, env](HttpRequest& http, HttpResponder responder) {
                  HandleRender(frontend, env, http, std::move(responder));
                });
}

}  // namespace embers::server
