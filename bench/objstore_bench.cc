// Client cost of the object-storage backends: CPU per MB the bucket spends to PUT objects and to
// read ranges, against a real s3rver (npm, tests/node/node_modules) and the local filesystem.
//
// Bucket calls are synchronous and run the transport (libcurl, SigV4, payload hashing) on the
// calling thread, so the benchmark's CPU time is the client's own cost; the store's (s3rver, a
// node process) is not counted. Wall time includes the round trip to s3rver. Counters:
// cpu_ms_per_MB (client CPU per MB moved) and requests per second.
//
//   build/bench/objstore_bench --benchmark_min_time=2
//
// Needs `scripts/install-deps.sh --test` (node, s3rver); the S3 cases report an error otherwise.

#include <benchmark/benchmark.h>

#include <stdlib.h>
#include <time.h>

#include <memory>
#include <string>

#include "base/strings.h"
#include "objstore/filesystem_bucket.h"
#include "objstore/s3/s3_bucket.h"
#include "objstore/s3/s3rver_process.h"

namespace embers::objstore {
namespace {

// A fresh directory under $TMPDIR (or /tmp), left behind for the OS to clean: benchmarks only.
std::string MakeTempDir() {
  const char* tmp = ::getenv("TMPDIR");
  std::string pattern = StrCat(tmp != nullptr ? tmp : "/tmp", "/objstore-bench-XXXXXX");
  return ::mkdtemp(pattern.data()) != nullptr ? pattern : std::string("/tmp");
}

struct Store {
  std::string dir = MakeTempDir();
  std::unique_ptr<s3::S3rverProcess> server;
  std::unique_ptr<Bucket> bucket;
  std::string error;
};

Store& S3Store() {
  static Store* store = [] {
    auto* s = new Store;
    absl::StatusOr<std::unique_ptr<s3::S3rverProcess>> server =
        s3::S3rverProcess::Start(s->dir, "bench");
    if (!server.ok()) {
      s->error = server.status().ToString();
      return s;
    }
    s->server = std::move(*server);
    absl::StatusOr<std::unique_ptr<s3::S3Bucket>> b =
        s3::S3Bucket::Open(s->server->BucketOptions("bench"));
    if (!b.ok()) {
      s->error = b.status().ToString();
      return s;
    }
    s->bucket = std::move(*b);
    return s;
  }();
  return *store;
}

Store& FilesystemStore() {
  static Store* store = [] {
    auto* s = new Store;
    absl::StatusOr<std::unique_ptr<FilesystemBucket>> b = FilesystemBucket::Open(s->dir);
    if (!b.ok()) {
      s->error = b.status().ToString();
    } else {
      s->bucket = std::move(*b);
    }
    return s;
  }();
  return *store;
}

Store& StoreOf(int backend) { return backend == 0 ? FilesystemStore() : S3Store(); }

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void Report(benchmark::State& state, size_t bytes_per_op, double cpu_seconds) {
  const double mb =
      static_cast<double>(state.iterations()) * static_cast<double>(bytes_per_op) / 1e6;
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes_per_op));
  state.counters["requests"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  // The benchmark thread does all of the client's work, so the process's CPU is the client's.
  state.counters["cpu_ms_per_MB"] = mb > 0 ? cpu_seconds * 1e3 / mb : 0;
}

// Arg 0: backend (0 filesystem, 1 s3); arg 1: object size.
void BM_Put(benchmark::State& state) {
  Store& store = StoreOf(static_cast<int>(state.range(0)));
  if (store.bucket == nullptr) return state.SkipWithError(store.error.c_str());
  const std::string data(static_cast<size_t>(state.range(1)), 'x');
  int64_t i = 0;
  const double cpu_start = ProcessCpuSeconds();
  for (auto _ : state) {
    absl::Status s = store.bucket->Put(StrCat("put/", state.range(1), "/", i++ % 64), data);
    if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
  }
  Report(state, data.size(), ProcessCpuSeconds() - cpu_start);
}
BENCHMARK(BM_Put)
    ->ArgNames({"s3", "bytes"})
    ->ArgsProduct({{0, 1}, {64 << 10, 1 << 20, 8 << 20}})
    ->UseRealTime()
    ->MeasureProcessCPUTime();

void BM_GetRange(benchmark::State& state) {
  Store& store = StoreOf(static_cast<int>(state.range(0)));
  if (store.bucket == nullptr) return state.SkipWithError(store.error.c_str());
  const size_t range = static_cast<size_t>(state.range(1));
  const std::string key = StrCat("range/", range);
  if (absl::Status s = store.bucket->Put(key, std::string(16 << 20, 'r')); !s.ok()) {
    return state.SkipWithError(s.ToString().c_str());
  }
  uint64_t offset = 0;
  const double cpu_start = ProcessCpuSeconds();
  for (auto _ : state) {
    absl::StatusOr<std::string> got = store.bucket->GetRange(key, offset, range);
    if (!got.ok() || got->size() != range) return state.SkipWithError("short or failed read");
    offset = (offset + range) % ((16 << 20) - range);
  }
  Report(state, range, ProcessCpuSeconds() - cpu_start);
}
BENCHMARK(BM_GetRange)
    ->ArgNames({"s3", "bytes"})
    ->ArgsProduct({{0, 1}, {4 << 10, 64 << 10, 1 << 20}})
    ->UseRealTime()
    ->MeasureProcessCPUTime();

}  // namespace
}  // namespace embers::objstore

BENCHMARK_MAIN();
