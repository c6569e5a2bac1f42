#include "query/query_backend.h"

#include <algorithm>
#include <atomic>
#include <optional>

#include "base/logging.h"
#include "base/strings.h"
#include "block/object_reader.h"
#include "block/object_writer.h"

namespace embers::query {
namespace {

constexpr uint32_t kUnresolved = UINT32_MAX;

// Resolves the stack-trace ids of one dataset to nodes of a FunctionTree. Symbol-tree nodes and
// function names are resolved lazily and at most once each.
class StackResolver {
 public:
  StackResolver(const block::Symbols& symbols, FunctionTree* tree)
      : symbols_(symbols),
        tree_(tree),
        node_(symbols.node_parent.size(), kUnresolved),
        function_name_(symbols.functions.size(), kUnresolved) {
    if (!node_.empty()) node_[0] = FunctionTree::kRoot;
  }

  // The tree node of stack `id` (a symbol-tree node index, checked by the caller).
  uint32_t Resolve(uint32_t id) {
    if (node_[id] != kUnresolved) return node_[id];
    // Climb to the nearest resolved ancestor (the root always is), then resolve downwards.
    path_.clear();
    uint32_t n = id;
    while (node_[n] == kUnresolved) {
      path_.push_back(n);
      n = symbols_.node_parent[n];
    }
    uint32_t t = node_[n];
    for (auto it = path_.rbegin(); it != path_.rend(); ++it) {
      t = AppendLocation(t, symbols_.node_location[*it]);
      node_[*it] = t;
    }
    return t;
  }

 private:
  // Adds the frames of one location under `t`. Inlined functions are lines of one location, the
  // last line being the outermost caller.
  uint32_t AppendLocation(uint32_t t, uint32_t location) {
    const block::SymbolLocation& loc = symbols_.locations[location];
    auto lines = symbols_.LocationLines(loc);
    if (lines.empty()) {
      // Unsymbolized frame: shown by address, as `go tool pprof` does.
      return tree_->Child(t, tree_->InternName(StrCat("0x", Hex(loc.address))));
    }
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
      uint32_t& name = function_name_[it->function];
      if (name == kUnresolved) {
        name = tree_->InternName(symbols_.strings[symbols_.functions[it->function].name]);
      }
      t = tree_->Child(t, name);
    }
    return t;
  }

  const block::Symbols& symbols_;
  FunctionTree* tree_;
  std::vector<uint32_t> node_;           // symbol-tree node → tree node
  std::vector<uint32_t> function_name_;  // function index → tree name id
  std::vector<uint32_t> path_;
};

// Point timestamp of a profile at `ts`: the first start + k*step at or after it.
int64_t StepOf(int64_t ts, int64_t start, int64_t step) {
  if (ts <= start) return start;
  return start + (ts - start + step - 1) / step * step;
}

absl::Status ReadTree(const block::ObjectReader& reader, int dataset,
                      const block::ProfileRows& rows, const std::vector<bool>& selected,
                      QueryReport* report) {
  // Aggregate by stack-trace id first: many profiles share few stacks, so names are resolved
  // per distinct stack rather than per sample.
  bool any = false;
  for (size_t r = 0; r < rows.size() && !any; ++r) {
    any = selected[rows.series[r]] && rows.sample_count[r] > 0;
  }
  if (!any) return absl::OkStatus();
  absl::StatusOr<block::Symbols> symbols = reader.ReadSymbols(dataset);
  if (!symbols.ok()) return symbols.status();
  const size_t nodes = symbols->node_parent.size();
  std::vector<int64_t> by_stack(nodes, 0);
  for (size_t r = 0; r < rows.size(); ++r) {
    if (!selected[rows.series[r]]) continue;
    const uint32_t begin = rows.sample_begin[r], end = begin + rows.sample_count[r];
    for (uint32_t s = begin; s < end; ++s) {
      const uint32_t id = rows.stack_ids[s];
      if (id >= nodes) {
        return absl::DataLossError(StrCat("object ", reader.key(), " dataset ", dataset,
                                          ": stack id ", id, " out of range"));
      }
      by_stack[id] += rows.values[s];
    }
  }
  StackResolver resolver(*symbols, &report->tree);
  for (uint32_t id = 0; id < nodes; ++id) {
    if (by_stack[id] != 0) report->tree.AddSelf(resolver.Resolve(id), by_stack[id]);
  }
  return absl::OkStatus();
}

void ReadTimeSeries(const ReadQuery& query, const std::vector<block::SeriesInfo>& series,
                    const block::ProfileRows& rows, const std::vector<bool>& selected,
                    QueryReport* report) {
  // One group per selected series, looked up once.
  std::vector<std::map<int64_t, SeriesPoint>*> group(series.size(), nullptr);
  for (size_t i = 0; i < series.size(); ++i) {
    if (!selected[i]) continue;
    GroupLabels key;
    for (const std::string& name : query.group_by) {
      if (series[i].labels.Has(name)) {
        key.emplace_back(name, std::string(series[i].labels.Get(name)));
      }
    }
    std::sort(key.begin(), key.end());
    key.erase(std::unique(key.begin(), key.end()), key.end());
    group[i] = &report->time_series.series[std::move(key)];
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    auto* points = group[rows.series[r]];
    if (points == nullptr) continue;
    const int64_t t = StepOf(rows.timestamp_ms[r], query.start_ms, query.step_ms);
    if (t > query.end_ms) continue;
    int64_t total = 0;
    const uint32_t begin = rows.sample_begin[r], end = begin + rows.sample_count[r];
    for (uint32_t s = begin; s < end; ++s) total += rows.values[s];
    SeriesPoint& p = (*points)[t];
    p.sum += static_cast<double>(total);
    ++p.count;
  }
}

}  // namespace

void TimeSeriesReport::Merge(const TimeSeriesReport& other) {
  for (const auto& [labels, points] : other.series) {
    auto& dst = series[labels];
    for (const auto& [t, p] : points) {
      SeriesPoint& d = dst[t];
      d.sum += p.sum;
      d.count += p.count;
    }
  }
}

void QueryReport::Merge(const QueryReport& other) {
  tree.Merge(other.tree);
  time_series.Merge(other.time_series);
  objects += other.objects;
  datasets += other.datasets;
  rows += other.rows;
}

QueryBackend::QueryBackend(QueryBackendOptions options, objstore::Bucket* bucket)
    : bucket_(bucket), pool_(options.threads) {}

QueryBackend::~QueryBackend() = default;

absl::StatusOr<QueryReport> QueryBackend::ReadBlock(const ReadQuery& query,
                                                    const metastore::v1::BlockMeta& block) const {
  QueryReport report;
  auto str = [&block](int32_t ref) -> std::string_view {
    return ref >= 0 && ref < block.string_table_size() ? std::string_view(block.string_table(ref))
                                                       : std::string_view();
  };
  // Only datasets of the caller's tenant are read, whatever the plan says (tenant isolation).
  std::vector<uint64_t> wanted;
  for (const auto& d : block.datasets()) {
    if (str(d.tenant()) != query.tenant || d.table_of_contents_size() == 0) continue;
    if (d.max_time() < query.start_ms || d.min_time() > query.end_ms) continue;
    wanted.push_back(d.table_of_contents(0));
  }
  if (wanted.empty()) return report;

  const std::string key = block::ObjectKey(block);
  absl::StatusOr<block::ObjectReader> reader =
      block::ObjectReader::Open(bucket_, key, block.size());
  if (absl::IsNotFound(reader.status())) {
    log::Warn("object of a query is gone, skipped", {{"key", key}});
    return report;
  }
  if (!reader.ok()) return reader.status();
  report.objects = 1;

  const auto& meta = reader->meta();
  for (int i = 0; i < meta.datasets_size(); ++i) {
    const auto& d = meta.datasets(i);
    // The metastore's copy of a dataset has its own string table: match by section offset.
    if (d.table_of_contents_size() == 0 ||
        std::find(wanted.begin(), wanted.end(), d.table_of_contents(0)) == wanted.end()) {
      continue;
    }
    if (reader->String(d.tenant()) != query.tenant) continue;
    absl::StatusOr<std::vector<block::SeriesInfo>> series = reader->ReadSeries(i);
    if (!series.ok()) return series.status();
    std::vector<bool> selected(series->size(), false);
    bool any = false;
    for (size_t s = 0; s < series->size(); ++s) {
      const block::SeriesInfo& info = (*series)[s];
      if (info.max_time_ms < query.start_ms || info.min_time_ms > query.end_ms) continue;
      const model::Labels& labels = info.labels;
      selected[s] = query.selector.Matches(
          [&labels](std::string_view name) -> std::optional<std::string_view> {
            if (!labels.Has(name)) return std::nullopt;
            return labels.Get(name);
          });
      any = any || selected[s];
    }
    if (!any) continue;
    absl::StatusOr<block::ProfileRows> rows = reader->ReadProfiles(i, query.start_ms, query.end_ms);
    if (!rows.ok()) return rows.status();
    ++report.datasets;
    report.rows += static_cast<int64_t>(rows->size());
    if (query.kind == ReportKind::kTree) {
      absl::Status st = ReadTree(*reader, i, *rows, selected, &report);
      if (!st.ok()) return st;
    } else {
      ReadTimeSeries(query, *series, *rows, selected, &report);
    }
  }
  return report;
}

void QueryBackend::Invoke(std::shared_ptr<const ReadQuery> query,
                          std::vector<metastore::v1::BlockMeta> blocks, ReportDone done) {
  if (blocks.empty()) {
    done(QueryReport());
    return;
  }
  struct Call {
    std::shared_ptr<const ReadQuery> query;
    std::vector<metastore::v1::BlockMeta> blocks;
    std::vector<std::optional<absl::StatusOr<QueryReport>>> results;
    std::atomic<size_t> remaining;
    ReportDone done;
  };
  auto call = std::make_shared<Call>();
  call->query = std::move(query);
  call->blocks = std::move(blocks);
  call->results.resize(call->blocks.size());
  call->remaining = call->blocks.size();
  call->done = std::move(done);
  for (size_t i = 0; i < call->blocks.size(); ++i) {
    pool_.Submit([this, call, i] {
      call->results[i] = ReadBlock(*call->query, call->blocks[i]);
      if (call->remaining.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
      // Last one out merges, in block order so the result does not depend on timing.
      QueryReport merged;
      bool first = true;
      for (auto& r : call->results) {
        if (!r->ok()) {
          call->done(r->status());
          return;
        }
        if (first) {
          merged = std::move(**r);
          first = false;
        } else {
          merged.Merge(**r);
        }
        r.reset();  // free each report as soon as it is merged
      }
      call->done(std::move(merged));
    });
  }
}

}  // namespace embers::query
