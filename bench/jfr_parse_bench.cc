// JFR throughput, in MB/s of *uncompressed* JFR input: the raw reader (chunk header, metadata,
// constant pools and every profiling event decoded) and the full conversion to per-series stack
// samples. Target: >= 100 MB/s per core for the reader (DESIGN §10 / issue 3).
//
// Inputs are the shared JFR recordings, decompressed once up front so gunzip time is not
// measured. Run from the project root: build/bench/jfr_parse_bench
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "base/compression.h"
#include "ingest/jfr/jfr_labels.h"
#include "ingest/jfr/jfr_reader.h"
#include "ingest/jfr/jfr_to_profiles.h"

namespace {

using namespace embers::jfr;

std::string LoadRaw(const std::string& name) {
  std::string dir = "../shared/testdata";
  if (const char* env = std::getenv("EMBERS_TESTDATA")) dir = env;
  std::ifstream in(dir + "/pyroscope/jfr/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  auto raw = embers::MaybeDecompress(ss.str(), 256 << 20);
  return raw.ok() ? *raw : std::string();
}

void BM_Read(benchmark::State& state, const char* file) {
  std::string raw = LoadRaw(file);
  if (raw.empty()) {
    state.SkipWithError("testdata not found (set EMBERS_TESTDATA)");
    return;
  }
  int64_t events = 0;
  for (auto _ : state) {
    JfrReader r(raw);
    JfrEvent ev;
    while (r.NextChunk()) {
      while (r.NextEvent(&ev)) ++events;
    }
    if (!r.status().ok()) state.SkipWithError("parse failed");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * raw.size()));
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}

void BM_Convert(benchmark::State& state, const char* file, const char* labels_file) {
  std::string raw = LoadRaw(file);
  if (raw.empty()) {
    state.SkipWithError("testdata not found (set EMBERS_TESTDATA)");
    return;
  }
  JfrLabelsSnapshot labels;
  if (labels_file != nullptr) {
    auto parsed = ParseLabelsSnapshot(LoadRaw(labels_file));
    if (parsed.ok()) labels = std::move(*parsed);
  }
  for (auto _ : state) {
    auto p = ConvertJfr(raw, labels_file != nullptr ? &labels : nullptr);
    benchmark::DoNotOptimize(p);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * raw.size()));
}

BENCHMARK_CAPTURE(BM_Read, kafka_cpu, "kafka_cpu.jfr.gz");
BENCHMARK_CAPTURE(BM_Read, kafka_cpu_lock_alloc, "kafka_cpu_lock_alloc.jfr.gz");
BENCHMARK_CAPTURE(BM_Read, dump2, "dump2_wall_cpu_alloc_live.jfr.gz");
BENCHMARK_CAPTURE(BM_Convert, kafka_cpu, "kafka_cpu.jfr.gz", nullptr);
BENCHMARK_CAPTURE(BM_Convert, kafka_cpu_lock_alloc, "kafka_cpu_lock_alloc.jfr.gz", nullptr);
BENCHMARK_CAPTURE(BM_Convert, dump2, "dump2_wall_cpu_alloc_live.jfr.gz", "dump2.labels.pb.gz");

}  // namespace

BENCHMARK_MAIN();
