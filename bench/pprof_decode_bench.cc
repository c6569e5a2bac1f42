// Decode + normalise throughput of the pprof layer, in MB/s of *uncompressed* protobuf input,
// compared in the same run with Go's parser (bench/go/src/pprofparse, run by scripts/bench.sh).
//
// Inputs are the largest Go heap profiles of the shared test data, decompressed once up front
// so gunzip time is not measured. Each iteration does what the ingest path does: DecodeRaw with
// validation, Normalize, and (for the split kernel) SplitBySeries; the kernels without the
// split give the sample arrays back for reuse as SplitBySeries would (sample_arrays_cache.h).
// Run: build/bench/pprof_decode_bench
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/compression.h"
#include "pprof/decoder.h"
#include "pprof/encoder.h"
#include "pprof/normalize.h"
#include "pprof/sample_arrays_cache.h"
#include "pprof/split.h"

namespace {

using namespace embers::pprof;

std::string LoadRaw(const std::string& name) {
  std::string dir = "../shared/testdata";
  if (const char* env = std::getenv("EMBERS_TESTDATA")) dir = env;
  std::ifstream in(dir + "/pyroscope/pprof/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  auto raw = embers::MaybeDecompress(ss.str(), 64 << 20);
  return raw.ok() ? *raw : std::string();
}

// The limits Pyroscope would apply, except the sample count: the big profile has 41k samples
// and is here to measure speed, not to be rejected.
NormalizeOptions BenchOptions() { return NormalizeOptions{.max_samples = 0, .now_nanos = 1}; }

// The uncompressed bytes of `file`, shared as DecodeRaw wants them; null (and the benchmark
// marked as skipped) when the test data is missing.
std::shared_ptr<const std::string> LoadShared(benchmark::State& state, const char* file) {
  std::string raw = LoadRaw(file);
  if (raw.empty()) {
    state.SkipWithError("testdata not found (set EMBERS_TESTDATA)");
    return nullptr;
  }
  return std::make_shared<const std::string>(std::move(raw));
}

// What the ingest path does with an uncompressed pprof before splitting it: decode (with
// validation) and normalise. False (and the benchmark marked as failed) on an error.
bool DecodeAndNormalize(benchmark::State& state, const std::shared_ptr<const std::string>& raw,
                        absl::StatusOr<Profile>* p) {
  *p = DecodeRaw(raw, DecodeOptions{.max_decompressed_size = 0});
  if (!p->ok() || !Normalize(&**p, BenchOptions()).ok()) {
    state.SkipWithError("decode failed");
    return false;
  }
  return true;
}

void BM_Decode(benchmark::State& state, const char* file) {
  auto raw = LoadShared(state, file);
  if (raw == nullptr) return;
  for (auto _ : state) {
    auto p = DecodeRaw(raw, DecodeOptions{.max_decompressed_size = 0});
    benchmark::DoNotOptimize(p);
    if (p.ok()) RecycleSampleArrays(*p);  // what SplitBySeries does on the ingest path
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * raw->size()));
}

void BM_DecodeNormalize(benchmark::State& state, const char* file) {
  auto raw = LoadShared(state, file);
  if (raw == nullptr) return;
  for (auto _ : state) {
    absl::StatusOr<Profile> p;
    if (!DecodeAndNormalize(state, raw, &p)) return;
    benchmark::DoNotOptimize(p);
    RecycleSampleArrays(*p);  // what SplitBySeries does on the ingest path
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * raw->size()));
}

void BM_DecodeNormalizeSplit(benchmark::State& state, const char* file) {
  auto raw = LoadShared(state, file);
  if (raw == nullptr) return;
  embers::model::Labels labels({{"__name__", "memory"}, {"service_name", "bench"}});
  for (auto _ : state) {
    absl::StatusOr<Profile> p;
    if (!DecodeAndNormalize(state, raw, &p)) return;
    auto series = SplitBySeries(*std::move(p), labels);
    benchmark::DoNotOptimize(series);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * raw->size()));
}

void BM_Encode(benchmark::State& state, const char* file) {
  std::string raw = LoadRaw(file);
  auto p = Decode(raw, DecodeOptions{.max_decompressed_size = 0});
  if (!p.ok()) {
    state.SkipWithError("testdata not found (set EMBERS_TESTDATA)");
    return;
  }
  for (auto _ : state) {
    std::string out = Encode(*p);
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * raw.size()));
}

BENCHMARK_CAPTURE(BM_Decode, go_heap_large, "go_heap_large.pb.gz");
BENCHMARK_CAPTURE(BM_Decode, go_heap_alloc_objects_big, "go_heap_alloc_objects_big.pb.gz");
BENCHMARK_CAPTURE(BM_DecodeNormalize, go_heap_large, "go_heap_large.pb.gz");
BENCHMARK_CAPTURE(BM_DecodeNormalize, go_heap_alloc_objects_big, "go_heap_alloc_objects_big.pb.gz");
BENCHMARK_CAPTURE(BM_DecodeNormalizeSplit, go_heap_large, "go_heap_large.pb.gz");
BENCHMARK_CAPTURE(BM_Encode, go_heap_large, "go_heap_large.pb.gz");

}  // namespace

BENCHMARK_MAIN();
