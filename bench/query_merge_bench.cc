// Query-path kernels (issue 6 target: merge >= 50 M samples/s per core).
//
// One object holds 960 Go CPU profiles (pyroscope testdata go_cpu_truncated_stacks: 647 samples,
// 1,922 locations each; 20 series, values perturbed per profile), built with the same
// DatasetBuilder/BuildObject the segment-writer uses and read back from a memory bucket by
// QueryBackend::ReadBlock, i.e. everything a read node does for one object: footer, series
// section, profile chunks (decode), symbols section, per-stack aggregation and name resolution.
//  - BM_ReadBlockTree:  the flame-graph report (function-name tree);
//  - BM_ReadBlockPprof: the pprof report (full symbols);
//  - BM_ReadBlockTreeCallSite: the tree report with a stack-trace selector;
//  - BM_FlameGraph:     rendering the merged tree (max_nodes 8192).
// samples/s counts every sample of every profile read, per second of CPU time (one core).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "base/ulid.h"
#include "block/dataset_builder.h"
#include "block/object_writer.h"
#include "model/labels.h"
#include "objstore/memory_bucket.h"
#include "pprof/decoder.h"
#include "pprof/normalize.h"
#include "pprof/split.h"
#include "pprof/testdata.h"
#include "query/flame_graph.h"
#include "query/query_backend.h"

namespace embers::query {
namespace {

constexpr int kProfiles = 960;
constexpr int kSeries = 20;
constexpr int64_t kT0 = 1'700'000'000'000;
constexpr char kType[] = "process_cpu:cpu:nanoseconds:cpu:nanoseconds";

struct Fixture {
  objstore::MemoryBucket bucket;
  metastore::v1::BlockMeta meta;
  int64_t samples = 0;
  bool ok = false;

  Fixture() {
    const std::string path =
        pprof::testing::TestdataDir() + "/pyroscope/pprof/go_cpu_truncated_stacks.pb.gz";
    absl::StatusOr<pprof::Profile> p = pprof::Decode(pprof::testing::ReadFile(path));
    if (!p.ok() || !pprof::Normalize(&*p).ok()) return;
    absl::StatusOr<std::vector<pprof::SeriesProfile>> split = pprof::SplitBySeries(
        std::move(*p), model::Labels({{"__name__", "process_cpu"}, {"service_name", "bench"}}));
    if (!split.ok()) return;
    const pprof::SeriesProfile* cpu = nullptr;
    for (const auto& s : *split) {
      if (s.type.ID() == kType) cpu = &s;
    }
    if (cpu == nullptr) return;
    block::DatasetBuilder builder("t", "bench");
    for (int i = 0; i < kProfiles; ++i) {
      pprof::Profile perturbed = cpu->samples;
      for (int64_t& v : perturbed.values) v = v * (1 + i % 7) + i % 3;
      samples += static_cast<int64_t>(perturbed.samples.size());
      model::Labels labels = cpu->labels.With("pod", "pod-" + std::to_string(i % kSeries));
      builder.Append(labels, kT0 + i / kSeries * 15'000, 0, perturbed, *cpu->symbols,
                     std::span<const uint64_t>());
    }
    std::vector<block::EncodedDataset> datasets;
    datasets.push_back(builder.Finish());
    block::BuiltObject obj = block::BuildObject(
        {.id = DeterministicUlid(kT0, 1, 2).ToString(), .shard = 1}, std::move(datasets));
    meta = obj.meta;
    ok = bucket.Put(block::ObjectKey(meta), obj.bytes).ok();
  }
};

Fixture& Data() {
  static Fixture* f = new Fixture();
  return *f;
}

ReadQuery Query(ReportKind kind) {
  ReadQuery q;
  q.tenant = "t";
  q.start_ms = kT0;
  q.end_ms = kT0 + 24 * 3'600'000;
  q.kind = kind;
  q.selector = *model::Selector::Parse(std::string("{__profile_type__=\"") + kType + "\"}");
  return q;
}

void RunReadBlock(benchmark::State& state, const ReadQuery& query) {
  Fixture& f = Data();
  if (!f.ok) {
    state.SkipWithError("no testdata (set EMBERS_TESTDATA)");
    return;
  }
  QueryBackend backend(QueryBackendOptions{.threads = 1}, &f.bucket);
  int64_t samples = 0;
  for (auto _ : state) {
    absl::StatusOr<QueryReport> r = backend.ReadBlock(query, f.meta);
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      return;
    }
    samples += f.samples;
    benchmark::DoNotOptimize(r->tree.size());
  }
  state.counters["samples/s"] =
      benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
  state.counters["profiles"] = kProfiles;
}

void BM_ReadBlockTree(benchmark::State& state) { RunReadBlock(state, Query(ReportKind::kTree)); }
BENCHMARK(BM_ReadBlockTree)->Unit(benchmark::kMillisecond);

void BM_ReadBlockPprof(benchmark::State& state) { RunReadBlock(state, Query(ReportKind::kPprof)); }
BENCHMARK(BM_ReadBlockPprof)->Unit(benchmark::kMillisecond);

void BM_ReadBlockTreeCallSite(benchmark::State& state) {
  ReadQuery q = Query(ReportKind::kTree);
  q.filter.call_site = {"runtime.goexit"};
  RunReadBlock(state, q);
}
BENCHMARK(BM_ReadBlockTreeCallSite)->Unit(benchmark::kMillisecond);

void BM_FlameGraph(benchmark::State& state) {
  Fixture& f = Data();
  if (!f.ok) {
    state.SkipWithError("no testdata (set EMBERS_TESTDATA)");
    return;
  }
  QueryBackend backend(QueryBackendOptions{.threads = 1}, &f.bucket);
  absl::StatusOr<QueryReport> r = backend.ReadBlock(Query(ReportKind::kTree), f.meta);
  if (!r.ok()) {
    state.SkipWithError(std::string(r.status().message()).c_str());
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(BuildFlameGraph(r->tree, 8192).levels_size());
  state.counters["nodes"] = static_cast<double>(r->tree.size());
}
BENCHMARK(BM_FlameGraph)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace embers::query
