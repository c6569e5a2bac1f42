// QueryFrontend: the public query API (querier.v1.QuerierService) of the read path.
//
// It validates requests, parses selectors and profile types, asks the metastore which objects
// hold matching datasets and hands them to a QueryExecutor (DESIGN §7, reference §8.2). Its
// methods have the transport-independent shape of base/call_context.h; src/server serves them
// over Connect and gRPC, and the legacy /pyroscope/render route is built on them.
//
// ProfileTypes is answered from the metastore index alone; everything else plans a read of the
// matching objects. Trace-id selectors answer Unimplemented (Embers keeps span ids per sample,
// not trace ids, see docs/architecture.md).
//
// The backend is attached with SetBackend() once the bucket is open (modules are constructed
// before any of them starts); until then queries that read objects answer Unavailable.
#ifndef EMBERS_QUERY_QUERY_FRONTEND_H_
#define EMBERS_QUERY_QUERY_FRONTEND_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/call_context.h"
#include "google/v1/profile.pb.h"
#include "metastore/index_service.h"
#include "model/profile_type.h"
#include "model/selector.h"
#include "querier/v1/querier.pb.h"
#include "query/query_backend.h"

namespace embers::query {

struct QueryFrontendOptions {
  // The window ProfileTypes looks at when the request gives neither start nor end.
  absl::Duration default_lookback = absl::Hours(24);
  // -querier.max-query-length: longest time range of one query; 0 = unlimited.
  absl::Duration max_query_length = absl::Hours(24);
  // -querier.max-flamegraph-nodes-default / -max: max_nodes when the request has none, and the
  // largest it may ask for (0 = no limit).
  int64_t max_flamegraph_nodes_default = 8192;
  int64_t max_flamegraph_nodes_max = 1048576;
  // -querier.max-query-lookback: how far back a query may reach; an older start is moved up to
  // now - lookback (0 = no limit).
  absl::Duration max_query_lookback = absl::Hours(7 * 24);
  // -query-backend.max-query-memory: bytes the reports of one query may hold (0 = unlimited).
  int64_t max_query_memory_bytes = 1ll << 30;
};

// A validated query: the profile type, the user's selector and the range.
struct ParsedQuery {
  std::string profile_type_id;
  model::ProfileType profile_type;
  model::Selector selector;  // the user's matchers only
  int64_t start_ms = 0;
  int64_t end_ms = 0;
};

// The selecting part of SelectMergeStacktraces-like requests, shared by its variants.
struct StacksRequest {
  std::string_view profile_type_id;
  std::string_view label_selector;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  const types::v1::StackTraceSelector* stack_trace_selector = nullptr;
  std::vector<std::string> span_selector;
  std::vector<std::string> profile_id_selector;
  std::vector<std::string> trace_id_selector;
};

class QueryFrontend {
 public:
  QueryFrontend(QueryFrontendOptions options, metastore::IndexService* metastore)
      : options_(options), metastore_(metastore) {}

  // Attaches (or, with nullptr, detaches) the backend that reads objects. A query holds a
  // reference until its reads are queued, so detaching during a query is safe.
  void SetBackend(std::shared_ptr<QueryExecutor> backend);
  // Asked before every read whether the index may lack acknowledged data of the query's range
  // (metastore/dlq_pending.h); a non-OK answer fails the query instead of answering partially.
  // Set before queries arrive.
  using CompletenessCheck = std::function<absl::Status(int64_t start_ms, int64_t end_ms)>;
  void SetCompletenessCheck(CompletenessCheck check) { completeness_check_ = std::move(check); }

  const QueryFrontendOptions& options() const { return options_; }

  void ProfileTypes(const CallContext& ctx, const querier::v1::ProfileTypesRequest& request,
                    querier::v1::ProfileTypesResponse* response, UnaryDone done);
  void SelectMergeStacktraces(const CallContext& ctx,
                              const querier::v1::SelectMergeStacktracesRequest& request,
                              querier::v1::SelectMergeStacktracesResponse* response,
                              UnaryDone done);
  void SelectSeries(const CallContext& ctx, const querier::v1::SelectSeriesRequest& request,
                    querier::v1::SelectSeriesResponse* response, UnaryDone done);
  // Individual-profile or span values on a time × value grid (query/heatmap.h).
  void SelectHeatmap(const CallContext& ctx, const querier::v1::SelectHeatmapRequest& request,
                     querier::v1::SelectHeatmapResponse* response, UnaryDone done);
  void SelectMergeProfile(const CallContext& ctx,
                          const querier::v1::SelectMergeProfileRequest& request,
                          google::v1::Profile* response, UnaryDone done);
  void SelectMergeSpanProfile(const CallContext& ctx,
                              const querier::v1::SelectMergeSpanProfileRequest& request,
                              querier::v1::SelectMergeSpanProfileResponse* response,
                              UnaryDone done);
  void Diff(const CallContext& ctx, const querier::v1::DiffRequest& request,
            querier::v1::DiffResponse* response, UnaryDone done);
  void LabelNames(const CallContext& ctx, const types::v1::LabelNamesRequest& request,
                  types::v1::LabelNamesResponse* response, UnaryDone done);
  void LabelValues(const CallContext& ctx, const types::v1::LabelValuesRequest& request,
                   types::v1::LabelValuesResponse* response, UnaryDone done);
  void Series(const CallContext& ctx, const querier::v1::SeriesRequest& request,
              querier::v1::SeriesResponse* response, UnaryDone done);
  void AnalyzeQuery(const CallContext& ctx, const querier::v1::AnalyzeQueryRequest& request,
                    querier::v1::AnalyzeQueryResponse* response, UnaryDone done);
  // Whether the tenant has data and its oldest/newest profile time, from the metastore alone.
  void GetProfileStats(const CallContext& ctx, const types::v1::GetProfileStatsRequest& request,
                       types::v1::GetProfileStatsResponse* response, UnaryDone done);

  // The merged report of the stacks `request` selects (kind kTree or kPprof), with the parsed
  // query it ran. The building block of every flame graph, tree, pprof, DOT and diff answer.
  using StacksDone = std::function<void(absl::StatusOr<QueryReport>, const ParsedQuery&)>;
  void SelectStacks(const CallContext& ctx, const StacksRequest& request, ReportKind kind,
                    StacksDone done);

  // Request validation shared by every method that selects profiles: InvalidArgument (400) for a
  // malformed profile type or selector, end < start, or a range over max_query_length.
  absl::StatusOr<ParsedQuery> ParseQuery(std::string_view profile_type_id,
                                         std::string_view label_selector, int64_t start_ms,
                                         int64_t end_ms) const;
  // max_nodes of a request (0 = the default) checked against the limit.
  absl::StatusOr<int64_t> ValidateMaxNodes(int64_t requested) const;

 private:
  // Finds the blocks of `parsed` in the metastore and runs `read` on the backend.
  void Run(const CallContext& ctx, const ParsedQuery& parsed, std::shared_ptr<ReadQuery> read,
           QueryExecutor::ReportDone done);
  // Runs `read` over the blocks matching `index_selector` (service_name / __profile_type__
  // matchers only: what the index knows).
  void RunRead(const CallContext& ctx, const model::Selector& index_selector,
               std::shared_ptr<ReadQuery> read, QueryExecutor::ReportDone done);
  // The label-set report of the series the matchers select (LabelNames/LabelValues/Series).
  void SelectLabelSets(const CallContext& ctx,
                       const google::protobuf::RepeatedPtrField<std::string>& matchers,
                       int64_t start_ms, int64_t end_ms, std::vector<std::string> label_names,
                       QueryExecutor::ReportDone done);
  // Start/end of a label query: 0/0 → the default lookback window; end < start → error.
  absl::Status LabelQueryRange(int64_t* start_ms, int64_t* end_ms) const;
  // Moves a start older than the lookback limit up to it.
  int64_t ClampStart(int64_t start_ms) const;

  QueryFrontendOptions options_;
  metastore::IndexService* metastore_;
  mutable std::mutex backend_mu_;
  std::shared_ptr<QueryExecutor> backend_;
  CompletenessCheck completeness_check_;
};

}  // namespace embers::query

#endif  // EMBERS_QUERY_QUERY_FRONTEND_H_
