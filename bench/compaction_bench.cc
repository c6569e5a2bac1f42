// The compaction kernel (block::CompactBlocks): throughput, bytes per sample after compaction,
// and peak memory for a large input.
//
// Input: level-0 segments as the segment-writer writes them (DatasetBuilder, BuildObject) from
// real Go CPU profiles of the shared test data (go_cpu_truncated_stacks, go_cpu_with_labels,
// go_cpu_span_id, split by the distributor's SplitBySeries: two sample types, pprof labels), with
// every push perturbed (a fifth of the samples dropped, sample counts within ±50%) so no two
// profiles are alike: 3 tenants × 4 services × 25 pods, one profile per 15 s per pod, so a 500 ms
// segment of a shard holds 10 pushes of each tenant. Segments and blocks are held in a
// MemoryBucket.
//  - BM_CompactL0: one level-0 job, 20 segments (10 s of the shard) → a level-1 block per tenant;
//  - BM_CompactL1: one level-1 job of tenant-0, 10 level-1 blocks (10 jobs) → a level-2 block.
// Counters: MB/s of input object bytes and samples/s per CPU second (one core); bytes/sample
// of the output; gz_pprof_bytes/sample, what the same profiles take as the gzipped pprof the
// clients pushed (measured on every 16th push).
//
// Peak memory mode (not a Google Benchmark; not run in CI):
//   compaction_bench --rss-input-mb=1024 [--rss-segments=20] [--rss-dir=DIR]
//       [--memory-limit-mb=256]
// writes about that many MB of level-0 segments (in a child process) to a FilesystemBucket in
// DIR (default: a new directory under /tmp, removed afterwards), compacts them as one job, and
// prints wall and CPU time, MB/s, the kernel's stats and the process's peak RSS (ru_maxrss).
// Run from the project root (or set EMBERS_TESTDATA).
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/compression.h"
#include "base/malloc_tuning.h"
#include "base/strings.h"
#include "base/ulid.h"
#include "block/compaction.h"
#include "block/dataset_builder.h"
#include "block/object_reader.h"
#include "block/object_writer.h"
#include "objstore/filesystem_bucket.h"
#include "objstore/memory_bucket.h"
#include "pprof/decoder.h"
#include "pprof/encoder.h"
#include "pprof/normalize.h"
#include "pprof/split.h"
#include "pprof/testdata.h"

namespace embers {
namespace {

constexpr int kTenants = 3;
constexpr int kServicesPerTenant = 4;
constexpr int kPodsPerService = 25;
constexpr int64_t kProfileIntervalMs = 15'000;
constexpr int64_t kSegmentMs = 500;
constexpr int kSegmentsPerL0Job = 20;
constexpr int kBlocksPerL1Job = 10;
constexpr uint64_t kT0 = 1'700'000'000'000;

const char* const kFiles[] = {"go_cpu_truncated_stacks.pb.gz", "go_cpu_with_labels.pb.gz",
                              "go_cpu_span_id.pb.gz"};

// The pushes of the data set: a decoded Go CPU profile per file, perturbed per push.
class Workload {
 public:
  Workload() {
    if (pprof::testing::TestdataDir().empty()) {
      error_ = "testdata not found (set EMBERS_TESTDATA)";
      return;
    }
    for (const char* name : kFiles) {
      absl::StatusOr<pprof::Profile> p = pprof::Decode(
          pprof::testing::ReadFile(pprof::testing::TestdataDir() + "/pyroscope/pprof/" + name));
      if (!p.ok()) {
        error_ = StrCat(name, ": ", p.status().message());
        return;
      }
      profiles_.push_back(std::move(*p));
    }
  }
  const std::string& error() const { return error_; }

  // Appends the push of (tenant, service, pod) at `time_ms` to `segment`'s datasets; returns
  // its gzipped pprof size when `measure_gzip`.
  size_t Push(std::map<std::pair<std::string, std::string>, std::unique_ptr<block::DatasetBuilder>>*
                  segment,
              int tenant, int service, int pod, int64_t time_ms, uint64_t seed, bool measure_gzip) {
    std::mt19937_64 random(seed);
    pprof::Profile p = profiles_[(tenant + service) % profiles_.size()];
    // A fifth of the samples dropped, the others' counts within ±50% (CPU time stays count ×
    // period): each push differs as real ones do.
    std::vector<pprof::Sample> kept;
    for (const pprof::Sample& s : p.samples) {
      if (random() % 5 == 0 || s.value_count == 0) continue;
      int64_t* values = p.values.data() + s.value_begin;
      const int64_t count = std::max<int64_t>(values[0], 1);
      const int64_t scaled = std::max<int64_t>(1, count * (50 + random() % 101) / 100);
      for (uint32_t v = 1; v < s.value_count; ++v) values[v] = values[v] / count * scaled;
      values[0] = scaled;
      kept.push_back(s);
    }
    p.samples = std::move(kept);
    p.time_nanos = time_ms * 1'000'000;
    p.duration_nanos = 10'000'000'000;
    size_t gzipped = measure_gzip ? Gzip(pprof::Encode(p)).size() : 0;
    const std::string service_name = StrCat("service-", service);
    absl::StatusOr<std::vector<pprof::SeriesProfile>> split =
        pprof::SplitBySeries(std::move(p), model::Labels({{"__name__", "process_cpu"},
                                                          {"service_name", service_name},
                                                          {"pod", StrCat(service_name, "-", pod)},
                                                          {"namespace", "bench"}}));
    if (!split.ok()) return gzipped;

    std::vector<block::SeriesAppend> series;
    for (const pprof::SeriesProfile& sp : *split) {
      if (sp.samples.samples.empty()) continue;
      series.push_back({.series = &sp.labels,
                        .timestamp_ms = time_ms,
                        .duration_ns = sp.samples.duration_nanos,
                        .samples = &sp.samples,
                        .span_ids = sp.span_ids});
    }
    if (series.empty()) return gzipped;
    const std::string tenant_name = StrCat("tenant-", tenant);
    auto& builder = (*segment)[{tenant_name, service_name}];
    if (!builder) builder = std::make_unique<block::DatasetBuilder>(tenant_name, service_name);
    builder->Append(series, *split->front().symbols);
    return gzipped;
  }

 private:
  std::vector<pprof::Profile> profiles_;
  std::string error_;
};

struct SegmentsWritten {
  std::vector<metastore::v1::BlockMeta> metas;
  uint64_t bytes = 0;
  uint64_t pushes = 0;
  uint64_t gz_pushes = 0;
  uint64_t gz_bytes = 0;  // gzipped pprof bytes of gz_pushes pushes
};

// Writes `count` level-0 segments of shard 1 starting at segment number `first` (each 500 ms of
// data) to `bucket`. `pods` scales the number of series (and so the segment size).
SegmentsWritten WriteSegments(Workload& workload, objstore::Bucket* bucket, int first, int count,
                              int pods = kPodsPerService) {
  SegmentsWritten out;
  // Each series pushes once per 15 s; its phase spreads the pushes over the segments.
  const int64_t segments_per_interval = kProfileIntervalMs / kSegmentMs;
  for (int s = first; s < first + count; ++s) {
    std::map<std::pair<std::string, std::string>, std::unique_ptr<block::DatasetBuilder>> segment;
    const int64_t segment_start = static_cast<int64_t>(kT0) + s * kSegmentMs;
    for (int t = 0; t < kTenants; ++t) {
      for (int v = 0; v < kServicesPerTenant; ++v) {
        for (int pod = 0; pod < pods; ++pod) {
          const int series = (t * kServicesPerTenant + v) * pods + pod;
          if (series % segments_per_interval != s % segments_per_interval) continue;
          const bool measure = out.pushes % 16 == 0;
          const size_t gz = workload.Push(&segment, t, v, pod, segment_start + series % kSegmentMs,
                                          static_cast<uint64_t>(s) * 1'000'003 + series, measure);
          ++out.pushes;
          if (measure) {
            ++out.gz_pushes;
            out.gz_bytes += gz;
          }
        }
      }
    }
    std::vector<block::EncodedDataset> datasets;
    for (auto& [_, builder] : segment) datasets.push_back(builder->Finish());
    block::BuiltObject object = block::BuildObject(
        {.id = DeterministicUlid(static_cast<uint64_t>(segment_start), 1, s).ToString(),
         .shard = 1,
         .created_by = "bench"},
        std::move(datasets));
    if (!bucket->Put(block::ObjectKey(object.meta), object.bytes).ok()) std::abort();
    out.bytes += object.meta.size();
    out.metas.push_back(std::move(object.meta));
  }
  return out;
}

block::CompactionOptions Options(const std::string& job, uint32_t level,
                                 const std::string& temp_dir) {
  return {.job_name = job,
          .output_level = level,
          .created_by = "bench",
          .temp_dir = temp_dir,
          .memory_limit_bytes = 256 << 20,
          .zstd_level = 3};
}

struct Fixture {
  Workload workload;
  objstore::MemoryBucket bucket;
  std::string temp_dir;
  SegmentsWritten l0;                        // the segments of the first L0 job
  std::vector<metastore::v1::BlockMeta> l1;  // tenant-0's L1 blocks of 10 L0 jobs
  uint64_t l1_bytes = 0;
  uint64_t l1_samples = 0;
  uint64_t gz_pushes = 0, gz_bytes = 0, pushes = 0, samples_in = 0;
  std::string error;

  Fixture() {
    if (!workload.error().empty()) {
      error = workload.error();
      return;
    }
    temp_dir =
        (std::filesystem::temp_directory_path() / StrCat("embers-compaction-bench-", ::getpid()))
            .string();
    for (int job = 0; job < kBlocksPerL1Job; ++job) {
      SegmentsWritten segments =
          WriteSegments(workload, &bucket, job * kSegmentsPerL0Job, kSegmentsPerL0Job);
      absl::StatusOr<block::CompactionResult> r =
          block::CompactBlocks(&bucket, segments.metas, Options(StrCat("l0-", job), 1, temp_dir));
      if (!r.ok()) {
        error = std::string(r.status().message());
        return;
      }
      l1.push_back(r->outputs[0]);  // tenant-0
      l1_bytes += r->outputs[0].size();
      pushes += segments.pushes;
      gz_pushes += segments.gz_pushes;
      gz_bytes += segments.gz_bytes;
      samples_in += r->stats.samples_in;
      if (job == 0) l0 = std::move(segments);
    }
  }
  ~Fixture() { std::filesystem::remove_all(temp_dir); }
};

Fixture* Data(benchmark::State& state) {
  static Fixture* f = new Fixture();
  if (f->error.empty()) return f;
  state.SkipWithError(f->error.c_str());
  return nullptr;
}

void Report(benchmark::State& state, uint64_t input_bytes, const block::CompactionStats& stats,
            const Fixture& f) {
  const double iterations = static_cast<double>(state.iterations());
  state.counters["MB/s"] = benchmark::Counter(static_cast<double>(input_bytes) * iterations / 1e6,
                                              benchmark::Counter::kIsRate);
  state.counters["samples/s"] = benchmark::Counter(
      static_cast<double>(stats.samples_in) * iterations, benchmark::Counter::kIsRate);
  state.counters["input_MB"] = static_cast<double>(input_bytes) / 1e6;
  state.counters["rows"] = static_cast<double>(stats.rows_in);
  state.counters["bytes/sample"] =
      static_cast<double>(stats.output_bytes) / static_cast<double>(stats.samples_out);
  state.counters["input_bytes/sample"] =
      static_cast<double>(input_bytes) / static_cast<double>(stats.samples_in);
  // The pushes carry all samples of a profile (both sample types) in one gzipped pprof.
  state.counters["gz_pprof_bytes/sample"] =
      static_cast<double>(f.gz_bytes) * static_cast<double>(f.pushes) /
      static_cast<double>(f.gz_pushes) / static_cast<double>(f.samples_in);
}

void BM_CompactL0(benchmark::State& state) {
  Fixture* f = Data(state);
  if (f == nullptr) return;
  block::CompactionStats stats;
  for (auto _ : state) {
    absl::StatusOr<block::CompactionResult> r =
        block::CompactBlocks(&f->bucket, f->l0.metas, Options("bench-l0", 1, f->temp_dir));
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      return;
    }
    stats = r->stats;
  }
  Report(state, f->l0.bytes, stats, *f);
  state.counters["outputs"] = stats.output_objects;
}
BENCHMARK(BM_CompactL0)->Unit(benchmark::kMillisecond);

void BM_CompactL1(benchmark::State& state) {
  Fixture* f = Data(state);
  if (f == nullptr) return;
  block::CompactionStats stats;
  for (auto _ : state) {
    absl::StatusOr<block::CompactionResult> r =
        block::CompactBlocks(&f->bucket, f->l1, Options("bench-l1", 2, f->temp_dir));
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      return;
    }
    stats = r->stats;
  }
  Report(state, f->l1_bytes, stats, *f);
}
BENCHMARK(BM_CompactL1)->Unit(benchmark::kMillisecond);

// --- peak memory mode ------------------------------------------------------------------------

double CpuSeconds() {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int RunPeakMemory(uint64_t input_mb, int segments, std::string dir, size_t memory_limit_mb) {
  const bool own_dir = dir.empty();
  if (own_dir) {
    dir = (std::filesystem::temp_directory_path() / StrCat("embers-compaction-rss-", ::getpid()))
              .string();
  }
  const std::string bucket_dir = dir + "/bucket";
  // Scale the number of pods so that `segments` segments hold about `input_mb` MB; probe the size
  // of one segment first. The data is written by a child process, so that the memory it takes
  // does not count in this process's peak.
  const pid_t child = fork();
  if (child == 0) {
    Workload workload;
    if (!workload.error().empty()) {
      std::fprintf(stderr, "%s\n", workload.error().c_str());
      _exit(2);
    }
    absl::StatusOr<std::unique_ptr<objstore::FilesystemBucket>> bucket =
        objstore::FilesystemBucket::Open(bucket_dir);
    if (!bucket.ok()) _exit(3);
    // A segment holds the pushes of one in 30 pods (each pushes every 15 s): as many pods as
    // make segments of input_mb / segments MB.
    objstore::MemoryBucket probe;
    const SegmentsWritten one = WriteSegments(workload, &probe, 0, 1, 300);
    const double bytes_per_push =
        static_cast<double>(one.bytes) / static_cast<double>(std::max<uint64_t>(one.pushes, 1));
    const double pushes = static_cast<double>(input_mb) * 1e6 / segments / bytes_per_push;
    const int pods = std::max(1, static_cast<int>(pushes / (kTenants * kServicesPerTenant) * 30));
    std::fprintf(stderr, "writing %d segments, %d pods per service (%.0f bytes per push)\n",
                 segments, pods, bytes_per_push);
    uint64_t bytes = 0;
    for (int s = 0; s < segments; ++s)
      bytes += WriteSegments(workload, bucket->get(), s, 1, pods).bytes;
    std::fprintf(stderr, "wrote %.1f MB\n", static_cast<double>(bytes) / 1e6);
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "writing the segments failed\n");
    return 1;
  }
  absl::StatusOr<std::unique_ptr<objstore::FilesystemBucket>> bucket =
      objstore::FilesystemBucket::Open(bucket_dir);
  if (!bucket.ok()) return 1;
  // The sources' metadata, as the metastore would hand it over: read from the footers.
  std::vector<metastore::v1::BlockMeta> sources;
  uint64_t input_bytes = 0;
  absl::Status listed = (*bucket)->List("segments/", [&](std::string_view key) {
    absl::StatusOr<block::ObjectReader> reader =
        block::ObjectReader::Open(bucket->get(), std::string(key));
    if (!reader.ok()) return reader.status();
    sources.push_back(reader->meta());
    input_bytes += reader->meta().size();
    return absl::OkStatus();
  });
  if (!listed.ok()) {
    std::fprintf(stderr, "%s\n", std::string(listed.message()).c_str());
    return 1;
  }
  block::CompactionOptions options = Options("rss", 1, dir + "/tmp");
  options.memory_limit_bytes = memory_limit_mb << 20;
  const double cpu0 = CpuSeconds();
  const auto wall0 = std::chrono::steady_clock::now();
  absl::StatusOr<block::CompactionResult> r = block::CompactBlocks(bucket->get(), sources, options);
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  const double cpu = CpuSeconds() - cpu0;
  if (!r.ok()) {
    std::fprintf(stderr, "compaction failed: %s\n", std::string(r.status().message()).c_str());
    return 1;
  }
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  const block::CompactionStats& s = r->stats;
  std::printf(
      "input: %zu segments, %.1f MB (%.2f bytes/sample)\n"
      "output: %u blocks, %.1f MB (%.2f bytes/sample), %lu series, %lu rows, %lu samples\n"
      "time: %.1f s wall, %.1f s CPU: %.1f MB/s and %.2f M samples/s per CPU second\n"
      "memory limit %zu MiB: peak RSS %.1f MiB; decoded symbols peak %.1f MiB; spilled %.1f MB; "
      "read %.1f MB\n",
      sources.size(), static_cast<double>(input_bytes) / 1e6,
      static_cast<double>(input_bytes) / static_cast<double>(s.samples_in), s.output_objects,
      static_cast<double>(s.output_bytes) / 1e6,
      static_cast<double>(s.output_bytes) / static_cast<double>(s.samples_out), s.series_out,
      s.rows_out, s.samples_out, wall, cpu, static_cast<double>(input_bytes) / 1e6 / cpu,
      static_cast<double>(s.samples_in) / 1e6 / cpu, memory_limit_mb,
      static_cast<double>(u.ru_maxrss) / 1024, static_cast<double>(s.peak_symbols_bytes) / 1048576,
      static_cast<double>(s.spilled_bytes) / 1e6, static_cast<double>(s.bytes_read) / 1e6);
  if (own_dir) std::filesystem::remove_all(dir);
  return 0;
}

// The value of `--name=value` in argv, removed from it; "" when absent.
std::string TakeFlag(int* argc, char** argv, std::string_view name) {
  const std::string prefix = StrCat("--", name, "=");
  for (int i = 1; i < *argc; ++i) {
    if (std::string_view(argv[i]).substr(0, prefix.size()) != prefix) continue;
    std::string value(argv[i] + prefix.size());
    for (int j = i; j + 1 < *argc; ++j) argv[j] = argv[j + 1];
    --*argc;
    return value;
  }
  return "";
}

}  // namespace
}  // namespace embers

int main(int argc, char** argv) {
  embers::TuneMallocForLargeBuffers();
  const std::string rss_mb = embers::TakeFlag(&argc, argv, "rss-input-mb");
  if (!rss_mb.empty()) {
    const std::string segments = embers::TakeFlag(&argc, argv, "rss-segments");
    const std::string limit = embers::TakeFlag(&argc, argv, "memory-limit-mb");
    return embers::RunPeakMemory(std::stoull(rss_mb), segments.empty() ? 20 : std::stoi(segments),
                                 embers::TakeFlag(&argc, argv, "rss-dir"),
                                 limit.empty() ? 256 : std::stoull(limit));
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
