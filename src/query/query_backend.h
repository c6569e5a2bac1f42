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
// Objects that disappeared since planning (compacted away) are skipped with a warning, as
// upstream does; any other read error fails the query.
#ifndef EMBERS_QUERY_QUERY_BACKEND_H_
#define EMBERS_QUERY_QUERY_BACKEND_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "metastore/v1/types.pb.h"
#include "model/selector.h"
#include "objstore/bucket.h"
#include "query/function_tree.h"
#include "query/worker_pool.h"

namespace embers::query {

enum class ReportKind { kTree, kTimeSeries };

// What a read selects and which report it builds. Times are ms since epoch, both ends inclusive.
struct ReadQuery {
  std::string tenant;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  // Every matcher of the user's selector plus __profile_type__="<id>".
  model::Selector selector;
  ReportKind kind = ReportKind::kTree;
  // Time series only: bucket width (> 0) and the labels that split series.
  int64_t step_ms = 0;
  std::vector<std::string> group_by;
};

// Sum of profile totals falling into one step, and how many profiles contributed (for averages).
struct SeriesPoint {
  double sum = 0;
  int64_t count = 0;
};

// Group labels (sorted by name) → point timestamp (ms) → point. A point at t covers profiles with
// timestamps in (t - step, t]; points are at start + k * step, only where there is data.
using GroupLabels = std::vector<std::pair<std::string, std::string>>;
struct TimeSeriesReport {
  std::map<GroupLabels, std::map<int64_t, SeriesPoint>> series;

  void Merge(const TimeSeriesReport& other);
};

struct QueryReport {
  FunctionTree tree;
  TimeSeriesReport time_series;
  // What was read, for logs and AnalyzeQuery-style diagnostics.
  int64_t objects = 0;
  int64_t datasets = 0;
  int64_t rows = 0;

  void Merge(const QueryReport& other);
};

struct QueryBackendOptions {
  int threads = 2;
};

class QueryBackend {
 public:
  using ReportDone = std::function<void(absl::StatusOr<QueryReport>)>;

  // `bucket` must outlive the backend.
  QueryBackend(QueryBackendOptions options, objstore::Bucket* bucket);
  // Waits for queued reads to finish (their callers are completed).
  ~QueryBackend();

  // Reads `blocks` (as returned by QueryMetadata) and completes `done` once, on a pool thread,
  // or inline when there is nothing to read.
  void Invoke(std::shared_ptr<const ReadQuery> query, std::vector<metastore::v1::BlockMeta> blocks,
              ReportDone done);

  // Reads one object synchronously: the body of one pool task.
  absl::StatusOr<QueryReport> ReadBlock(const ReadQuery& query,
                                        const metastore::v1::BlockMeta& block) const;

 private:
  objstore::Bucket* bucket_;
  WorkerPool pool_;
};

}  // namespace embers::query

#endif  // EMBERS_QUERY_QUERY_BACKEND_H_
