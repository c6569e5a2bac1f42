#include "query/query_frontend.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "base/strings.h"
#include "model/labels.h"
#include "model/profile_type.h"
#include "query/flame_graph.h"

namespace embers::query {
namespace {

std::string FormatMs(int64_t ms) { return absl::FormatDuration(absl::Milliseconds(ms)); }

}  // namespace

absl::StatusOr<ParsedQuery> QueryFrontend::ParseQuery(std::string_view profile_type_id,
                                                      std::string_view label_selector,
                                                      int64_t start_ms, int64_t end_ms) const {
  ParsedQuery q;
  if (profile_type_id.empty()) return absl::InvalidArgumentError("profile_typeID is required");
  absl::StatusOr<model::ProfileType> type = model::ParseProfileType(profile_type_id);
  if (!type.ok()) return type.status();
  q.profile_type_id = std::string(profile_type_id);
  q.profile_type = std::move(*type);
  absl::StatusOr<model::Selector> selector = model::Selector::Parse(label_selector);
  if (!selector.ok()) {
    return absl::InvalidArgumentError(
        StrCat("invalid label selector: ", ToStd(selector.status().message())));
  }
  q.selector = std::move(*selector);
  if (end_ms < start_ms) {
    return absl::InvalidArgumentError(
        StrCat("end (", end_ms, ") is before start (", start_ms, ")"));
  }
  const int64_t limit = absl::ToInt64Milliseconds(options_.max_query_length);
  if (limit > 0 && end_ms - start_ms > limit) {
    return absl::InvalidArgumentError(StrCat(
        "the query time range exceeds the limit (query length: ", FormatMs(end_ms - start_ms),
        ", limit: ", FormatMs(limit), ")"));
  }
  q.start_ms = start_ms;
  q.end_ms = end_ms;
  return q;
}

absl::StatusOr<int64_t> QueryFrontend::ValidateMaxNodes(int64_t requested) const {
  if (requested == 0) return options_.max_flamegraph_nodes_default;
  const int64_t limit = options_.max_flamegraph_nodes_max;
  if (limit > 0 && requested > limit) {
    return absl::InvalidArgumentError(
        StrCat("max_nodes ", requested, " is greater than the limit ", limit));
  }
  if (limit > 0 && requested < 0) {
    return absl::InvalidArgumentError(StrCat(
        "max_nodes must be positive: unlimited flame graphs are not allowed (limit ", limit, ")"));
  }
  return requested;
}

void QueryFrontend::SetBackend(std::shared_ptr<QueryBackend> backend) {
  std::lock_guard<std::mutex> lock(backend_mu_);
  backend_ = std::move(backend);
}

void QueryFrontend::Run(const CallContext& ctx, const ParsedQuery& parsed,
                        std::shared_ptr<ReadQuery> read, QueryBackend::ReportDone done) {
  std::shared_ptr<QueryBackend> backend;
  {
    std::lock_guard<std::mutex> lock(backend_mu_);
    backend = backend_;
  }
  if (backend == nullptr) {
    done(absl::UnavailableError("the query-backend is not running"));
    return;
  }
  absl::StatusOr<model::LabelMatcher> type_matcher = model::LabelMatcher::Create(
      model::MatchType::kEqual, std::string(model::kLabelProfileType), parsed.profile_type_id);
  if (!type_matcher.ok()) {
    done(type_matcher.status());
    return;
  }
  // The index knows only service_name and __profile_type__ of each dataset: it gets those
  // matchers, the backend applies all of them to the series.
  std::vector<model::LabelMatcher> index_matchers{*type_matcher};
  std::vector<model::LabelMatcher> all_matchers{*type_matcher};
  for (const model::LabelMatcher& m : parsed.selector.matchers()) {
    if (m.name() == model::kLabelServiceName || m.name() == model::kLabelProfileType) {
      index_matchers.push_back(m);
    }
    all_matchers.push_back(m);
  }
  read->tenant = ctx.tenant;
  read->selector = model::Selector(std::move(all_matchers));

  auto req = std::make_shared<metastore::v1::QueryMetadataRequest>();
  req->add_tenant_id(ctx.tenant);
  req->set_start_time(read->start_ms);
  req->set_end_time(read->end_ms);
  req->set_query(model::Selector(std::move(index_matchers)).ToString());
  auto resp = std::make_shared<metastore::v1::QueryMetadataResponse>();
  metastore_->QueryMetadata(
      ctx, *req, resp.get(),
      [req, resp, backend, read = std::shared_ptr<const ReadQuery>(std::move(read)),
       done = std::move(done)](absl::Status st) mutable {
        if (!st.ok()) return done(st);
        std::vector<metastore::v1::BlockMeta> blocks(
            std::make_move_iterator(resp->mutable_blocks()->begin()),
            std::make_move_iterator(resp->mutable_blocks()->end()));
        backend->Invoke(std::move(read), std::move(blocks), std::move(done));
      });
}

void QueryFrontend::SelectMergeStacktraces(
    const CallContext& ctx, const querier::v1::SelectMergeStacktracesRequest& request,
    querier::v1::SelectMergeStacktracesResponse* response, UnaryDone done) {
  absl::StatusOr<ParsedQuery> parsed = ParseQuery(
      request.profile_typeid(), request.label_selector(), request.start(), request.end());
  if (!parsed.ok()) return done(parsed.status());
  absl::StatusOr<int64_t> max_nodes = ValidateMaxNodes(request.max_nodes());
  if (!max_nodes.ok()) return done(max_nodes.status());
  switch (request.format()) {
    case querier::v1::PROFILE_FORMAT_UNSPECIFIED:
    case querier::v1::PROFILE_FORMAT_FLAMEGRAPH:
      break;
    default:
      return done(absl::UnimplementedError(StrCat("profile format ",
                                                  querier::v1::ProfileFormat_Name(request.format()),
                                                  " is not supported yet")));
  }
  if ((request.has_stack_trace_selector() && (request.stack_trace_selector().call_site_size() > 0 ||
                                              request.stack_trace_selector().has_go_pgo())) ||
      request.span_selector_size() > 0 || request.trace_id_selector_size() > 0 ||
      request.profile_id_selector_size() > 0) {
    return done(absl::UnimplementedError(
        "stack-trace, span, trace-id and profile-id selectors are not supported yet"));
  }

  auto read = std::make_shared<ReadQuery>();
  read->start_ms = parsed->start_ms;
  read->end_ms = parsed->end_ms;
  read->kind = ReportKind::kTree;
  Run(ctx, *parsed, std::move(read),
      [response, max_nodes = *max_nodes, done = std::move(done)](absl::StatusOr<QueryReport> r) {
        if (!r.ok()) return done(r.status());
        *response->mutable_flamegraph() = BuildFlameGraph(r->tree, max_nodes);
        done(absl::OkStatus());
      });
}

void QueryFrontend::SelectSeries(const CallContext& ctx,
                                 const querier::v1::SelectSeriesRequest& request,
                                 querier::v1::SelectSeriesResponse* response, UnaryDone done) {
  absl::StatusOr<ParsedQuery> parsed = ParseQuery(
      request.profile_typeid(), request.label_selector(), request.start(), request.end());
  if (!parsed.ok()) return done(parsed.status());
  if (!(request.step() > 0) || !std::isfinite(request.step())) {
    return done(absl::InvalidArgumentError("step must be a positive number of seconds"));
  }
  if (request.has_stack_trace_selector() && (request.stack_trace_selector().call_site_size() > 0 ||
                                             request.stack_trace_selector().has_go_pgo())) {
    return done(absl::UnimplementedError("stack-trace selectors are not supported yet"));
  }
  const int64_t step_ms = std::max<int64_t>(1, std::llround(request.step() * 1000));
  const bool average = request.has_aggregation() &&
                       request.aggregation() == types::v1::TIME_SERIES_AGGREGATION_TYPE_AVERAGE;
  const int64_t limit = request.has_limit() ? request.limit() : 0;

  auto read = std::make_shared<ReadQuery>();
  // As upstream, the range starts one step early so the first point covers a whole step.
  read->start_ms = parsed->start_ms - step_ms;
  read->end_ms = parsed->end_ms;
  read->kind = ReportKind::kTimeSeries;
  read->step_ms = step_ms;
  read->group_by.assign(request.group_by().begin(), request.group_by().end());
  Run(ctx, *parsed, std::move(read),
      [response, average, limit, done = std::move(done)](absl::StatusOr<QueryReport> r) {
        if (!r.ok()) return done(r.status());
        using Entry = const std::pair<const GroupLabels, std::map<int64_t, SeriesPoint>>*;
        std::vector<Entry> series;
        for (const auto& e : r->time_series.series) {
          if (!e.second.empty()) series.push_back(&e);
        }
        if (limit > 0 && static_cast<int64_t>(series.size()) > limit) {
          // Top `limit` series by total value; ties keep label order. Then back to label order.
          auto sum = [](Entry e) {
            double s = 0;
            for (const auto& [t, p] : e->second) s += p.sum;
            return s;
          };
          std::stable_sort(series.begin(), series.end(),
                           [&sum](Entry a, Entry b) { return sum(a) > sum(b); });
          series.resize(static_cast<size_t>(limit));
          std::sort(series.begin(), series.end(),
                    [](Entry a, Entry b) { return a->first < b->first; });
        }
        for (Entry e : series) {
          types::v1::Series* out = response->add_series();
          for (const auto& [name, value] : e->first) {
            types::v1::LabelPair* l = out->add_labels();
            l->set_name(name);
            l->set_value(value);
          }
          for (const auto& [t, p] : e->second) {
            types::v1::Point* point = out->add_points();
            point->set_timestamp(t);
            point->set_value(average && p.count > 0 ? p.sum / static_cast<double>(p.count) : p.sum);
          }
        }
        done(absl::OkStatus());
      });
}

void QueryFrontend::ProfileTypes(const CallContext& ctx,
                                 const querier::v1::ProfileTypesRequest& request,
                                 querier::v1::ProfileTypesResponse* response, UnaryDone done) {
  int64_t start = request.start(), end = request.end();
  if (start == 0 && end == 0) {
    end = absl::ToUnixMillis(absl::Now());
    start = end - absl::ToInt64Milliseconds(options_.default_lookback);
  } else if (end == 0) {
    end = absl::ToUnixMillis(absl::Now());
  }
  if (end < start) {
    done(absl::InvalidArgumentError(StrCat("end (", end, ") is before start (", start, ")")));
    return;
  }
  // The index knows every dataset's profile types: no object needs to be read.
  auto req = std::make_shared<metastore::v1::QueryMetadataLabelsRequest>();
  req->add_tenant_id(ctx.tenant);
  req->set_start_time(start);
  req->set_end_time(end);
  req->set_query("{}");
  req->add_labels(std::string(model::kLabelProfileType));
  auto resp = std::make_shared<metastore::v1::QueryMetadataLabelsResponse>();
  metastore_->QueryMetadataLabels(
      ctx, *req, resp.get(), [req, resp, response, done = std::move(done)](absl::Status st) {
        if (!st.ok()) return done(st);
        for (const auto& set : resp->labels()) {
          for (const auto& label : set.labels()) {
            if (label.name() != model::kLabelProfileType) continue;
            absl::StatusOr<model::ProfileType> type = model::ParseProfileType(label.value());
            if (!type.ok()) continue;  // not a profile type we can describe; skip, as upstream
            types::v1::ProfileType* out = response->add_profile_types();
            out->set_id(label.value());
            out->set_name(type->name);
            out->set_sample_type(type->sample_type);
            out->set_sample_unit(type->sample_unit);
            out->set_period_type(type->period_type);
            out->set_period_unit(type->period_unit);
          }
        }
        done(absl::OkStatus());
      });
}

}  // namespace embers::query
