// Metastore block index benchmarks (issue 5 targets):
//  - QueryMetadata over 100,000 blocks, one service over 1 h: p99 <= 5 ms.
//  - Snapshot and restore of 1,000,000 blocks: < 10 s each; memory per million blocks.
//
// The blocks look like level-0 segments: 16 shards, 3 tenants, 240 services each placed on 2
// shards (as the distributor's placement does), 10 datasets per segment with two profile types
// each. Latency percentiles are measured per call and reported as counters (p50_ms, p99_ms).
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <random>

#include "metastore/index/block_index.h"
#include "metastore_bench_blocks.h"

namespace embers::metastore {
namespace {

using bench::Fill;
using bench::kHour;
using bench::kT0;
using bench::Service;
using bench::TenantOf;

void ReportPercentiles(benchmark::State& state, std::vector<double>& ms) {
  std::sort(ms.begin(), ms.end());
  state.counters["p50_ms"] = ms[ms.size() / 2];
  state.counters["p99_ms"] = ms[std::min(ms.size() - 1, ms.size() * 99 / 100)];
  state.counters["max_ms"] = ms.back();
}

// Arg 0: hours of data the 100,000 blocks span (1 = every block is inside the queried hour).
void BM_QueryMetadataOneServiceOneHour(benchmark::State& state) {
  const int64_t span = state.range(0) * kHour;
  BlockIndex index;
  Fill(index, 100'000, span, 10, 1);
  v1::QueryMetadataRequest req;
  req.add_tenant_id(TenantOf(17));
  req.set_start_time(kT0 + span - kHour);
  req.set_end_time(kT0 + span);
  req.set_query("{service_name=\"" + Service(17) + "\"}");
  std::vector<double> ms;
  size_t blocks = 0;
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    auto r = index.QueryMetadata(req);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
    blocks = static_cast<size_t>(r->blocks_size());
    benchmark::DoNotOptimize(r);
  }
  state.counters["blocks_indexed"] = 100'000;
  state.counters["blocks_returned"] = static_cast<double>(blocks);
  ReportPercentiles(state, ms);
}
BENCHMARK(BM_QueryMetadataOneServiceOneHour)->Arg(1)->Arg(24)->Unit(benchmark::kMillisecond);

// Profile types of one service (QueryMetadataLabels with __profile_type__), same data.
void BM_QueryMetadataLabelsProfileTypes(benchmark::State& state) {
  const int64_t span = state.range(0) * kHour;
  BlockIndex index;
  Fill(index, 100'000, span, 10, 1);
  v1::QueryMetadataLabelsRequest req;
  req.add_tenant_id(TenantOf(17));
  req.set_start_time(kT0 + span - kHour);
  req.set_end_time(kT0 + span);
  req.set_query("{service_name=\"" + Service(17) + "\"}");
  req.add_labels("__profile_type__");
  std::vector<double> ms;
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    auto r = index.QueryMetadataLabels(req);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
    benchmark::DoNotOptimize(r);
  }
  ReportPercentiles(state, ms);
}
BENCHMARK(BM_QueryMetadataLabelsProfileTypes)->Arg(1)->Arg(24)->Unit(benchmark::kMillisecond);

size_t HeapInUse() {
  malloc_trim(0);
  return mallinfo2().uordblks;
}

// 1,000,000 segments (3 datasets each) over 7 days: memory, snapshot size, encode and restore.
void BM_SnapshotRestoreOneMillion(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  size_t before = HeapInUse();
  auto index = std::make_unique<BlockIndex>();
  Fill(*index, count, 7 * 24 * kHour, 3, 2);
  size_t after = HeapInUse();
  double encode_s = 0, restore_s = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    std::string snapshot = index->EncodeSnapshot();
    auto t1 = std::chrono::steady_clock::now();
    BlockIndex restored;
    if (!restored.RestoreSnapshot(snapshot).ok()) std::abort();
    auto t2 = std::chrono::steady_clock::now();
    if (restored.BlockCount() != static_cast<size_t>(count)) std::abort();
    encode_s = std::chrono::duration<double>(t1 - t0).count();
    restore_s = std::chrono::duration<double>(t2 - t1).count();
    bytes = snapshot.size();
  }
  state.counters["encode_s"] = encode_s;
  state.counters["restore_s"] = restore_s;
  state.counters["snapshot_MB"] = static_cast<double>(bytes) / 1e6;
  state.counters["heap_MB_per_1M_blocks"] =
      static_cast<double>(after - before) / 1e6 * (1e6 / count);
}
BENCHMARK(BM_SnapshotRestoreOneMillion)->Arg(1'000'000)->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace
}  // namespace embers::metastore

BENCHMARK_MAIN();
