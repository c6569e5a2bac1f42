#include "server/legacy_query_routes.h"

#include <atomic>
#include <cstdlib>
#include <mutex>

#include "absl/time/civil_time.h"
#include "base/strings.h"
#include "model/labels.h"
#include "model/profile_type.h"
#include "nlohmann/json.hpp"
#include "query/flame_graph.h"
#include "query/timeline.h"
#include "server/flamebearer_json.h"
#include "server/status_mapping.h"

namespace embers::server {
namespace {

using querier::v1::SelectMergeStacktracesRequest;
using querier::v1::SelectMergeStacktracesResponse;
using querier::v1::SelectSeriesRequest;
using querier::v1::SelectSeriesResponse;

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

// `<profile type id>{selector}` and its time range, as every legacy query parameter set has it.
struct LegacyQuery {
  std::string type_id;
  std::string selector;
  model::ProfileType type;
  int64_t from = 0;
  int64_t until = 0;
};

absl::StatusOr<LegacyQuery> ParseLegacyQuery(HttpRequest& http, std::string_view query_param,
                                             std::string_view from_param,
                                             std::string_view until_param) {
  LegacyQuery out;
  std::string_view q = StripWhitespace(http.Query(query_param));
  if (q.empty()) {
    return absl::InvalidArgumentError(StrCat("the '", query_param, "' parameter is required"));
  }
  const size_t brace = q.find('{');
  out.type_id = std::string(StripWhitespace(q.substr(0, brace)));
  out.selector = brace == std::string_view::npos ? "" : std::string(q.substr(brace));
  absl::StatusOr<model::ProfileType> type = model::ParseProfileType(out.type_id);
  if (!type.ok()) return type.status();
  out.type = std::move(*type);
  const int64_t now = absl::ToUnixMillis(absl::Now());
  absl::StatusOr<int64_t> from =
      ParseLegacyTime(from_param, http.Query(from_param), now, now - 3'600'000);
  if (!from.ok()) return from.status();
  absl::StatusOr<int64_t> until = ParseLegacyTime(until_param, http.Query(until_param), now, now);
  if (!until.ok()) return until.status();
  out.from = *from;
  out.until = *until;
  return out;
}

// max-nodes (or maxNodes); 0 when absent.
absl::StatusOr<int64_t> ParseMaxNodes(HttpRequest& http) {
  int64_t max_nodes = 0;
  std::string_view text = http.Query("max-nodes");
  if (text.empty()) text = http.Query("maxNodes");
  if (!text.empty() && !ParseInt64(text, &max_nodes)) {
    return absl::InvalidArgumentError(StrCat("invalid max-nodes: \"", text, "\""));
  }
  return max_nodes;
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
    nlohmann::ordered_json out = FlamebearerJson(merge_response.flamegraph(), "single", type);
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
    return DumpJson(out);
  }
};

void HandleRender(query::QueryFrontend* frontend, const RpcEnvironment* env, HttpRequest& http,
                  HttpResponder responder) {
  absl::StatusOr<std::string> tenant = env->tenants->Resolve(HttpCredentials(http));
  if (!tenant.ok()) return responder.Send(ErrorResponse(tenant.status(), false));
  auto fail = [&responder](absl::Status st) { responder.Send(ErrorResponse(st, false)); };

  absl::StatusOr<LegacyQuery> parsed = ParseLegacyQuery(http, "query", "from", "until");
  if (!parsed.ok()) return fail(parsed.status());
  absl::StatusOr<int64_t> max_nodes = ParseMaxNodes(http);
  if (!max_nodes.ok()) return fail(max_nodes.status());
  const std::string_view type_id = parsed->type_id, selector = parsed->selector;
  const int64_t* from = &parsed->from;
  const int64_t* until = &parsed->until;

  if (http.Query("format") == "dot") {
    auto req = std::make_shared<SelectMergeStacktracesRequest>();
    auto resp = std::make_shared<SelectMergeStacktracesResponse>();
    req->set_profile_typeid(std::string(type_id));
    req->set_label_selector(std::string(selector));
    req->set_start(*from);
    req->set_end(*until);
    if (*max_nodes != 0) req->set_max_nodes(*max_nodes);
    req->set_format(querier::v1::PROFILE_FORMAT_DOT);
    return frontend->SelectMergeStacktraces(
        CallContext{.tenant = *tenant}, *req, resp.get(),
        [req, resp, responder = std::move(responder)](absl::Status st) mutable {
          if (!st.ok()) return responder.Send(ErrorResponse(st, false));
          responder.Send(HttpResponse::Text(200, std::move(*resp->mutable_dot())));
        });
  }
  std::string_view aggregation = http.Query("aggregation");
  if (!aggregation.empty() && aggregation != "sum" && aggregation != "avg") {
    return fail(absl::InvalidArgumentError(
        StrCat("invalid aggregation \"", aggregation, "\": want sum or avg")));
  }

  auto call = std::make_shared<RenderCall>(std::move(responder));
  call->type = parsed->type;
  call->group_by = std::string(http.Query("groupBy"));
  call->merge_request.set_profile_typeid(std::string(type_id));
  call->merge_request.set_label_selector(std::string(selector));
  call->merge_request.set_start(*from);
  call->merge_request.set_end(*until);
  if (*max_nodes != 0) call->merge_request.set_max_nodes(*max_nodes);
  const double step = query::TimelineStepSeconds(*from, *until);
  call->step_seconds = static_cast<int64_t>(step);
  SelectSeriesRequest& sr = call->series_request;
  sr.set_profile_typeid(std::string(type_id));
  sr.set_label_selector(std::string(selector));
  // Whole steps that end at `until`: SelectSeries leaves out a step that ends after its range
  // (as upstream does), so over n.5 steps the newest half step, what was pushed a moment ago,
  // would be missing. The timeline then starts up to one step before `from`, like upstream's,
  // which starts at `from` truncated to the step.
  const int64_t step_ms = call->step_seconds * 1000;
  const int64_t steps = step_ms > 0 ? (*until - *from + step_ms - 1) / step_ms : 0;
  sr.set_start(*until > *from && steps > 0 ? *until - steps * step_ms : *from);
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

// GET /pyroscope/render-diff: two tree queries of one profile type, rendered as a "double"
// flamebearer (7 integers per node: left x/total/self, right x/total/self, name).
void HandleRenderDiff(query::QueryFrontend* frontend, const RpcEnvironment* env, HttpRequest& http,
                      HttpResponder responder) {
  absl::StatusOr<std::string> tenant = env->tenants->Resolve(HttpCredentials(http));
  if (!tenant.ok()) return responder.Send(ErrorResponse(tenant.status(), false));
  auto fail = [&responder](absl::Status st) { responder.Send(ErrorResponse(st, false)); };
  absl::StatusOr<LegacyQuery> left = ParseLegacyQuery(http, "leftQuery", "leftFrom", "leftUntil");
  if (!left.ok()) return fail(left.status());
  absl::StatusOr<LegacyQuery> right =
      ParseLegacyQuery(http, "rightQuery", "rightFrom", "rightUntil");
  if (!right.ok()) return fail(right.status());
  if (left->type_id != right->type_id) {
    return fail(
        absl::InvalidArgumentError(StrCat("left and right queries must have the same "
                                          "profile type (",
                                          left->type_id, " vs ", right->type_id, ")")));
  }
  absl::StatusOr<int64_t> max_nodes = ParseMaxNodes(http);
  if (!max_nodes.ok()) return fail(max_nodes.status());
  auto req = std::make_shared<querier::v1::DiffRequest>();
  auto resp = std::make_shared<querier::v1::DiffResponse>();
  for (auto [side, q] : {std::pair{req->mutable_left(), &*left}, {req->mutable_right(), &*right}}) {
    side->set_profile_typeid(q->type_id);
    side->set_label_selector(q->selector);
    side->set_start(q->from);
    side->set_end(q->until);
    if (*max_nodes != 0) side->set_max_nodes(*max_nodes);
  }
  frontend->Diff(
      CallContext{.tenant = *tenant}, *req, resp.get(),
      [req, resp, type = left->type, responder = std::move(responder)](absl::Status st) mutable {
        if (!st.ok()) return responder.Send(ErrorResponse(st, false));
        responder.Send(
            HttpResponse::Json(200, DumpJson(DiffFlamebearerDocument(resp->flamegraph(), type))));
      });
}

// GET /pyroscope/label-values?label=<name>[&query=<type>{selector}][&from&until] and
// GET /pyroscope/labels[?query=...]: JSON arrays of label values / names. The values of label
// __name__ are the profile type ids, as upstream answers it.
void HandleLabels(query::QueryFrontend* frontend, const RpcEnvironment* env, HttpRequest& http,
                  HttpResponder responder, bool values) {
  absl::StatusOr<std::string> tenant = env->tenants->Resolve(HttpCredentials(http));
  if (!tenant.ok()) return responder.Send(ErrorResponse(tenant.status(), false));
  auto fail = [&responder](absl::Status st) { responder.Send(ErrorResponse(st, false)); };
  std::string_view label = http.Query("label");
  if (values && label.empty()) {
    return fail(absl::InvalidArgumentError("the 'label' parameter is required"));
  }
  const int64_t now = absl::ToUnixMillis(absl::Now());
  absl::StatusOr<int64_t> from = ParseLegacyTime("from", http.Query("from"), now, 0);
  if (!from.ok()) return fail(from.status());
  absl::StatusOr<int64_t> until = ParseLegacyTime("until", http.Query("until"), now, 0);
  if (!until.ok()) return fail(until.status());
  // query may be "<type>{selector}", "{selector}" or empty.
  std::string matcher;
  std::string_view q = StripWhitespace(http.Query("query"));
  if (!q.empty()) {
    const size_t brace = q.find('{');
    std::string_view type_id = StripWhitespace(q.substr(0, brace));
    std::string_view selector = brace == std::string_view::npos ? "{}" : q.substr(brace);
    matcher = std::string(selector);
    if (!type_id.empty()) {
      absl::StatusOr<model::ProfileType> type = model::ParseProfileType(type_id);
      if (!type.ok()) return fail(type.status());
      // Appends __profile_type__ to the selector's matchers.
      const size_t close = matcher.rfind('}');
      if (close == std::string::npos) return fail(absl::InvalidArgumentError("invalid query"));
      const bool empty = StripWhitespace(std::string_view(matcher).substr(1, close - 1)).empty();
      matcher.insert(close,
                     StrCat(empty ? "" : ",", model::kLabelProfileType, "=\"", type_id, "\""));
    }
  }
  auto send = [](HttpResponder& r, const google::protobuf::RepeatedPtrField<std::string>& names) {
    r.Send(HttpResponse::Json(200, DumpJson(nlohmann::ordered_json(
                                       std::vector<std::string>(names.begin(), names.end())))));
  };
  CallContext ctx{.tenant = *tenant};
  if (values && label == "__name__") {
    // Pyroscope's legacy API lists the profile type ids as the values of __name__.
    auto req = std::make_shared<querier::v1::ProfileTypesRequest>();
    auto resp = std::make_shared<querier::v1::ProfileTypesResponse>();
    req->set_start(*from);
    req->set_end(*until);
    return frontend->ProfileTypes(
        ctx, *req, resp.get(),
        [req, resp, responder = std::move(responder)](absl::Status st) mutable {
          if (!st.ok()) return responder.Send(ErrorResponse(st, false));
          std::vector<std::string> ids;
          for (const types::v1::ProfileType& t : resp->profile_types()) ids.push_back(t.id());
          responder.Send(HttpResponse::Json(200, DumpJson(nlohmann::ordered_json(ids))));
        });
  }
  if (values) {
    auto req = std::make_shared<types::v1::LabelValuesRequest>();
    auto resp = std::make_shared<types::v1::LabelValuesResponse>();
    req->set_name(std::string(label));
    if (!matcher.empty()) req->add_matchers(matcher);
    req->set_start(*from);
    req->set_end(*until);
    return frontend->LabelValues(
        ctx, *req, resp.get(),
        [req, resp, send, responder = std::move(responder)](absl::Status st) mutable {
          if (!st.ok()) return responder.Send(ErrorResponse(st, false));
          send(responder, resp->names());
        });
  }
  auto req = std::make_shared<types::v1::LabelNamesRequest>();
  auto resp = std::make_shared<types::v1::LabelNamesResponse>();
  if (!matcher.empty()) req->add_matchers(matcher);
  req->set_start(*from);
  req->set_end(*until);
  frontend->LabelNames(
      ctx, *req, resp.get(),
      [req, resp, send, responder = std::move(responder)](absl::Status st) mutable {
        if (!st.ok()) return responder.Send(ErrorResponse(st, false));
        send(responder, resp->names());
      });
}

}  // namespace

void RegisterLegacyQueryRoutes(query::QueryFrontend* frontend, HttpRouter& router,
                               const RpcEnvironment* env) {
  router.Handle("GET", "/pyroscope/render",
                [frontend, env](HttpRequest& http, HttpResponder responder) {
                  HandleRender(frontend, env, http, std::move(responder));
                });
  router.Handle("GET", "/pyroscope/render-diff",
                [frontend, env](HttpRequest& http, HttpResponder responder) {
                  HandleRenderDiff(frontend, env, http, std::move(responder));
                });
  router.Handle("GET", "/pyroscope/label-values",
                [frontend, env](HttpRequest& http, HttpResponder responder) {
                  HandleLabels(frontend, env, http, std::move(responder), true);
                });
  router.Handle("GET", "/pyroscope/labels",
                [frontend, env](HttpRequest& http, HttpResponder responder) {
                  HandleLabels(frontend, env, http, std::move(responder), false);
                });
}

}  // namespace embers::server
