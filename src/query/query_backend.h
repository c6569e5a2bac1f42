// QueryBackend: reads the objects of a query plan and builds its report (DESIGN §7, reference
// §8.3).
//
// The query-frontend asks the metastore which objects hold matching datasets and hands those
// blocks here. Each object is one task on a small CPU pool (objects are read in parallel); a task
// opens the object's footer, and for each dataset of the query's tenant fetches only the series
// section, selects series with the full label selector, fetches the profile chunks overlapping
// the time range, and then:
//  - tree reports: sums values by stack-trace id, reads the symbols section once and resolves
//    each distinct stack to function names into a FunctionTree (each symbol-tree node is resolved
//    at most once, so shared prefixes cost nothing extra);
//  - time-series reports: sums each profile's total into step buckets per group-by label set.
// The last task to finish merges the per-object reports and completes the call on its thread.
//
// A profile stored twice (a client retry, block/profile_identity.h) counts once per call
// (profile_dedup.h), so answers are the same before and after compaction.
//
// Objects that disappeared since planning (compacted away) are skipped with a warning, as
// upstream does; any other read error fails the query.
#ifndef EMBERS_QUERY_QUERY_BACKEND_H_
#define EMBERS_QUERY_QUERY_BACKEND_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "base/worker_pool.h"
#include "block/object_reader.h"
#include "metastore/v1/types.pb.h"
#include "model/profile_id.h"
#include "model/selector.h"
#include "model/trace_id.h"
#include "objstore/bucket.h"
#include "query/function_tree.h"
#include "query/merged_profile.h"
#include "query/profile_dedup.h"
#include "query/stack_filter.h"

namespace embers::query {

enum class ReportKind {
  kTree,        // function-name call tree (flame graph, tree bytes, DOT, diff)
  kPprof,       // full-symbol merged profile (pprof output)
  kTimeSeries,  // per-step sums by group-by labels
  kLabelSets,   // distinct series label sets (label names/values, Series)
};

// What a read selects and which report it builds. Times are ms since epoch, both ends inclusive.
struct ReadQuery {
  std::string tenant;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  // Every matcher of the user's selector plus, for profile queries, __profile_type__="<id>".
  model::Selector selector;
  // When not empty, a series must also match one of these (Series/LabelNames take a list of
  // selectors and answer their union).
  std::vector<model::Selector> any_of;
  ReportKind kind = ReportKind::kTree;
  // Tree, pprof and time series: which samples count.
  SampleFilter filter;
  // Time series only: bucket width (> 0) and the labels that split series.
  int64_t step_ms = 0;
  std::vector<std::string> group_by;
  // Label sets only: the label names kept of each series (empty = all of them).
  std::vector<std::string> label_names;
  // Count the distinct series read (AnalyzeQuery).
  bool count_series = false;
  // Time series only: keep, per point, the largest profile that has a profile id (SelectSeries
  // exemplars, EXEMPLAR_TYPE_INDIVIDUAL); with `heatmap`, keep each point's series labels.
  bool exemplars = false;
  // Time series only: instead of summing, list every profile's total (kIndividual) or every
  // sample value that carries a span id (kSpans) of each group, for SelectHeatmap.
  enum class Heatmap { kNone, kIndividual, kSpans };
  Heatmap heatmap = Heatmap::kNone;
  // Bytes the reports of this query may hold at once (0 = unlimited); over it the query fails
  // with ResourceExhausted instead of growing the process.
  int64_t max_memory_bytes = 0;
};

using GroupLabels = std::vector<std::pair<std::string, std::string>>;

// The profile behind a point that stands for it (upstream keeps one per point: the largest).
struct SeriesExemplar {
  model::ProfileId profile_id;  // empty: no exemplar
  int64_t timestamp_ms = 0;
  int64_t value = 0;
  // The labels of the profile's series that are not group-by labels (sorted by name).
  GroupLabels labels;

  // Whether this one beats `other` as a point's exemplar: the larger value, then the smaller id,
  // so the choice does not depend on the order reports merge in.
  bool Beats(const SeriesExemplar& other) const {
    if (other.profile_id.empty()) return !profile_id.empty();
    if (value != other.value) return value > other.value;
    return profile_id < other.profile_id;
  }
};

// Sum of profile totals falling into one step, and how many profiles contributed (for averages).
struct SeriesPoint {
  double sum = 0;
  int64_t count = 0;
  SeriesExemplar exemplar;  // with ReadQuery::exemplars

  void Merge(const SeriesPoint& other) {
    sum += other.sum;
    count += other.count;
    if (other.exemplar.Beats(exemplar)) exemplar = other.exemplar;
  }
};

// One value behind a heatmap: a profile's total (one row of it), or one sample value of a span.
// The frontend merges the values of one profile or one span (heatmap.h).
struct HeatmapPoint {
  int64_t timestamp_ms = 0;
  int64_t value = 0;
  model::ProfileId profile_id;  // empty: none
  uint64_t span_id = 0;         // 0: none (individual heatmaps)
  model::TraceId trace_id;      // the span's trace, when stored (span heatmaps)
  // With ReadQuery::exemplars: the series labels that are not group-by labels (shared).
  std::shared_ptr<const GroupLabels> labels;
};

// Group labels (sorted by name) → point timestamp (ms) → point. A point at t covers profiles with
// timestamps in (t - step, t]; points are at start + k * step, only where there is data.
struct TimeSeriesReport {
  std::map<GroupLabels, std::map<int64_t, SeriesPoint>> series;
  // With ReadQuery::heatmap: every value of each group, in no particular order.
  std::map<GroupLabels, std::vector<HeatmapPoint>> heatmap;

  void Merge(const TimeSeriesReport& other);
};

struct QueryReport {
  FunctionTree tree;
  MergedProfile profile;
  TimeSeriesReport time_series;
  std::set<GroupLabels> label_sets;
  // What was read, for logs and AnalyzeQuery-style diagnostics.
  int64_t objects = 0;
  int64_t datasets = 0;
  int64_t rows = 0;     // profiles
  int64_t samples = 0;  // samples of selected profiles
  // Bytes of the series, profiles and symbols sections of the datasets read.
  std::array<int64_t, 3> section_bytes{};
  // With ReadQuery::count_series: fingerprints of the series read.
  absl::flat_hash_set<uint64_t> series_fingerprints;

  void Merge(const QueryReport& other);
  // Approximate heap bytes held.
  size_t MemoryBytes() const;
};

struct QueryBackendOptions {
  int threads = 2;
};

// Runs a read over blocks and completes with the merged report: what the query-frontend calls.
// QueryBackend reads in this process; RemoteQueryBackend (remote_query_backend.h) splits the plan
// among query-backend processes over gRPC.
class QueryExecutor {
 public:
  using ReportDone = std::function<void(absl::StatusOr<QueryReport>)>;
  virtual ~QueryExecutor() = default;
  // Completes `done` exactly once, possibly inline when there is nothing to read.
  virtual void Invoke(std::shared_ptr<const ReadQuery> query,
                      std::vector<metastore::v1::BlockMeta> blocks, ReportDone done) = 0;
};

class QueryBackend final : public QueryExecutor {
 public:
  // `bucket` must outlive the backend.
  QueryBackend(QueryBackendOptions options, objstore::Bucket* bucket);
  // Waits for queued reads to finish (their callers are completed).
  ~QueryBackend();

  // Reads `blocks` (as returned by QueryMetadata) and completes `done` once, on a pool thread,
  // or inline when there is nothing to read.
  void Invoke(std::shared_ptr<const ReadQuery> query, std::vector<metastore::v1::BlockMeta> blocks,
              ReportDone done) override;

  // Reads one object synchronously: the body of one pool task. `memory` (may be null) is the
  // query's running total of report bytes, checked against query.max_memory_bytes. `dedup` (may
  // be null) holds the profiles counted so far by the call; a profile in it is not counted again.
  absl::StatusOr<QueryReport> ReadBlock(const ReadQuery& query,
                                        const metastore::v1::BlockMeta& block,
                                        std::atomic<int64_t>* memory = nullptr,
                                        ProfileDedup* dedup = nullptr) const;

 private:
  // Reads the profiles of one dataset of `reader` into `report` (the part of ReadBlock after
  // series selection), sharing its chunks with idle pool threads.
  absl::Status ReadProfiles(const ReadQuery& query, const block::ObjectReader& reader, int dataset,
                            const std::vector<block::SeriesInfo>& series,
                            const std::vector<bool>& selected, ProfileDedup* dedup,
                            QueryReport* report) const;

  objstore::Bucket* bucket_;
  // Mutable: ReadBlock, a const read, hands chunks of large datasets to idle threads.
  mutable WorkerPool pool_;
};

}  // namespace embers::query

#endif  // EMBERS_QUERY_QUERY_BACKEND_H_
