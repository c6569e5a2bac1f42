#include "block/dataset_merge.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "base/status.h"
#include "base/strings.h"
#include "block/dataset_builder.h"
#include "block/profile_identity.h"
#include "block/profile_reader.h"
#include "block/symbols_merger.h"

namespace embers::block {
namespace {

// Cancellation, the memory limit and spill errors are checked every this many rows.
constexpr uint64_t kCheckEveryRows = 1024;

size_t SeriesMemoryBytes(const std::vector<SeriesInfo>& series) {
  size_t bytes = series.capacity() * sizeof(SeriesInfo);
  for (const SeriesInfo& s : series) {
    bytes += s.labels.size() * sizeof(model::Label);
    for (const auto& l : s.labels) {
      // Heap bytes beyond the small-string buffer.
      if (l.name.size() > 15) bytes += l.name.capacity();
      if (l.value.size() > 15) bytes += l.value.capacity();
    }
  }
  return bytes;
}

// One source dataset in the merge: its series, its symbols and the translation of its stacks,
// and its rows, the current one of which waits in the merge's heap.
struct Source {
  const ObjectReader* object = nullptr;
  int dataset = 0;
  std::vector<SeriesInfo> series;
  std::vector<uint32_t> merged_series;  // local series rank → index in the union of series
  Symbols symbols;
  std::unique_ptr<SymbolsMerger> stacks;
  ProfileReader rows;
  RowHeader row;  // the current row
  bool started = false;
  uint32_t key = 0;  // its series in the union
  size_t index = 0;  // position among the sources: breaks ties

  std::string What(std::string_view section) const { return object->SectionName(dataset, section); }
};

class Merger {
 public:
  Merger(const MergeOptions& options, SpillBuffer area, MergeStats* stats)
      : options_(options),
        writer_(options.tenant, options.service, options.dataset, std::move(area)),
        stats_(stats) {}

  absl::StatusOr<EncodedDataset> Run(std::span<const MergeSource> inputs) {
    for (const MergeSource& input : inputs) {
      EMBERS_RETURN_IF_ERROR(AddSource(input));
    }
    EMBERS_RETURN_IF_ERROR(UniteSeries());
    for (std::unique_ptr<Source>& source : sources_) {
      EMBERS_RETURN_IF_ERROR(source->rows.Open(
          *source->object, source->dataset,
          {.window_bytes = source->object->holds_contents() ? 0 : options_.window_bytes,
           .min_time_ms = options_.min_time_ms,
           .max_time_ms = options_.max_time_ms}));
      EMBERS_ASSIGN_OR_RETURN(const bool any, Advance(*source));
      if (any) heap_.push_back(source.get());
    }
    std::make_heap(heap_.begin(), heap_.end(), After);
    while (!heap_.empty()) {
      std::pop_heap(heap_.begin(), heap_.end(), After);
      Source& source = *heap_.back();
      EMBERS_RETURN_IF_ERROR(TakeRow(source));
      EMBERS_ASSIGN_OR_RETURN(const bool more, Advance(source));
      if (more) {
        std::push_heap(heap_.begin(), heap_.end(), After);
      } else {
        heap_.pop_back();
      }
      // A second row of the run just taken is next: remember the identity of the first.
      if (run_keys_.empty() && !heap_.empty() && heap_.front()->key == run_series_ &&
          heap_.front()->row.timestamp_ms == run_time_) {
        run_keys_.push_back(Identity());
      }
      if (++rows_seen_ % kCheckEveryRows == 0) EMBERS_RETURN_IF_ERROR(Check());
    }
    EMBERS_RETURN_IF_ERROR(Check());
    for (std::unique_ptr<Source>& source : sources_) {
      stats_->bytes_fetched += source->rows.bytes_fetched();
    }
    stats_->series_out += writer_.series_count();
    return writer_.Finish(symbols_);
  }

 private:
  // Heap order: the source whose current row comes later is "less" (std heaps are max-heaps).
  static bool After(const Source* a, const Source* b) {
    if (a->key != b->key) return a->key > b->key;
    if (a->row.timestamp_ms != b->row.timestamp_ms) {
      return a->row.timestamp_ms > b->row.timestamp_ms;
    }
    return a->index > b->index;
  }

  absl::Status AddSource(const MergeSource& input) {
    auto source = std::make_unique<Source>();
    source->object = input.object;
    source->dataset = input.dataset;
    source->index = sources_.size();
    EMBERS_ASSIGN_OR_RETURN(source->series, input.object->ReadSeries(input.dataset));
    for (size_t i = 1; i < source->series.size(); ++i) {
      if (!LabelsLess(source->series[i - 1].labels, source->series[i].labels)) {
        return absl::DataLossError(
            StrCat(source->What("series"), ": series ", i, " is out of canonical order"));
      }
    }
    EMBERS_ASSIGN_OR_RETURN(source->symbols, input.object->ReadSymbols(input.dataset));
    source->stacks = std::make_unique<SymbolsMerger>(source->symbols, &symbols_);
    if (!input.object->holds_contents()) {
      EMBERS_ASSIGN_OR_RETURN(const auto series, input.object->SectionRange(input.dataset, 0));
      EMBERS_ASSIGN_OR_RETURN(const auto symbols, input.object->SectionRange(input.dataset, 2));
      stats_->bytes_fetched += series.second - series.first + symbols.second - symbols.first;
    }
    fixed_bytes_ += SeriesMemoryBytes(source->series) + source->symbols.MemoryBytes() +
                    source->stacks->MemoryBytes();
    sources_.push_back(std::move(source));
    return CheckMemory();
  }

  // Numbers the union of the sources' series in canonical order.
  absl::Status UniteSeries() {
    struct Entry {
      const SeriesInfo* series;
      Source* source;
      uint32_t rank;
    };
    std::vector<Entry> all;
    for (std::unique_ptr<Source>& source : sources_) {
      source->merged_series.resize(source->series.size());
      for (uint32_t r = 0; r < source->series.size(); ++r) {
        all.push_back({&source->series[r], source.get(), r});
      }
    }
    // Stable: a series in several sources takes its fingerprint from the first.
    std::stable_sort(all.begin(), all.end(), [](const Entry& a, const Entry& b) {
      return LabelsLess(a.series->labels, b.series->labels);
    });
    for (size_t i = 0; i < all.size(); ++i) {
      if (i == 0 || LabelsLess(all[i - 1].series->labels, all[i].series->labels)) {
        merged_.push_back(all[i].series);
      }
      all[i].source->merged_series[all[i].rank] = static_cast<uint32_t>(merged_.size() - 1);
    }
    fixed_bytes_ += merged_.capacity() * sizeof(merged_[0]);
    return CheckMemory();
  }

  // Moves `source` to its next row; false at its end. Checks the order rows come in.
  absl::StatusOr<bool> Advance(Source& source) {
    const uint32_t previous_series = source.row.series;
    const int64_t previous_time = source.row.timestamp_ms;
    const bool first = !source.started;
    EMBERS_ASSIGN_OR_RETURN(const bool more, source.rows.Next(&source.row));
    if (!more) return false;
    if (source.row.series >= source.series.size()) {
      return absl::DataLossError(StrCat(source.rows.what(), ": row of series ", source.row.series,
                                        ", of ", source.series.size()));
    }
    if (!first &&
        (source.row.series < previous_series ||
         (source.row.series == previous_series && source.row.timestamp_ms < previous_time))) {
      return absl::DataLossError(StrCat(source.rows.what(), ": rows out of (series, time) order"));
    }
    source.started = true;
    source.key = source.merged_series[source.row.series];
    return true;
  }

  ProfileKey Identity() const {
    return {.fingerprint = merged_[run_series_]->fingerprint,
            .timestamp_ms = run_time_,
            .digest = ProfileDigest(duration_, profile_id_, values_, span_ids_, trace_ids_)};
  }

  // Reads the current row of `source` and keeps it unless it repeats one kept before.
  absl::Status TakeRow(Source& source) {
    const RowHeader& row = source.row;
    stack_ids_.clear();
    values_.clear();
    span_ids_.clear();
    trace_ids_.clear();
    EMBERS_RETURN_IF_ERROR(source.rows.ReadSamples(&stack_ids_, &values_, &span_ids_, &trace_ids_));
    duration_ = row.duration_ns;
    profile_id_ = row.profile_id;
    ++stats_->rows_in;
    stats_->samples_in += stack_ids_.size();
    if (source.key == run_series_ && row.timestamp_ms == run_time_ && have_run_) {
      const ProfileKey key = Identity();
      if (std::find(run_keys_.begin(), run_keys_.end(), key) != run_keys_.end()) {
        ++stats_->duplicate_rows;
        return absl::OkStatus();
      }
      run_keys_.push_back(key);
    } else {
      have_run_ = true;
      run_series_ = source.key;
      run_time_ = row.timestamp_ms;
      run_keys_.clear();
    }
    return Emit(source);
  }

  // Writes the row read by TakeRow with its stacks rewritten into the output symbols.
  absl::Status Emit(Source& source) {
    if (!have_series_ || source.key != out_series_key_) {
      const SeriesInfo& series = *merged_[source.key];
      out_series_rank_ = writer_.AddSeries(series.labels, series.fingerprint);
      out_series_key_ = source.key;
      have_series_ = true;
    }
    const size_t n = stack_ids_.size();
    const uint32_t node_count = static_cast<uint32_t>(source.symbols.node_parent.size());
    out_ids_.resize(n);
    bool sorted = true;
    for (size_t i = 0; i < n; ++i) {
      if (stack_ids_[i] >= node_count) {
        return absl::DataLossError(StrCat(source.rows.what(), ": stack id ", stack_ids_[i],
                                          " is not in the symbols section (", node_count,
                                          " stack nodes)"));
      }
      out_ids_[i] = source.stacks->Node(stack_ids_[i]);
      sorted = sorted && (i == 0 || out_ids_[i - 1] <= out_ids_[i]);
    }
    std::span<const int64_t> values = values_;
    std::span<const uint64_t> spans = span_ids_;
    std::span<const model::TraceId> traces = trace_ids_;
    if (!sorted) {
      // Samples ordered by their new stack ids (the format stores ids ascending), each keeping
      // its value, span id and trace id; ties keep their order.
      order_.resize(n);
      for (size_t i = 0; i < n; ++i) order_[i] = (uint64_t{out_ids_[i]} << 32) | i;
      std::sort(order_.begin(), order_.end());
      sorted_values_.resize(n);
      sorted_spans_.resize(span_ids_.size());
      sorted_traces_.resize(trace_ids_.size());
      for (size_t j = 0; j < n; ++j) {
        const uint32_t i = static_cast<uint32_t>(order_[j]);
        out_ids_[j] = static_cast<uint32_t>(order_[j] >> 32);
        sorted_values_[j] = values_[i];
        if (!span_ids_.empty()) sorted_spans_[j] = span_ids_[i];
        if (!trace_ids_.empty()) sorted_traces_[j] = trace_ids_[i];
      }
      values = sorted_values_;
      spans = sorted_spans_;
      traces = sorted_traces_;
    }
    writer_.AddRow({.series = out_series_rank_,
                    .timestamp_ms = source.row.timestamp_ms,
                    .duration_ns = duration_,
                    .stack_ids = out_ids_,
                    .values = values,
                    .span_ids = spans,
                    .trace_ids = traces,
                    .profile_id = profile_id_});
    ++stats_->rows_out;
    stats_->samples_out += n;
    return absl::OkStatus();
  }

  absl::Status CheckMemory() {
    const size_t bytes = fixed_bytes_ + symbols_.MemoryBytes() + writer_.MemoryBytes();
    stats_->peak_symbols_bytes = std::max(stats_->peak_symbols_bytes, bytes);
    if (bytes <= options_.memory_limit_bytes) return absl::OkStatus();
    return absl::ResourceExhaustedError(StrCat(
        "compaction job ", options_.job_name, ": the symbols and series of ", options_.tenant, "/",
        options_.service, " need ", bytes, " bytes, more than the memory limit of ",
        options_.memory_limit_bytes, " bytes (-compaction.memory-limit)"));
  }

  absl::Status Check() {
    if (options_.cancel != nullptr && options_.cancel->load(std::memory_order_relaxed)) {
      return absl::CancelledError(StrCat("compaction job ", options_.job_name, " cancelled"));
    }
    EMBERS_RETURN_IF_ERROR(writer_.status());
    size_t reading = 0;
    for (const std::unique_ptr<Source>& source : sources_) reading += source->rows.MemoryBytes();
    stats_->peak_read_bytes = std::max(stats_->peak_read_bytes, reading);
    return CheckMemory();
  }

  const MergeOptions& options_;
  DatasetWriter writer_;
  MergeStats* stats_;
  SymbolsBuilder symbols_;
  std::vector<std::unique_ptr<Source>> sources_;
  std::vector<const SeriesInfo*> merged_;  // the union of series, in canonical order
  size_t fixed_bytes_ = 0;
  std::vector<Source*> heap_;
  uint64_t rows_seen_ = 0;

  // The run of rows of one (series, timestamp) being merged, and the identities kept in it.
  bool have_run_ = false;
  uint32_t run_series_ = 0;
  int64_t run_time_ = 0;
  std::vector<ProfileKey> run_keys_;

  bool have_series_ = false;
  uint32_t out_series_key_ = 0;
  uint32_t out_series_rank_ = 0;

  // The row taken last, and scratch for writing it.
  int64_t duration_ = 0;
  model::ProfileId profile_id_;
  std::vector<uint32_t> stack_ids_;
  std::vector<int64_t> values_;
  std::vector<uint64_t> span_ids_;
  std::vector<model::TraceId> trace_ids_;
  std::vector<uint32_t> out_ids_;
  std::vector<uint64_t> order_;
  std::vector<int64_t> sorted_values_;
  std::vector<uint64_t> sorted_spans_;
  std::vector<model::TraceId> sorted_traces_;
};

}  // namespace

absl::StatusOr<EncodedDataset> MergeDatasets(std::span<const MergeSource> sources,
                                             const MergeOptions& options, SpillBuffer profiles_area,
                                             MergeStats* stats) {
  Merger merger(options, std::move(profiles_area), stats);
  return merger.Run(sources);
}

}  // namespace embers::block
