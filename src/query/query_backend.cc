#include "query/query_backend.h"

#include <algorithm>
#include <atomic>
#include <optional>

#include "base/logging.h"
#include "base/status.h"
#include "base/strings.h"
#include "block/object_reader.h"
#include "block/object_writer.h"
#include "block/symbols_merger.h"
#include "query/profile_scan.h"
#include "query/query_memory.h"
#include "query/query_plan.h"

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
    return block::MapStackNode(
        symbols_, id, kUnresolved, node_, path_,
        [this](uint32_t parent, uint32_t location) { return AppendLocation(parent, location); });
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

// Whether sample s of the rows passes the span and trace parts of the filter.
bool LinkSelected(const SampleFilter& filter, const block::ProfileRows& rows, size_t r,
                  uint32_t s) {
  if (filter.by_span) {
    if (rows.span_count[r] != rows.sample_count[r]) return false;  // no span ids in this row
    if (!filter.HasSpan(rows.span_ids[rows.span_begin[r] + (s - rows.sample_begin[r])])) {
      return false;
    }
  }
  if (filter.by_trace) {
    if (rows.trace_count[r] != rows.sample_count[r]) return false;  // no trace ids in this row
    if (!filter.HasTrace(rows.trace_ids[rows.trace_begin[r] + (s - rows.sample_begin[r])])) {
      return false;
    }
  }
  return true;
}

// Which rows of a dataset count: their series is selected, they pass the profile-id selector,
// and (with `dedup`) no copy of the same profile was counted before in this call.
absl::StatusOr<std::vector<bool>> CountedRows(const ReadQuery& query,
                                              const std::vector<block::SeriesInfo>& series,
                                              const block::ProfileRows& rows,
                                              const std::vector<bool>& selected,
                                              ProfileDedup* dedup) {
  std::vector<bool> counted(rows.size(), false);
  for (size_t r = 0; r < rows.size(); ++r) {
    if (!selected[rows.series[r]] || !query.filter.HasProfile(rows.profile_ids[r])) continue;
    if (dedup != nullptr) {
      const uint32_t begin = rows.sample_begin[r], count = rows.sample_count[r];
      std::span<const uint64_t> spans;
      if (rows.span_count[r] == count) spans = {rows.span_ids.data() + rows.span_begin[r], count};
      std::span<const model::TraceId> traces;
      if (rows.trace_count[r] == count) {
        traces = {rows.trace_ids.data() + rows.trace_begin[r], count};
      }
      const block::ProfileKey key{
          .fingerprint = series[rows.series[r]].fingerprint,
          .timestamp_ms = rows.timestamp_ms[r],
          .digest = block::ProfileDigest(rows.duration_ns[r], rows.profile_ids[r],
                                         {rows.values.data() + begin, count}, spans, traces)};
      if (!dedup->FirstSeen(key)) continue;
    }
    counted[r] = true;
  }
  if (dedup != nullptr) EMBERS_RETURN_IF_ERROR(dedup->Charge());
  return counted;
}

// What a query reads of one dataset, shared by the threads scanning its chunks.
struct DatasetScan {
  const ReadQuery& query;
  const block::ObjectReader& reader;
  int dataset;
  const std::vector<block::SeriesInfo>& series;
  const std::vector<bool>& selected;
  ProfileDedup* dedup;
  // Stack-trace ids at or past this are damage (the dataset's symbol-tree size).
  size_t nodes;
  // With a stack-trace selector: which stack ids it matches (empty: all).
  const std::vector<bool>& stack_match;

  absl::Status StackOutOfRange(uint32_t id) const {
    return absl::DataLossError(
        StrCat("object ", reader.key(), " dataset ", dataset, ": stack id ", id, " out of range"));
  }
};

// Sums the samples of the counted rows by stack-trace id. Names and symbols are resolved once per
// dataset afterwards (AddStacks), per distinct stack, not per sample: many profiles share few
// stacks.
class StackSums final : public ProfileChunkSink {
 public:
  explicit StackSums(const DatasetScan& scan) : by_stack(scan.nodes, 0), scan_(scan) {}

  absl::Status Consume(const block::ProfileRows& rows) override {
    EMBERS_ASSIGN_OR_RETURN(
        const std::vector<bool> counted,
        CountedRows(scan_.query, scan_.series, rows, scan_.selected, scan_.dedup));
    this->rows += static_cast<int64_t>(rows.size());
    const size_t nodes = by_stack.size();
    for (size_t r = 0; r < rows.size(); ++r) {
      if (!counted[r]) continue;
      const uint32_t begin = rows.sample_begin[r], end = begin + rows.sample_count[r];
      for (uint32_t s = begin; s < end; ++s) {
        const uint32_t id = rows.stack_ids[s];
        if (id >= nodes) return scan_.StackOutOfRange(id);
        if (!LinkSelected(scan_.query.filter, rows, r, s)) continue;
        by_stack[id] += rows.values[s];
        ++samples;
      }
    }
    return absl::OkStatus();
  }

  std::vector<int64_t> by_stack;
  int64_t rows = 0;
  int64_t samples = 0;

 private:
  const DatasetScan& scan_;
};

// Adds the summed stacks of one dataset to the tree or pprof report.
void AddStacks(const ReadQuery& query, const block::Symbols& symbols,
               std::vector<int64_t>& by_stack, QueryReport* report) {
  const uint32_t nodes = static_cast<uint32_t>(by_stack.size());
  if (!query.filter.call_site.empty()) {
    const std::vector<bool> match = query.filter.MatchStacks(symbols);
    for (uint32_t id = 0; id < nodes; ++id) {
      if (!match[id]) by_stack[id] = 0;
    }
  }
  if (query.kind == ReportKind::kPprof) {
    block::SymbolsMerger merger(symbols, report->profile.symbols());
    for (uint32_t id = 0; id < nodes; ++id) {
      if (by_stack[id] != 0) report->profile.Add(merger, id, by_stack[id]);
    }
    return;
  }
  StackResolver resolver(symbols, &report->tree);
  for (uint32_t id = 0; id < nodes; ++id) {
    if (by_stack[id] != 0) report->tree.AddSelf(resolver.Resolve(id), by_stack[id]);
  }
}

// Sums the counted rows into points of their group's series.
class SeriesPoints final : public ProfileChunkSink {
 public:
  explicit SeriesPoints(const DatasetScan& scan)
      : scan_(scan), group_(scan.series.size()), heatmap_(scan.series.size()) {
    // One group per selected series, looked up once.
    for (size_t i = 0; i < scan.series.size(); ++i) {
      if (!scan.selected[i]) continue;
      GroupLabels key;
      for (const std::string& name : scan.query.group_by) {
        if (scan.series[i].labels.Has(name)) {
          key.emplace_back(name, std::string(scan.series[i].labels.Get(name)));
        }
      }
      std::sort(key.begin(), key.end());
      key.erase(std::unique(key.begin(), key.end()), key.end());
      if (scan.query.heatmap != ReadQuery::Heatmap::kNone) {
        heatmap_[i] = &report.time_series.heatmap[key];
      }
      group_[i] = &report.time_series.series[std::move(key)];
    }
    if (scan.query.exemplars) exemplar_labels_.resize(scan.series.size());
  }

  absl::Status Consume(const block::ProfileRows& rows) override {
    EMBERS_ASSIGN_OR_RETURN(
        const std::vector<bool> counted,
        CountedRows(scan_.query, scan_.series, rows, scan_.selected, scan_.dedup));
    const ReadQuery& query = scan_.query;
    const std::vector<bool>& stack_match = scan_.stack_match;
    report.rows += static_cast<int64_t>(rows.size());
    for (size_t r = 0; r < rows.size(); ++r) {
      auto* points = group_[rows.series[r]];
      if (points == nullptr || !counted[r]) continue;
      // Heatmap values are placed on the slot grid by the frontend (heatmap.h), which clamps
      // late ones into the last slot: only the time range bounds them here.
      const bool heatmap = query.heatmap != ReadQuery::Heatmap::kNone;
      const int64_t t = StepOf(rows.timestamp_ms[r], query.start_ms, query.step_ms);
      if (!heatmap && t > query.end_ms) continue;
      int64_t total = 0;
      const uint32_t begin = rows.sample_begin[r], end = begin + rows.sample_count[r];
      if (query.filter.empty()) {
        for (uint32_t s = begin; s < end; ++s) total += rows.values[s];
      } else {
        for (uint32_t s = begin; s < end; ++s) {
          const uint32_t id = rows.stack_ids[s];
          if (!stack_match.empty() && (id >= stack_match.size() || !stack_match[id])) continue;
          if (!LinkSelected(query.filter, rows, r, s)) continue;
          total += rows.values[s];
        }
      }
      report.samples += end - begin;
      if (heatmap) {
        AddHeatmapPoints(rows, r, total);
        continue;
      }
      SeriesPoint& p = (*points)[t];
      p.sum += static_cast<double>(total);
      ++p.count;
      if (query.exemplars && !rows.profile_ids.empty() && !rows.profile_ids[r].empty()) {
        SeriesExemplar candidate{.profile_id = rows.profile_ids[r],
                                 .timestamp_ms = rows.timestamp_ms[r],
                                 .value = total};
        if (candidate.Beats(p.exemplar)) {
          candidate.labels = ExemplarLabels(rows.series[r]);
          p.exemplar = std::move(candidate);
        }
      }
    }
    return absl::OkStatus();
  }

  QueryReport report;  // rows, samples and time series of the chunks consumed

 private:
  // The series' labels that are not group-by labels, built once per series.
  const GroupLabels& ExemplarLabels(uint32_t series) { return *SharedExemplarLabels(series); }
  const std::shared_ptr<const GroupLabels>& SharedExemplarLabels(uint32_t series) {
    std::shared_ptr<const GroupLabels>& labels = exemplar_labels_[series];
    if (!labels) {
      auto built = std::make_shared<GroupLabels>();
      for (const model::Label& l : scan_.series[series].labels) {
        const auto& by = scan_.query.group_by;
        if (std::find(by.begin(), by.end(), l.name) == by.end()) {
          built->emplace_back(l.name, l.value);
        }
      }
      std::sort(built->begin(), built->end());
      labels = std::move(built);
    }
    return labels;
  }

  // Row r's heatmap values: its total, or each of its samples that has a span id (the span
  // heatmap counts span samples; rows pushed without span ids add nothing to it).
  void AddHeatmapPoints(const block::ProfileRows& rows, size_t r, int64_t total) {
    const ReadQuery& query = scan_.query;
    const int64_t ts = rows.timestamp_ms[r];
    if (ts < query.start_ms || ts > query.end_ms) return;
    std::vector<HeatmapPoint>& out = *heatmap_[rows.series[r]];
    HeatmapPoint point{
        .timestamp_ms = ts,
        .profile_id = rows.profile_ids.empty() ? model::ProfileId{} : rows.profile_ids[r]};
    if (query.exemplars) point.labels = SharedExemplarLabels(rows.series[r]);
    if (query.heatmap == ReadQuery::Heatmap::kIndividual) {
      point.value = total;
      out.push_back(std::move(point));
      return;
    }
    const uint32_t begin = rows.sample_begin[r], count = rows.sample_count[r];
    if (rows.span_count[r] != count) return;
    const std::vector<bool>& stack_match = scan_.stack_match;
    for (uint32_t s = begin; s < begin + count; ++s) {
      const uint64_t span = rows.span_ids[rows.span_begin[r] + (s - begin)];
      if (span == 0 || rows.values[s] == 0) continue;
      const uint32_t id = rows.stack_ids[s];
      if (!stack_match.empty() && (id >= stack_match.size() || !stack_match[id])) continue;
      if (!LinkSelected(query.filter, rows, r, s)) continue;
      HeatmapPoint& p = out.emplace_back(point);
      p.value = rows.values[s];
      p.span_id = span;
      if (rows.trace_count[r] == count)
        p.trace_id = rows.trace_ids[rows.trace_begin[r] + (s - begin)];
    }
  }

  const DatasetScan& scan_;
  std::vector<std::map<int64_t, SeriesPoint>*> group_;  // by series rank (null: not selected)
  std::vector<std::vector<HeatmapPoint>*> heatmap_;     // by series rank, with ReadQuery::heatmap
  // By series rank, with exemplars; shared by the heatmap points of the series.
  std::vector<std::shared_ptr<const GroupLabels>> exemplar_labels_;
};

void ReadLabelSets(const ReadQuery& query, const std::vector<block::SeriesInfo>& series,
                   const std::vector<bool>& selected, QueryReport* report) {
  for (size_t i = 0; i < series.size(); ++i) {
    if (!selected[i]) continue;
    GroupLabels set;
    const model::Labels& labels = series[i].labels;
    if (query.label_names.empty()) {
      for (const model::Label& l : labels) set.emplace_back(l.name, l.value);
    } else {
      for (const std::string& name : query.label_names) {
        if (labels.Has(name)) set.emplace_back(name, std::string(labels.Get(name)));
      }
    }
    std::sort(set.begin(), set.end());
    report->label_sets.insert(std::move(set));
  }
}

}  // namespace

void TimeSeriesReport::Merge(const TimeSeriesReport& other) {
  for (const auto& [labels, points] : other.series) {
    auto& dst = series[labels];
    for (const auto& [t, p] : points) dst[t].Merge(p);
  }
  for (const auto& [labels, points] : other.heatmap) {
    auto& dst = heatmap[labels];
    dst.insert(dst.end(), points.begin(), points.end());
  }
}

void QueryReport::Merge(const QueryReport& other) {
  tree.Merge(other.tree);
  profile.Merge(other.profile);
  time_series.Merge(other.time_series);
  label_sets.insert(other.label_sets.begin(), other.label_sets.end());
  objects += other.objects;
  datasets += other.datasets;
  rows += other.rows;
  samples += other.samples;
  for (size_t i = 0; i < section_bytes.size(); ++i) section_bytes[i] += other.section_bytes[i];
  series_fingerprints.insert(other.series_fingerprints.begin(), other.series_fingerprints.end());
}

size_t QueryReport::MemoryBytes() const {
  size_t bytes = tree.MemoryBytes() + profile.MemoryBytes() + series_fingerprints.capacity() * 9;
  for (const auto& [labels, points] : time_series.series) {
    bytes += 64 + points.size() * (64 + sizeof(SeriesPoint));
    for (const auto& [t, p] : points) {
      for (const auto& [k, v] : p.exemplar.labels) bytes += 64 + k.size() + v.size();
    }
    for (const auto& [k, v] : labels) bytes += 64 + k.size() + v.size();
  }
  for (const auto& [labels, points] : time_series.heatmap) {
    bytes += 64 + points.capacity() * sizeof(HeatmapPoint);
  }
  for (const GroupLabels& set : label_sets) {
    bytes += 64;
    for (const auto& [k, v] : set) bytes += 64 + k.size() + v.size();
  }
  return bytes;
}

QueryBackend::QueryBackend(QueryBackendOptions options, objstore::Bucket* bucket)
    : bucket_(bucket), pool_({.threads = options.threads, .name = "query-backend"}) {}

QueryBackend::~QueryBackend() = default;

absl::Status QueryBackend::ReadProfiles(const ReadQuery& query, const block::ObjectReader& reader,
                                        int dataset, const std::vector<block::SeriesInfo>& series,
                                        const std::vector<bool>& selected, ProfileDedup* dedup,
                                        QueryReport* report) const {
  // Stacks need the dataset's symbols; series only for a stack-trace selector.
  const bool stacks = query.kind != ReportKind::kTimeSeries;
  std::optional<block::Symbols> symbols;
  if (stacks || !query.filter.call_site.empty()) {
    EMBERS_ASSIGN_OR_RETURN(symbols, reader.ReadSymbols(dataset));
  }
  std::vector<bool> stack_match;
  if (!stacks && symbols.has_value()) stack_match = query.filter.MatchStacks(*symbols);
  const DatasetScan scan{.query = query,
                         .reader = reader,
                         .dataset = dataset,
                         .series = series,
                         .selected = selected,
                         .dedup = dedup,
                         .nodes = symbols.has_value() ? symbols->node_parent.size() : 0,
                         .stack_match = stack_match};
  const ProfileScanOptions options{
      .min_time_ms = query.start_ms, .max_time_ms = query.end_ms, .helpers = pool_.size() - 1};
  if (!stacks) {
    EMBERS_ASSIGN_OR_RETURN(auto sinks, ScanProfileChunks(reader, dataset, options, &pool_, [&] {
                              return std::make_unique<SeriesPoints>(scan);
                            }));
    for (auto& sink : sinks) report->Merge(static_cast<SeriesPoints&>(*sink).report);
    return absl::OkStatus();
  }
  EMBERS_ASSIGN_OR_RETURN(auto sinks, ScanProfileChunks(reader, dataset, options, &pool_, [&] {
                            return std::make_unique<StackSums>(scan);
                          }));
  if (sinks.empty()) return absl::OkStatus();
  auto& sums = static_cast<StackSums&>(*sinks[0]);
  for (size_t k = 1; k < sinks.size(); ++k) {
    const auto& other = static_cast<const StackSums&>(*sinks[k]);
    for (size_t id = 0; id < sums.by_stack.size(); ++id) sums.by_stack[id] += other.by_stack[id];
    sums.rows += other.rows;
    sums.samples += other.samples;
  }
  report->rows += sums.rows;
  report->samples += sums.samples;
  if (sums.samples > 0) AddStacks(query, *symbols, sums.by_stack, report);
  return absl::OkStatus();
}

absl::StatusOr<QueryReport> QueryBackend::ReadBlock(const ReadQuery& query,
                                                    const metastore::v1::BlockMeta& block,
                                                    std::atomic<int64_t>* memory,
                                                    ProfileDedup* dedup) const {
  QueryReport report;
  MemoryCharge charge(query.max_memory_bytes, memory);
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
      auto lookup = [&labels](std::string_view name) -> std::optional<std::string_view> {
        if (!labels.Has(name)) return std::nullopt;
        return labels.Get(name);
      };
      bool match = query.selector.Matches(lookup);
      if (match && !query.any_of.empty()) {
        match = std::any_of(query.any_of.begin(), query.any_of.end(),
                            [&lookup](const model::Selector& sel) { return sel.Matches(lookup); });
      }
      selected[s] = match;
      any = any || match;
    }
    if (!any) continue;
    ++report.datasets;
    // Section i spans toc[i] .. toc[i+1] (the last ends at toc[0] + size).
    for (int sec = 0; sec < d.table_of_contents_size() && sec < 3; ++sec) {
      const uint64_t end = sec + 1 < d.table_of_contents_size() ? d.table_of_contents(sec + 1)
                                                                : d.table_of_contents(0) + d.size();
      report.section_bytes[sec] += static_cast<int64_t>(end - d.table_of_contents(sec));
    }
    if (query.count_series) {
      for (size_t s = 0; s < series->size(); ++s) {
        if (selected[s]) report.series_fingerprints.insert((*series)[s].fingerprint);
      }
    }
    if (query.kind == ReportKind::kLabelSets) {
      ReadLabelSets(query, *series, selected, &report);
    } else {
      EMBERS_RETURN_IF_ERROR(ReadProfiles(query, *reader, i, *series, selected, dedup, &report));
    }
    absl::Status st = charge.Update(report.MemoryBytes());
    if (!st.ok()) return st;
  }
  return report;
}

void QueryBackend::Invoke(std::shared_ptr<const ReadQuery> query,
                          std::vector<metastore::v1::BlockMeta> blocks, ReportDone done) {
  if (blocks.empty()) {
    done(QueryReport());
    return;
  }
  // One call runs one plan: read nodes are pool tasks; the last child of a merge node to finish
  // merges its siblings (in plan order, so the result does not depend on timing) and moves up.
  struct Call {
    std::shared_ptr<const ReadQuery> query;
    std::vector<metastore::v1::BlockMeta> blocks;
    QueryPlan plan;
    std::vector<std::optional<absl::StatusOr<QueryReport>>> results;  // by plan node
    std::vector<int64_t> charged;  // bytes charged for results[n] while it waits
    std::unique_ptr<std::atomic<uint32_t>[]> pending;  // children left, by node
    std::atomic<int64_t> memory{0};
    std::atomic<bool> failed{false};
    // Every read task of the call drops profiles another one already counted.
    std::unique_ptr<ProfileDedup> dedup;
    ReportDone done;

    // Merges the results of node n's children; the first real error (not a cancellation caused
    // by it) wins.
    absl::StatusOr<QueryReport> MergeChildren(uint32_t n) {
      absl::Status error;
      QueryReport merged;
      MemoryCharge charge(query->max_memory_bytes, &memory);
      bool first = true;
      for (uint32_t c : plan.nodes[n].children) {
        absl::StatusOr<QueryReport>& r = *results[c];
        if (!r.ok()) {
          if (error.ok() || absl::IsCancelled(error)) error = r.status();
          continue;
        }
        if (!error.ok()) continue;
        if (first) {
          merged = std::move(*r);
          first = false;
        } else {
          merged.Merge(*r);
        }
        results[c].reset();
        memory.fetch_sub(charged[c], std::memory_order_relaxed);
        charged[c] = 0;
        absl::Status st = charge.Update(merged.MemoryBytes());
        if (!st.ok() && error.ok()) error = st;
      }
      for (uint32_t c : plan.nodes[n].children) {
        memory.fetch_sub(charged[c], std::memory_order_relaxed);
        charged[c] = 0;
      }
      if (!error.ok()) return error;
      charged[n] = charge.Detach();
      return merged;
    }

    // Completes node n with `result`, then every ancestor whose last child that was.
    void Finish(uint32_t n, absl::StatusOr<QueryReport> result) {
      while (true) {
        if (!result.ok()) failed = true;
        const int32_t parent = plan.nodes[n].parent;
        if (parent < 0) {
          memory.fetch_sub(charged[n], std::memory_order_relaxed);
          done(std::move(result));
          return;
        }
        results[n] = std::move(result);
        if (pending[parent].fetch_sub(1, std::memory_order_acq_rel) != 1) return;
        n = static_cast<uint32_t>(parent);
        result = MergeChildren(n);
      }
    }
  };
  auto call = std::make_shared<Call>();
  call->query = std::move(query);
  call->blocks = std::move(blocks);
  call->plan = QueryPlan::Build(call->blocks.size());
  call->results.resize(call->plan.nodes.size());
  call->charged.assign(call->plan.nodes.size(), 0);
  call->pending = std::make_unique<std::atomic<uint32_t>[]>(call->plan.nodes.size());
  for (size_t n = 0; n < call->plan.nodes.size(); ++n) {
    call->pending[n] = static_cast<uint32_t>(call->plan.nodes[n].children.size());
  }
  call->done = std::move(done);
  call->dedup = std::make_unique<ProfileDedup>(&call->memory, call->query->max_memory_bytes);

  for (uint32_t n = 0; n < call->plan.nodes.size(); ++n) {
    if (!call->plan.nodes[n].read) continue;
    pool_.Submit([this, call, n] {
      QueryReport merged;
      MemoryCharge charge(call->query->max_memory_bytes, &call->memory);
      bool first = true;
      for (uint32_t b : call->plan.nodes[n].children) {
        // After a failure elsewhere the rest of the query is skipped, not read.
        if (call->failed) return call->Finish(n, absl::CancelledError("query failed"));
        absl::StatusOr<QueryReport> r =
            ReadBlock(*call->query, call->blocks[b], &call->memory, call->dedup.get());
        if (!r.ok()) return call->Finish(n, r.status());
        if (first) {
          merged = std::move(*r);
          first = false;
        } else {
          merged.Merge(*r);
        }
        absl::Status st = charge.Update(merged.MemoryBytes());
        if (!st.ok()) return call->Finish(n, st);
      }
      call->charged[n] = charge.Detach();
      call->Finish(n, std::move(merged));
    });
  }
}

}  // namespace embers::query
