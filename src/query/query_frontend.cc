#include "query/query_frontend.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <set>
#include <utility>

#include "base/status.h"
#include "base/strings.h"
#include "model/labels.h"
#include "model/profile_type.h"
#include "query/dot_graph.h"
#include "query/flame_graph.h"
#include "query/go_pgo.h"
#include "query/heatmap.h"
#include "query/tree_format.h"

namespace embers::query {
namespace {

std::string FormatMs(int64_t ms) { return absl::FormatDuration(absl::Milliseconds(ms)); }

// The latest time a query may name: pprof and the series carry nanoseconds in an int64, so later
// times (after the year 2262) cannot be expressed anyway, and no data is older than 0.
constexpr int64_t kMaxQueryTimeMs = std::numeric_limits<int64_t>::max() / 1'000'000;

// Clamps a checked range (start <= end) into [0, kMaxQueryTimeMs]: every later computation on it
// (its length, nanoseconds, steps) then stays inside int64 whatever a client sent. A start near
// INT64_MIN once overflowed the length check and passed it.
void ClampRange(int64_t* start_ms, int64_t* end_ms) {
  *start_ms = std::clamp<int64_t>(*start_ms, 0, kMaxQueryTimeMs);
  *end_ms = std::clamp<int64_t>(*end_ms, 0, kMaxQueryTimeMs);
}

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
  ClampRange(&start_ms, &end_ms);
  const int64_t limit = absl::ToInt64Milliseconds(options_.max_query_length);
  if (limit > 0 && end_ms - start_ms > limit) {
    return absl::InvalidArgumentError(StrCat(
        "the query time range exceeds the limit (query length: ", FormatMs(end_ms - start_ms),
        ", limit: ", FormatMs(limit), ")"));
  }
  q.start_ms = ClampStart(start_ms);
  q.end_ms = end_ms;
  return q;
}

int64_t QueryFrontend::ClampStart(int64_t start_ms) const {
  const int64_t lookback = absl::ToInt64Milliseconds(options_.max_query_lookback);
  if (lookback <= 0) return start_ms;
  return std::max(start_ms, absl::ToUnixMillis(absl::Now()) - lookback);
}

absl::Status QueryFrontend::LabelQueryRange(int64_t* start_ms, int64_t* end_ms) const {
  if (*start_ms == 0 && *end_ms == 0) {
    *end_ms = absl::ToUnixMillis(absl::Now());
    *start_ms = *end_ms - absl::ToInt64Milliseconds(options_.default_lookback);
  } else if (*end_ms == 0) {
    *end_ms = absl::ToUnixMillis(absl::Now());
  }
  if (*end_ms < *start_ms) {
    return absl::InvalidArgumentError(
        StrCat("end (", *end_ms, ") is before start (", *start_ms, ")"));
  }
  ClampRange(start_ms, end_ms);
  *start_ms = ClampStart(*start_ms);
  return absl::OkStatus();
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

void QueryFrontend::SetBackend(std::shared_ptr<QueryExecutor> backend) {
  std::lock_guard<std::mutex> lock(backend_mu_);
  backend_ = std::move(backend);
}

void QueryFrontend::Run(const CallContext& ctx, const ParsedQuery& parsed,
                        std::shared_ptr<ReadQuery> read, QueryExecutor::ReportDone done) {
  absl::StatusOr<model::LabelMatcher> type_matcher = model::LabelMatcher::Create(
      model::MatchType::kEqual, std::string(model::kLabelProfileType), parsed.profile_type_id);
  if (!type_matcher.ok()) return done(type_matcher.status());
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
  read->selector = model::Selector(std::move(all_matchers));
  RunRead(ctx, model::Selector(std::move(index_matchers)), std::move(read), std::move(done));
}

void QueryFrontend::RunRead(const CallContext& ctx, const model::Selector& index_selector,
                            std::shared_ptr<ReadQuery> read, QueryExecutor::ReportDone done) {
  std::shared_ptr<QueryExecutor> backend;
  {
    std::lock_guard<std::mutex> lock(backend_mu_);
    backend = backend_;
  }
  if (backend == nullptr) return done(absl::UnavailableError("the query-backend is not running"));
  // A range entirely before the lookback limit selects nothing.
  if (read->end_ms < read->start_ms) return done(QueryReport());
  read->tenant = ctx.tenant;
  read->max_memory_bytes = options_.max_query_memory_bytes;
  // Before the metadata query, so that anything recovered after this check is already in the
  // index that query reads (dlq_pending.h explains the ordering).
  if (completeness_check_) {
    if (absl::Status st = completeness_check_(read->start_ms, read->end_ms); !st.ok()) {
      return done(st);
    }
  }

  auto req = std::make_shared<metastore::v1::QueryMetadataRequest>();
  req->add_tenant_id(ctx.tenant);
  req->set_start_time(read->start_ms);
  req->set_end_time(read->end_ms);
  req->set_query(index_selector.ToString());
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

void QueryFrontend::SelectStacks(const CallContext& ctx, const StacksRequest& request,
                                 ReportKind kind, StacksDone done) {
  absl::StatusOr<ParsedQuery> parsed_or =
      ParseQuery(request.profile_type_id, request.label_selector, request.start_ms, request.end_ms);
  if (!parsed_or.ok()) return done(parsed_or.status(), ParsedQuery());
  auto parsed = std::make_shared<const ParsedQuery>(std::move(*parsed_or));
  if (!request.span_selector.empty() && !request.trace_id_selector.empty()) {
    return done(absl::InvalidArgumentError(
                    "span_selector and trace_id_selector cannot be combined: give one of them"),
                *parsed);
  }
  auto read = std::make_shared<ReadQuery>();
  read->start_ms = parsed->start_ms;
  read->end_ms = parsed->end_ms;
  read->kind = kind;
  if (const types::v1::StackTraceSelector* sts = request.stack_trace_selector) {
    if (sts->has_go_pgo()) {
      return done(absl::UnimplementedError("the GoPGO stack-trace selector shapes a pprof: use "
                                           "SelectMergeProfile"),
                  *parsed);
    }
    for (const types::v1::Location& l : sts->call_site())
      read->filter.call_site.push_back(l.name());
  }
  if (!request.span_selector.empty()) {
    absl::StatusOr<std::vector<uint64_t>> spans = ParseSpanSelector(request.span_selector);
    if (!spans.ok()) return done(spans.status(), *parsed);
    read->filter.span_ids = std::move(*spans);
    read->filter.by_span = true;
  }
  if (!request.trace_id_selector.empty()) {
    absl::StatusOr<std::vector<model::TraceId>> traces =
        ParseTraceIdSelector(request.trace_id_selector);
    if (!traces.ok()) return done(traces.status(), *parsed);
    read->filter.trace_ids = std::move(*traces);
    read->filter.by_trace = true;
  }
  if (!request.profile_id_selector.empty()) {
    absl::StatusOr<std::vector<model::ProfileId>> ids =
        ParseProfileIdSelector(request.profile_id_selector);
    if (!ids.ok()) return done(ids.status(), *parsed);
    read->filter.profile_ids = std::move(*ids);
  }
  Run(ctx, *parsed, std::move(read),
      [parsed, done = std::move(done)](absl::StatusOr<QueryReport> r) {
        done(std::move(r), *parsed);
      });
}

namespace {

StacksRequest StacksOf(const querier::v1::SelectMergeStacktracesRequest& r) {
  StacksRequest s{.profile_type_id = r.profile_typeid(),
                  .label_selector = r.label_selector(),
                  .start_ms = r.start(),
                  .end_ms = r.end()};
  if (r.has_stack_trace_selector()) s.stack_trace_selector = &r.stack_trace_selector();
  s.span_selector.assign(r.span_selector().begin(), r.span_selector().end());
  s.profile_id_selector.assign(r.profile_id_selector().begin(), r.profile_id_selector().end());
  s.trace_id_selector.assign(r.trace_id_selector().begin(), r.trace_id_selector().end());
  return s;
}

}  // namespace

void QueryFrontend::SelectMergeStacktraces(
    const CallContext& ctx, const querier::v1::SelectMergeStacktracesRequest& request,
    querier::v1::SelectMergeStacktracesResponse* response, UnaryDone done) {
  absl::StatusOr<int64_t> max_nodes = ValidateMaxNodes(request.max_nodes());
  if (!max_nodes.ok()) return done(max_nodes.status());
  const querier::v1::ProfileFormat format = request.format();
  ReportKind kind = ReportKind::kTree;
  switch (format) {
    case querier::v1::PROFILE_FORMAT_UNSPECIFIED:
    case querier::v1::PROFILE_FORMAT_FLAMEGRAPH:
    case querier::v1::PROFILE_FORMAT_TREE:
    case querier::v1::PROFILE_FORMAT_DOT:
      break;
    case querier::v1::PROFILE_FORMAT_PPROF:
      kind = ReportKind::kPprof;
      break;
    default:
      return done(
          absl::InvalidArgumentError(StrCat("unknown profile format ", static_cast<int>(format))));
  }
  // DOT draws at most 100 functions unless the request asks for another number, as upstream.
  const int64_t dot_nodes = request.has_max_nodes() ? *max_nodes : kDefaultDotNodes;
  SelectStacks(ctx, StacksOf(request), kind,
               [response, format, max_nodes = *max_nodes, dot_nodes, done = std::move(done)](
                   absl::StatusOr<QueryReport> r, const ParsedQuery& q) {
                 if (!r.ok()) return done(r.status());
                 switch (format) {
                   case querier::v1::PROFILE_FORMAT_TREE:
                     response->set_tree(MarshalTree(r->tree, max_nodes));
                     break;
                   case querier::v1::PROFILE_FORMAT_DOT:
                     response->set_dot(RenderDot(r->tree, q.profile_type, dot_nodes));
                     break;
                   case querier::v1::PROFILE_FORMAT_PPROF:
                     *response->mutable_pprof()->mutable_profile() =
                         r->profile.ToPprof(q.profile_type, q.start_ms, q.end_ms, max_nodes);
                     break;
                   default:
                     *response->mutable_flamegraph() = BuildFlameGraph(r->tree, max_nodes);
                 }
                 done(absl::OkStatus());
               });
}

void QueryFrontend::SelectMergeProfile(const CallContext& ctx,
                                       const querier::v1::SelectMergeProfileRequest& request,
                                       google::v1::Profile* response, UnaryDone done) {
  absl::StatusOr<int64_t> max_nodes = ValidateMaxNodes(request.max_nodes());
  if (!max_nodes.ok()) return done(max_nodes.status());
  StacksRequest s{.profile_type_id = request.profile_typeid(),
                  .label_selector = request.label_selector(),
                  .start_ms = request.start(),
                  .end_ms = request.end()};
  // GoPGO takes precedence over the call site and over max_nodes, as upstream: the whole merged
  // profile is cut to its leaf-most frames instead (go_pgo.h).
  const bool go_pgo =
      request.has_stack_trace_selector() && request.stack_trace_selector().has_go_pgo();
  if (request.has_stack_trace_selector() && !go_pgo) {
    s.stack_trace_selector = &request.stack_trace_selector();
  }
  s.profile_id_selector.assign(request.profile_id_selector().begin(),
                               request.profile_id_selector().end());
  s.trace_id_selector.assign(request.trace_id_selector().begin(),
                             request.trace_id_selector().end());
  SelectStacks(ctx, s, ReportKind::kPprof,
               [response, go_pgo, &request, max_nodes = *max_nodes, done = std::move(done)](
                   absl::StatusOr<QueryReport> r, const ParsedQuery& q) {
                 if (!r.ok()) return done(r.status());
                 *response = r->profile.ToPprof(q.profile_type, q.start_ms, q.end_ms,
                                                go_pgo ? 0 : max_nodes);
                 if (go_pgo) ApplyGoPgo(request.stack_trace_selector().go_pgo(), response);
                 done(absl::OkStatus());
               });
}

void QueryFrontend::SelectMergeSpanProfile(
    const CallContext& ctx, const querier::v1::SelectMergeSpanProfileRequest& request,
    querier::v1::SelectMergeSpanProfileResponse* response, UnaryDone done) {
  absl::StatusOr<int64_t> max_nodes = ValidateMaxNodes(request.max_nodes());
  if (!max_nodes.ok()) return done(max_nodes.status());
  if (request.span_selector_size() == 0) {
    return done(absl::InvalidArgumentError("span_selector must list at least one span id"));
  }
  const bool tree = request.format() == querier::v1::PROFILE_FORMAT_TREE;
  if (!tree && request.format() != querier::v1::PROFILE_FORMAT_UNSPECIFIED &&
      request.format() != querier::v1::PROFILE_FORMAT_FLAMEGRAPH) {
    return done(absl::InvalidArgumentError(
        "SelectMergeSpanProfile answers the flame graph and tree formats only"));
  }
  StacksRequest s{.profile_type_id = request.profile_typeid(),
                  .label_selector = request.label_selector(),
                  .start_ms = request.start(),
                  .end_ms = request.end()};
  s.span_selector.assign(request.span_selector().begin(), request.span_selector().end());
  SelectStacks(ctx, s, ReportKind::kTree,
               [response, tree, max_nodes = *max_nodes, done = std::move(done)](
                   absl::StatusOr<QueryReport> r, const ParsedQuery&) {
                 if (!r.ok()) return done(r.status());
                 if (tree) {
                   response->set_tree(MarshalTree(r->tree, max_nodes));
                 } else {
                   *response->mutable_flamegraph() = BuildFlameGraph(r->tree, max_nodes);
                 }
                 done(absl::OkStatus());
               });
}

void QueryFrontend::Diff(const CallContext& ctx, const querier::v1::DiffRequest& request,
                         querier::v1::DiffResponse* response, UnaryDone done) {
  if (!request.has_left() || !request.has_right()) {
    return done(absl::InvalidArgumentError("both left and right queries are required"));
  }
  absl::StatusOr<int64_t> max_nodes = ValidateMaxNodes(request.left().max_nodes());
  if (!max_nodes.ok()) return done(max_nodes.status());
  // Both sides run at once; the second to finish renders.
  struct Join {
    std::mutex mu;
    int pending = 2;
    absl::Status status;
    FunctionTree left, right;
    querier::v1::DiffResponse* response;
    int64_t max_nodes;
    UnaryDone done;
  };
  auto join = std::make_shared<Join>();
  join->response = response;
  join->max_nodes = *max_nodes;
  join->done = std::move(done);
  auto side = [join](bool left) {
    return [join, left](absl::StatusOr<QueryReport> r, const ParsedQuery&) {
      {
        std::lock_guard<std::mutex> lock(join->mu);
        if (!r.ok()) {
          if (join->status.ok()) {
            join->status = Annotate(r.status(), left ? "left query" : "right query");
          }
        } else {
          (left ? join->left : join->right) = std::move(r->tree);
        }
        if (--join->pending > 0) return;
      }
      if (!join->status.ok()) return join->done(join->status);
      *join->response->mutable_flamegraph() =
          BuildFlameGraphDiff(join->left, join->right, join->max_nodes);
      join->done(absl::OkStatus());
    };
  };
  SelectStacks(ctx, StacksOf(request.left()), ReportKind::kTree, side(true));
  SelectStacks(ctx, StacksOf(request.right()), ReportKind::kTree, side(false));
}

void QueryFrontend::SelectLabelSets(const CallContext& ctx,
                                    const google::protobuf::RepeatedPtrField<std::string>& matchers,
                                    int64_t start_ms, int64_t end_ms,
                                    std::vector<std::string> label_names,
                                    QueryExecutor::ReportDone done) {
  absl::Status st = LabelQueryRange(&start_ms, &end_ms);
  if (!st.ok()) return done(st);
  auto read = std::make_shared<ReadQuery>();
  read->kind = ReportKind::kLabelSets;
  read->start_ms = start_ms;
  read->end_ms = end_ms;
  read->label_names = std::move(label_names);
  for (const std::string& m : matchers) {
    absl::StatusOr<model::Selector> selector = model::Selector::Parse(m);
    if (!selector.ok()) {
      return done(absl::InvalidArgumentError(
          StrCat("invalid matcher ", m, ": ", ToStd(selector.status().message()))));
    }
    read->any_of.push_back(std::move(*selector));
  }
  // With one selector the index can narrow the objects by its service and profile type; the
  // union of several is read from every object of the range.
  std::vector<model::LabelMatcher> index_matchers;
  if (read->any_of.size() == 1) {
    for (const model::LabelMatcher& m : read->any_of[0].matchers()) {
      if (m.name() == model::kLabelServiceName || m.name() == model::kLabelProfileType) {
        index_matchers.push_back(m);
      }
    }
  }
  RunRead(ctx, model::Selector(std::move(index_matchers)), std::move(read), std::move(done));
}

void QueryFrontend::LabelNames(const CallContext& ctx, const types::v1::LabelNamesRequest& request,
                               types::v1::LabelNamesResponse* response, UnaryDone done) {
  SelectLabelSets(ctx, request.matchers(), request.start(), request.end(), {},
                  [response, utf8 = ctx.allow_utf8_label_names,
                   done = std::move(done)](absl::StatusOr<QueryReport> r) {
                    if (!r.ok()) return done(r.status());
                    std::set<std::string> names;
                    for (const GroupLabels& set : r->label_sets) {
                      for (const auto& [name, value] : set) {
                        if (utf8 || model::IsValidLabelName(name)) names.insert(name);
                      }
                    }
                    for (const std::string& n : names) response->add_names(n);
                    done(absl::OkStatus());
                  });
}

void QueryFrontend::LabelValues(const CallContext& ctx,
                                const types::v1::LabelValuesRequest& request,
                                types::v1::LabelValuesResponse* response, UnaryDone done) {
  if (request.name().empty()) return done(absl::InvalidArgumentError("name is required"));
  // The index holds each dataset's service_name and __profile_type__ sets: values of those, under
  // matchers on those alone, need no object reads.
  auto index_label = [](std::string_view name) {
    return name == model::kLabelServiceName || name == model::kLabelProfileType;
  };
  if (index_label(request.name()) && request.matchers_size() <= 1) {
    absl::StatusOr<model::Selector> selector =
        model::Selector::Parse(request.matchers_size() == 1 ? request.matchers(0) : "{}");
    if (!selector.ok()) {
      return done(absl::InvalidArgumentError(
          StrCat("invalid matcher: ", ToStd(selector.status().message()))));
    }
    const bool index_only =
        std::all_of(selector->matchers().begin(), selector->matchers().end(),
                    [&index_label](const model::LabelMatcher& m) { return index_label(m.name()); });
    if (index_only) {
      int64_t start = request.start(), end = request.end();
      if (absl::Status st = LabelQueryRange(&start, &end); !st.ok()) return done(st);
      auto req = std::make_shared<metastore::v1::QueryMetadataLabelsRequest>();
      req->add_tenant_id(ctx.tenant);
      req->set_start_time(start);
      req->set_end_time(end);
      req->set_query(selector->ToString());
      req->add_labels(request.name());
      auto resp = std::make_shared<metastore::v1::QueryMetadataLabelsResponse>();
      return metastore_->QueryMetadataLabels(
          ctx, *req, resp.get(), [req, resp, response, done = std::move(done)](absl::Status st) {
            if (!st.ok()) return done(st);
            std::set<std::string> values;
            for (const auto& set : resp->labels()) {
              for (const auto& label : set.labels()) {
                if (label.name() == req->labels(0) && !label.value().empty()) {
                  values.insert(label.value());
                }
              }
            }
            for (const std::string& v : values) response->add_names(v);
            done(absl::OkStatus());
          });
    }
  }
  SelectLabelSets(ctx, request.matchers(), request.start(), request.end(), {request.name()},
                  [response, done = std::move(done)](absl::StatusOr<QueryReport> r) {
                    if (!r.ok()) return done(r.status());
                    std::set<std::string> values;
                    for (const GroupLabels& set : r->label_sets) {
                      for (const auto& [name, value] : set) values.insert(value);
                    }
                    for (const std::string& v : values) response->add_names(v);
                    done(absl::OkStatus());
                  });
}

void QueryFrontend::Series(const CallContext& ctx, const querier::v1::SeriesRequest& request,
                           querier::v1::SeriesResponse* response, UnaryDone done) {
  // A client without the allow-utf8-labelnames capability sees only names of the legacy charset,
  // as upstream: they are dropped from each label set, and sets left equal are listed once.
  const bool utf8 = ctx.allow_utf8_label_names;
  std::vector<std::string> names;
  for (const std::string& n : request.label_names()) {
    if (utf8 || model::IsValidLabelName(n)) names.push_back(n);
  }
  if (!utf8 && names.empty() && request.label_names_size() > 0) return done(absl::OkStatus());
  SelectLabelSets(ctx, request.matchers(), request.start(), request.end(), std::move(names),
                  [response, utf8, done = std::move(done)](absl::StatusOr<QueryReport> r) {
                    if (!r.ok()) return done(r.status());
                    std::set<GroupLabels> shown;
                    for (const GroupLabels& set : r->label_sets) {
                      GroupLabels visible;
                      for (const auto& label : set) {
                        if (utf8 || model::IsValidLabelName(label.first)) visible.push_back(label);
                      }
                      if (visible.empty() || (!utf8 && !shown.insert(visible).second)) continue;
                      types::v1::Labels* out = response->add_labels_set();
                      for (const auto& [name, value] : visible) {
                        types::v1::LabelPair* l = out->add_labels();
                        l->set_name(name);
                        l->set_value(value);
                      }
                    }
                    done(absl::OkStatus());
                  });
}

void QueryFrontend::AnalyzeQuery(const CallContext& ctx,
                                 const querier::v1::AnalyzeQueryRequest& request,
                                 querier::v1::AnalyzeQueryResponse* response, UnaryDone done) {
  // `query` is "<profile type>{selector}" as in /pyroscope/render.
  std::string_view q = StripWhitespace(request.query());
  const size_t brace = q.find('{');
  std::string_view type_id = StripWhitespace(q.substr(0, brace));
  std::string_view selector = brace == std::string_view::npos ? "" : q.substr(brace);
  absl::StatusOr<ParsedQuery> parsed =
      ParseQuery(type_id, selector, request.start(), request.end());
  if (!parsed.ok()) return done(parsed.status());
  // One time-series read over the whole range counts the profiles and samples the query would
  // touch; the metastore's section offsets give the bytes.
  auto read = std::make_shared<ReadQuery>();
  read->kind = ReportKind::kTimeSeries;
  read->start_ms = parsed->start_ms;
  read->end_ms = parsed->end_ms;
  read->step_ms = std::max<int64_t>(1, parsed->end_ms - parsed->start_ms + 1);
  read->count_series = true;
  Run(ctx, *parsed, std::move(read),
      [response, done = std::move(done)](absl::StatusOr<QueryReport> r) {
        if (!r.ok()) return done(r.status());
        querier::v1::QueryScope* scope = response->add_query_scopes();
        scope->set_component_type("object storage");
        scope->set_component_count(1);
        scope->set_block_count(static_cast<uint64_t>(r->objects));
        scope->set_series_count(r->series_fingerprints.size());
        scope->set_profile_count(static_cast<uint64_t>(r->rows));
        scope->set_sample_count(static_cast<uint64_t>(r->samples));
        scope->set_index_bytes(static_cast<uint64_t>(r->section_bytes[0]));
        scope->set_profile_bytes(static_cast<uint64_t>(r->section_bytes[1]));
        scope->set_symbol_bytes(static_cast<uint64_t>(r->section_bytes[2]));
        querier::v1::QueryImpact* impact = response->mutable_query_impact();
        impact->set_total_bytes_in_time_range(
            static_cast<uint64_t>(r->section_bytes[0] + r->section_bytes[1] + r->section_bytes[2]));
        impact->set_total_queried_series(r->series_fingerprints.size());
        impact->set_deduplication_needed(false);
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
  // Past ~31 years the step overflows int64 milliseconds (as SelectHeatmap checks).
  if (request.step() > 1e9) {
    return done(absl::InvalidArgumentError(StrCat("step ", request.step(), "s is too large")));
  }
  if (request.has_stack_trace_selector() && request.stack_trace_selector().has_go_pgo()) {
    return done(absl::UnimplementedError(
        "the GoPGO stack-trace selector shapes a pprof: use SelectMergeProfile"));
  }
  // Exemplars as upstream: individual profiles (the largest of each point); span exemplars are
  // not built there either.
  bool exemplars = false;
  switch (request.exemplar_type()) {
    case types::v1::EXEMPLAR_TYPE_UNSPECIFIED:
    case types::v1::EXEMPLAR_TYPE_NONE:
      break;
    case types::v1::EXEMPLAR_TYPE_INDIVIDUAL:
      exemplars = true;
      break;
    case types::v1::EXEMPLAR_TYPE_SPAN:
      return done(absl::UnimplementedError("exemplar type span is not implemented"));
    default:
      return done(absl::InvalidArgumentError(
          StrCat("unknown exemplar type: ", static_cast<int>(request.exemplar_type()))));
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
  read->exemplars = exemplars;
  if (request.has_stack_trace_selector()) {
    for (const types::v1::Location& l : request.stack_trace_selector().call_site()) {
      read->filter.call_site.push_back(l.name());
    }
  }
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
            if (!p.exemplar.profile_id.empty()) {
              types::v1::Exemplar* ex = point->add_exemplars();
              ex->set_timestamp(p.exemplar.timestamp_ms);
              ex->set_profile_id(model::FormatProfileId(p.exemplar.profile_id));
              ex->set_value(p.exemplar.value);
              for (const auto& [name, value] : p.exemplar.labels) {
                types::v1::LabelPair* l = ex->add_labels();
                l->set_name(name);
                l->set_value(value);
              }
            }
          }
        }
        done(absl::OkStatus());
      });
}

void QueryFrontend::SelectHeatmap(const CallContext& ctx,
                                  const querier::v1::SelectHeatmapRequest& request,
                                  querier::v1::SelectHeatmapResponse* response, UnaryDone done) {
  // Upstream's checks, in its order. Steps under 1 ms would be 0 in ms arithmetic; a step past
  // ~31 years would overflow it (upstream does not check that).
  const double step = request.step();
  if (!(step >= 0.001)) {
    return done(absl::InvalidArgumentError(StrCat("step must be >= 1ms, got ", step)));
  }
  if (step > 1e9) return done(absl::InvalidArgumentError(StrCat("step ", step, "s is too large")));
  if (request.has_limit() && request.limit() < 0) {
    return done(
        absl::InvalidArgumentError(StrCat("limit must be non-negative, got ", request.limit())));
  }
  if (request.start() >= request.end()) {
    return done(absl::InvalidArgumentError(StrCat("start time must be before end time, got start=",
                                                  request.start(), " end=", request.end())));
  }
  absl::StatusOr<ParsedQuery> parsed = ParseQuery(
      request.profile_typeid(), request.label_selector(), request.start(), request.end());
  if (!parsed.ok()) return done(parsed.status());
  // Upstream checks these in the query-backend, after planning; here before any read. Exemplars
  // name what the heatmap counts, so their type must be the query's.
  const querier::v1::HeatmapQueryType type = request.query_type();
  bool exemplars = false;
  switch (request.exemplar_type()) {
    case types::v1::EXEMPLAR_TYPE_UNSPECIFIED:
    case types::v1::EXEMPLAR_TYPE_NONE:
      break;
    case types::v1::EXEMPLAR_TYPE_INDIVIDUAL:
      if (type != querier::v1::HEATMAP_QUERY_TYPE_INDIVIDUAL) {
        return done(absl::InvalidArgumentError(
            "individual exemplars only available for individual query type"));
      }
      exemplars = true;
      break;
    case types::v1::EXEMPLAR_TYPE_SPAN:
      if (type != querier::v1::HEATMAP_QUERY_TYPE_SPAN) {
        return done(
            absl::InvalidArgumentError("span exemplars only available for span query type"));
      }
      exemplars = true;
      break;
    default:
      return done(absl::InvalidArgumentError(
          StrCat("unknown exemplar type: ", static_cast<int>(request.exemplar_type()))));
  }
  ReadQuery::Heatmap heatmap = ReadQuery::Heatmap::kNone;
  if (type == querier::v1::HEATMAP_QUERY_TYPE_INDIVIDUAL) heatmap = ReadQuery::Heatmap::kIndividual;
  if (type == querier::v1::HEATMAP_QUERY_TYPE_SPAN) heatmap = ReadQuery::Heatmap::kSpans;
  if (heatmap == ReadQuery::Heatmap::kNone) {
    return done(absl::InvalidArgumentError("valid heatmap query type must be specified"));
  }
  // A range entirely before the lookback limit selects nothing.
  if (parsed->start_ms > parsed->end_ms) return done(absl::OkStatus());
  // Truncated like upstream's time.Duration(step * time.Second).Milliseconds().
  const int64_t step_ms = static_cast<int64_t>(step * 1e9) / 1'000'000;
  const HeatmapGrid grid{.start_ms = parsed->start_ms,
                         .end_ms = parsed->end_ms,
                         .step_ms = step_ms,
                         .spans = heatmap == ReadQuery::Heatmap::kSpans,
                         .exemplars = exemplars};
  auto read = std::make_shared<ReadQuery>();
  // The read starts one step early so the first slot, ending at start, covers a whole step.
  read->start_ms = parsed->start_ms < std::numeric_limits<int64_t>::min() + step_ms
                       ? std::numeric_limits<int64_t>::min()
                       : parsed->start_ms - step_ms;
  read->end_ms = parsed->end_ms;
  read->kind = ReportKind::kTimeSeries;
  read->step_ms = step_ms;
  read->group_by.assign(request.group_by().begin(), request.group_by().end());
  read->exemplars = exemplars;
  read->heatmap = heatmap;
  const int64_t limit = request.has_limit() ? request.limit() : 0;
  Run(ctx, *parsed, std::move(read),
      [response, grid, limit, done = std::move(done)](absl::StatusOr<QueryReport> r) {
        if (!r.ok()) return done(r.status());
        RenderHeatmap(grid, &r->time_series.heatmap, response->mutable_series());
        TopHeatmapSeries(limit, response->mutable_series());
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

void QueryFrontend::GetProfileStats(const CallContext& ctx,
                                    const types::v1::GetProfileStatsRequest& /*request*/,
                                    types::v1::GetProfileStatsResponse* response, UnaryDone done) {
  auto req = std::make_shared<metastore::v1::GetTenantRequest>();
  req->set_tenant_id(ctx.tenant);
  auto resp = std::make_shared<metastore::v1::GetTenantResponse>();
  metastore_->GetTenant(ctx, *req, resp.get(),
                        [req, resp, response, done = std::move(done)](absl::Status st) {
                          if (!st.ok()) return done(st);
                          const metastore::v1::TenantStats& s = resp->stats();
                          response->set_data_ingested(s.data_ingested());
                          response->set_oldest_profile_time(s.oldest_profile_time());
                          response->set_newest_profile_time(s.newest_profile_time());
                          done(absl::OkStatus());
                        });
}

}  // namespace embers::query
