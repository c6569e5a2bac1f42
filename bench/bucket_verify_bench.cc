// `embers-cli bucket verify` throughput (issue 17: at least 200 MB/s of objects on the
// filesystem backend, 2 cores): VerifyBucket over a FilesystemBucket holding about
// EMBERS_VERIFY_BENCH_MB (default 500) MB of objects, compared with an index listing of them.
//
// The objects are written by the project's writer (DatasetBuilder, BuildObject) from synthetic
// CPU profiles: per dataset a pool of 8,000 functions with Go-like names and 3,000 random stacks
// 8 to 32 frames deep, pushed 8 times for each of 4 pods with random values. 24 such datasets
// are encoded and placed in every object in turn (the bytes repeat across objects; nothing the
// check does depends on that). Nine objects in ten are level-0 segments of 8 datasets, the others
// level-1 blocks of 48 datasets. They are built once per process in a new directory under /tmp,
// removed at exit (or in EMBERS_VERIFY_BENCH_DIR, kept: a bucket to try `embers-cli bucket` on).
//  - BM_Verify/threads:N: checksums only (the default of the command), N objects at once, the
//    objects in the page cache (as right after they were written);
//  - BM_VerifyCold/threads:N: the same with the objects' pages dropped from the cache before
//    each check (posix_fadvise DONTNEED), so they are read from the disk;
//  - BM_VerifyDeep/threads:N: --deep, every section decoded as well.
// bytes_per_second is object bytes checked per wall second.
//   EMBERS_VERIFY_BENCH_MB=500 <build>/bench/bucket_verify_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "base/strings.h"
#include "base/ulid.h"
#include "block/block_testing.h"
#include "block/dataset_builder.h"
#include "block/object_writer.h"
#include "cmd/cli/bucket/bucket_verifier.h"
#include "objstore/filesystem_bucket.h"

namespace embers::cli {
namespace {

constexpr int kFunctions = 8000;
constexpr int kStacks = 3000;
constexpr int kPods = 4;
constexpr int kPushes = 8;
constexpr int kTemplates = 24;

// What DatasetBuilder encoded for one dataset, kept to be placed in many objects: generating
// profiles costs far more than verifying them, and the check does not care that bytes repeat.
struct DatasetTemplate {
  std::string series_section;
  std::string profiles_head;
  std::string profiles_area;
  std::string symbols_section;
  int64_t min_time_ms = 0;
  int64_t max_time_ms = 0;
  std::vector<model::Labels> index_label_sets;
};

DatasetTemplate MakeTemplate(std::mt19937_64& random, const std::string& service, int64_t t0) {
  std::vector<std::string> functions;
  for (int f = 0; f < kFunctions; ++f) {
    functions.push_back(absl::StrFormat("github.com/acme/%s/internal/pkg%d.(*T%x).Method%d",
                                        service, f % 97, random() & 0xffffff, f));
  }
  std::vector<block::testing::StackSample> stacks(kStacks);
  for (auto& s : stacks) {
    const int depth = 8 + static_cast<int>(random() % 25);
    // Stacks share their roots as real ones do: the first frames come from a few functions.
    for (int d = 0; d < depth; ++d) {
      const uint64_t pool = d < 4 ? 16 : kFunctions;
      s.frames.push_back(functions[random() % pool]);
    }
    s.value = 1;
  }
  pprof::Profile profile = block::testing::ProfileOf(stacks);
  block::DatasetBuilder builder("tenant", service, {.zstd_level = 1});
  std::vector<model::Labels> labels;
  for (int p = 0; p < kPods; ++p) {
    labels.push_back(
        model::Labels({{"__profile_type__", "process_cpu:cpu:nanoseconds:cpu:nanoseconds"},
                       {"service_name", service},
                       {"pod", StrCat(service, "-", p)}}));
  }
  for (int push = 0; push < kPushes; ++push) {
    for (int64_t& v : profile.values) v = 10'000'000 * static_cast<int64_t>(1 + random() % 20);
    std::vector<block::SeriesAppend> series;
    for (int p = 0; p < kPods; ++p) {
      series.push_back({.series = &labels[p],
                        .timestamp_ms = t0 + push * 15'000 + p,
                        .duration_ns = 15'000'000'000,
                        .samples = &profile});
    }
    builder.Append(series, profile);
  }
  block::EncodedDataset d = builder.Finish();
  return {.series_section = std::move(d.series_section),
          .profiles_head = std::move(d.profiles_head),
          .profiles_area = d.profiles_area.TakeMemory(),
          .symbols_section = std::move(d.symbols_section),
          .min_time_ms = d.min_time_ms,
          .max_time_ms = d.max_time_ms,
          .index_label_sets = std::move(d.index_label_sets)};
}

block::EncodedDataset FromTemplate(const DatasetTemplate& t, std::string tenant,
                                   std::string service) {
  block::EncodedDataset d;
  d.tenant = std::move(tenant);
  d.service = std::move(service);
  d.series_section = t.series_section;
  d.profiles_head = t.profiles_head;
  d.profiles_area.Append(t.profiles_area);
  d.symbols_section = t.symbols_section;
  d.min_time_ms = t.min_time_ms;
  d.max_time_ms = t.max_time_ms;
  d.index_label_sets = t.index_label_sets;
  return d;
}

struct Data {
  std::string dir;
  std::unique_ptr<objstore::FilesystemBucket> bucket;
  IndexListing index;
  uint64_t bytes = 0;
  std::string error;
  bool keep = false;  // EMBERS_VERIFY_BENCH_DIR: the caller's directory, left in place

  ~Data() {
    std::error_code ec;
    if (!dir.empty() && !keep) std::filesystem::remove_all(dir, ec);
  }
};

Data* g_data = nullptr;  // built on first use, removed by main()

Data& TheData() {
  if (g_data == nullptr)
    g_data = [] {
      auto* d = new Data;
      const char* mb = std::getenv("EMBERS_VERIFY_BENCH_MB");
      const uint64_t target = (mb != nullptr ? std::strtoull(mb, nullptr, 10) : 500) << 20;
      if (const char* dir = std::getenv("EMBERS_VERIFY_BENCH_DIR"); dir != nullptr) {
        d->dir = dir;
        d->keep = true;
      } else {
        std::string tmpl = std::filesystem::temp_directory_path() / "embers-verify-bench-XXXXXX";
        if (mkdtemp(tmpl.data()) == nullptr) {
          d->error = "mkdtemp failed";
          return d;
        }
        d->dir = tmpl;
      }
      auto bucket = objstore::FilesystemBucket::Open(d->dir);
      if (!bucket.ok()) {
        d->error = std::string(bucket.status().message());
        return d;
      }
      d->bucket = std::move(*bucket);
      std::mt19937_64 random(42);
      const int64_t t0 = absl::ToUnixMillis(absl::Now()) - 3'600'000;
      std::vector<DatasetTemplate> templates;
      for (int i = 0; i < kTemplates; ++i) {
        templates.push_back(MakeTemplate(random, absl::StrFormat("service-%02d", i), t0));
      }
      size_t next_template = 0;
      for (int n = 0; d->bytes < target; ++n) {
        // Every tenth object a level-1 block of one tenant, the others segments.
        const bool block = n % 10 == 9;
        std::vector<block::EncodedDataset> datasets;
        const int count = block ? 48 : 8;
        for (int i = 0; i < count; ++i) {
          const std::string tenant = block ? "tenant-0" : StrCat("tenant-", i / 4);
          datasets.push_back(FromTemplate(templates[next_template++ % templates.size()], tenant,
                                          absl::StrFormat("service-%02d", block ? i : i % 4)));
        }
        block::BuiltObject object =
            block::BuildObject({.id = NewUlid(static_cast<uint64_t>(t0 + n)).ToString(),
                                .shard = static_cast<uint32_t>(n % 4),
                                .compaction_level = block ? 1u : 0u,
                                .tenant = block ? "tenant-0" : "",
                                .created_by = "bench"},
                               std::move(datasets));
        const std::string key = block::ObjectKey(object.meta);
        if (absl::Status s = d->bucket->Put(key, object.bytes); !s.ok()) {
          d->error = std::string(s.message());
          return d;
        }
        IndexedBlock entry;
        entry.id = object.meta.id();
        entry.key = key;
        entry.size = object.bytes.size();
        entry.level = object.meta.compaction_level();
        entry.shard = object.meta.shard();
        d->index.blocks.push_back(entry);
        d->bytes += object.bytes.size();
      }
      std::fprintf(stderr, "bucket_verify_bench: %zu objects, %.1f MB in %s\n",
                   d->index.blocks.size(), static_cast<double>(d->bytes) / 1e6, d->dir.c_str());
      return d;
    }();
  return *g_data;
}

// Drops the objects' pages from the page cache (they are clean: FilesystemBucket fsyncs every
// Put), so the next check reads them from the disk. Only these files: the machine's other users
// keep their cache.
void EvictObjects(const std::string& dir) {
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const int fd = open(entry.path().c_str(), O_RDONLY);
    if (fd < 0) continue;
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
  }
}

void Run(benchmark::State& state, bool deep, bool cold = false) {
  Data& data = TheData();
  if (!data.error.empty()) {
    state.SkipWithError(data.error.c_str());
    return;
  }
  VerifyOptions options;
  options.concurrency = static_cast<int>(state.range(0));
  options.check.deep = deep;
  const IndexListing listing = data.index;
  IndexSource index = [&listing] { return absl::StatusOr<IndexListing>(listing); };
  for (auto _ : state) {
    if (cold) {
      state.PauseTiming();
      EvictObjects(data.dir);
      state.ResumeTiming();
    }
    absl::StatusOr<VerifyReport> report = VerifyBucket(*data.bucket, index, options);
    if (!report.ok() || !report->findings.empty()) {
      state.SkipWithError(report.ok() ? report->findings.front().detail.c_str()
                                      : std::string(report.status().message()).c_str());
      return;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.bytes));
  state.counters["objects"] = static_cast<double>(data.index.blocks.size());
}

void BM_Verify(benchmark::State& state) { Run(state, false); }
void BM_VerifyDeep(benchmark::State& state) { Run(state, true); }
void BM_VerifyCold(benchmark::State& state) { Run(state, false, true); }

BENCHMARK(BM_Verify)->ArgName("threads")->Arg(1)->Arg(2)->Arg(4)->UseRealTime()->Unit(
    benchmark::kMillisecond);
BENCHMARK(BM_VerifyCold)
    ->ArgName("threads")
    ->Arg(2)
    ->Arg(4)
    ->Arg(8)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_VerifyDeep)
    ->ArgName("threads")
    ->Arg(2)
    ->Arg(4)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace embers::cli

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  delete embers::cli::g_data;  // removes the objects
  return 0;
}
