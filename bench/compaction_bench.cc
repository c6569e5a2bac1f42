// The compaction kernel (block::CompactBlocks): throughput, bytes per sample after compaction,
// and peak memory for a large input.
//
// Input: level-0 segments as the segment-writer writes them (DatasetBuilder, BuildObject) from
// real Go CPU profiles of the shared test data (go_cpu_truncated_stacks, go_cpu_with_labels,
// go_cpu_span_id, split by the distributor's SplitBySeries: two sample types, pprof labels), with
// every push perturbed (a fifth of the samples dropped, the others' values multiplied by 1, 2 or
// 3) so no two profiles are alike: 3 tenants × 4 services × 25 pods, one profile per 15 s per
// pod, so a 500 ms segment of a shard holds 10 pushes of each tenant. Segments and blocks are
// held in a MemoryBucket.
//  - BM_CompactL0: one level-0 job, 20 segments (10 s of the shard) → a level-1 block per tenant;
//  - BM_CompactL0Busy: the same for a shard with 10 times the pods (100 pushes of each tenant per
//    segment: symbols weigh less per sample, so MB/s falls and samples/s rises);
//  - BM_CompactL1: one level-1 job of tenant-0, 10 level-1 blocks (10 jobs) → a level-2 block.
// Counters: MB/s of input object bytes and samples/s per CPU second (one core); bytes/sample
// of the output; gz_pprof_bytes/sample, what the same profiles take as the gzipped pprof the
// clients pushed (measured on every 16th push).
//
// Peak memory mode (not a Google Benchmark; not run in CI):
//   compaction_bench --rss-input-mb=1024 [--rss-level=1] [--rss-objects=10] [--rss-dir=DIR]
//       [--memory-limit-mb=256]
// writes about that many MB (in a child process) to a FilesystemBucket in DIR (default: a new
// directory under /tmp, removed afterwards) and compacts them as one job: at level 1 (the
// default), 10 level-1 blocks of one tenant as compaction writes them, the shape of the largest
// jobs; at level 0, 20 level-0 objects of all tenants (each many 15 s rounds of every pod, far
// larger than a 500 ms segment). 4 services × 150 pods per tenant. It prints wall and CPU time,
// MB/s, the kernel's stats and the process's peak RSS (ru_maxrss).
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

using Datasets =
    std::map<std::pair<std::string, std::string>, std::unique_ptr<block::DatasetBuilder>>;

// Whether sample `i` of a push is dropped, and by what its values are multiplied: the same for
// every series (sample type) split from the push, so CPU time stays count × period.
struct Perturbation {
  explicit Perturbation(uint64_t seed) : random(seed) {}
  // 0 (dropped: a fifth of the samples), else a factor of 1, 2 or 3.
  int64_t Next() { return random() % 5 == 0 ? 0 : 1 + static_cast<int64_t>(random() % 3); }
  std::mt19937_64 random;
};

// The pushes of the data set: a Go CPU profile of the test data per (tenant, service), split by
// series once, and perturbed per push.
class Workload {
 public:
  explicit Workload(block::DatasetOptions options = {}) : options_(options) {
    if (pprof::testing::TestdataDir().empty()) {
      error_ = "testdata not found (set EMBERS_TESTDATA)";
      return;
    }
    for (int t = 0; t < kTenants; ++t) {
      for (int v = 0; v < kServicesPerTenant; ++v) {
        const char* name = kFiles[(t + v) % std::size(kFiles)];
        absl::StatusOr<pprof::Profile> p = pprof::Decode(
            pprof::testing::ReadFile(pprof::testing::TestdataDir() + "/pyroscope/pprof/" + name));
        if (!p.ok()) {
          error_ = StrCat(name, ": ", p.status().message());
          return;
        }
        full_.push_back(*p);
        absl::StatusOr<std::vector<pprof::SeriesProfile>> split = pprof::SplitBySeries(
            std::move(*p), model::Labels({{"__name__", "process_cpu"},
                                          {"service_name", StrCat("service-", v)},
                                          {"namespace", "bench"}}));
        if (!split.ok()) {
          error_ = StrCat(name, ": ", split.status().message());
          return;
        }
        split_.push_back(std::move(*split));
      }
    }
  }
  const std::string& error() const { return error_; }

  // Appends the push of (tenant, service, pod) at `time_ms` to `segment`'s datasets; returns
  // its size as the gzipped pprof the client sent when `measure_gzip`.
  size_t Push(Datasets* segment, int tenant, int service, int pod, int64_t time_ms, uint64_t seed,
              bool measure_gzip) {
    const size_t input = static_cast<size_t>(tenant * kServicesPerTenant + service);
    const std::vector<pprof::SeriesProfile>& split = split_[input];
    const std::string service_name = StrCat("service-", service);
    const std::string pod_name = StrCat(service_name, "-", pod);
    labels_.resize(split.size());
    samples_.resize(split.size());
    span_ids_.resize(split.size());
    std::vector<block::SeriesAppend> series;
    for (size_t k = 0; k < split.size(); ++k) {
      const pprof::SeriesProfile& sp = split[k];
      pprof::Profile& samples = samples_[k];
      samples = sp.samples;
      samples.samples.clear();
      span_ids_[k].clear();
      Perturbation perturbation(seed);
      for (size_t i = 0; i < sp.samples.samples.size(); ++i) {
        const int64_t factor = perturbation.Next();
        if (factor == 0) continue;
        const pprof::Sample& sample = sp.samples.samples[i];
        for (uint32_t v = 0; v < sample.value_count; ++v) {
          samples.values[sample.value_begin + v] *= factor;
        }
        samples.samples.push_back(sample);
        if (!sp.span_ids.empty()) span_ids_[k].push_back(sp.span_ids[i]);
      }
      if (samples.samples.empty()) continue;
      labels_[k] = sp.labels.With("pod", pod_name);
      series.push_back({.series = &labels_[k],
                        .timestamp_ms = time_ms,
                        .duration_ns = 10'000'000'000,
                        .samples = &samples,
                        .span_ids = span_ids_[k]});
    }
    if (!series.empty()) {
      const std::string tenant_name = StrCat("tenant-", tenant);
      auto& builder = (*segment)[{tenant_name, service_name}];
      if (!builder) {
        builder = std::make_unique<block::DatasetBuilder>(tenant_name, service_name, options_);
      }
      builder->Append(series, *split.front().symbols);
    }
    if (!measure_gzip) return 0;
    // The pprof the client sent: the whole profile with the same samples dropped and scaled.
    pprof::Profile full = full_[input];
    std::vector<pprof::Sample> kept;
    Perturbation perturbation(seed);
    for (const pprof::Sample& sample : full.samples) {
      const int64_t factor = perturbation.Next();
      if (factor == 0) continue;
      for (uint32_t v = 0; v < sample.value_count; ++v)
        full.values[sample.value_begin + v] *= factor;
      kept.push_back(sample);
    }
    full.samples = std::move(kept);
    full.time_nanos = time_ms * 1'000'000;
    return Gzip(pprof::Encode(full)).size();
  }

 private:
  block::DatasetOptions options_;
  std::vector<pprof::Profile> full_;                      // per (tenant, service)
  std::vector<std::vector<pprof::SeriesProfile>> split_;  // per (tenant, service)
  std::string error_;
  // Per-push scratch, one per series of the push.
  std::vector<model::Labels> labels_;
  std::vector<pprof::Profile> samples_;
  std::vector<std::vector<uint64_t>> span_ids_;
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
    Datasets segment;
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
  SegmentsWritten l0_busy;                   // an L0 job of a shard with 10× the pods
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
    l0_busy = WriteSegments(workload, &bucket, 100'000, kSegmentsPerL0Job, 10 * kPodsPerService);
  }
  ~Fixture() { std::filesystem::remove_all(temp_dir); }
};

Fixture* Data(benchmark::State& state) {
  // Destroyed at exit, which removes its temp dir.
  static Fixture f;
  if (f.error.empty()) return &f;
  state.SkipWithError(f.error.c_str());
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

void CompactL0(benchmark::State& state, const SegmentsWritten& segments, Fixture& f) {
  block::CompactionStats stats;
  for (auto _ : state) {
    absl::StatusOr<block::CompactionResult> r =
        block::CompactBlocks(&f.bucket, segments.metas, Options("bench-l0", 1, f.temp_dir));
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      return;
    }
    stats = r->stats;
  }
  Report(state, segments.bytes, stats, f);
  state.counters["outputs"] = stats.output_objects;
}

void BM_CompactL0(benchmark::State& state) {
  if (Fixture* f = Data(state)) CompactL0(state, f->l0, *f);
}
BENCHMARK(BM_CompactL0)->Unit(benchmark::kMillisecond);

void BM_CompactL0Busy(benchmark::State& state) {
  if (Fixture* f = Data(state)) CompactL0(state, f->l0_busy, *f);
}
BENCHMARK(BM_CompactL0Busy)->Unit(benchmark::kMillisecond);

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

// Pods per service in the peak memory mode: ~2,000 series per tenant (pprof labels split some
// pods' profiles into several series).
constexpr int kPeakPods = 150;

// One object of the peak memory mode: `windows` rounds of 15 s of every pod (of every tenant at
// level 0, of tenant-0 at level 1).
uint64_t WriteObject(Workload& workload, objstore::Bucket* bucket, uint32_t level, int index,
                     int windows) {
  Datasets datasets;
  const int tenants = level == 0 ? kTenants : 1;
  const int64_t start = static_cast<int64_t>(kT0) + int64_t{index} * windows * kProfileIntervalMs;
  for (int w = 0; w < windows; ++w) {
    for (int t = 0; t < tenants; ++t) {
      for (int v = 0; v < kServicesPerTenant; ++v) {
        for (int pod = 0; pod < kPeakPods; ++pod) {
          const int64_t time = start + w * kProfileIntervalMs + pod * 97 % kProfileIntervalMs;
          workload.Push(&datasets, t, v, pod, time,
                        static_cast<uint64_t>(time) * 131 + static_cast<uint64_t>(t * 7 + v),
                        false);
        }
      }
    }
  }
  std::vector<block::EncodedDataset> encoded;
  for (auto& [_, builder] : datasets) encoded.push_back(builder->Finish());
  datasets.clear();
  block::BuiltObject object = block::BuildObject(
      {.id = DeterministicUlid(static_cast<uint64_t>(start), level, index).ToString(),
       .shard = 1,
       .compaction_level = level,
       .tenant = level == 0 ? "" : "tenant-0",
       .created_by = "bench"},
      std::move(encoded));
  if (!bucket->Put(block::ObjectKey(object.meta), object.bytes).ok()) std::abort();
  return object.meta.size();
}

// Writes about `input_mb` MB in `objects` objects of `level` to the bucket in `bucket_dir`.
int WriteInput(uint64_t input_mb, uint32_t level, int objects, const std::string& bucket_dir) {
  // Level-1 blocks as compaction writes them.
  Workload workload(level == 0
                        ? block::DatasetOptions{}
                        : block::DatasetOptions{.zstd_level = 3, .max_chunk_samples = 256 * 1024});
  if (!workload.error().empty()) {
    std::fprintf(stderr, "%s\n", workload.error().c_str());
    return 2;
  }
  absl::StatusOr<std::unique_ptr<objstore::FilesystemBucket>> bucket =
      objstore::FilesystemBucket::Open(bucket_dir);
  if (!bucket.ok()) return 3;
  const double want = static_cast<double>(input_mb) * 1e6 / objects;
  // Denser objects compress better: the first object's size corrects the probe's estimate.
  objstore::MemoryBucket probe;
  double per_window = static_cast<double>(WriteObject(workload, &probe, level, 0, 2)) / 2;
  uint64_t total = 0;
  for (int i = 0; i < objects; ++i) {
    const int windows = std::max(1, static_cast<int>(want / per_window));
    const uint64_t bytes = WriteObject(workload, bucket->get(), level, i, windows);
    if (i == 0) per_window = static_cast<double>(bytes) / windows;
    total += bytes;
    std::fprintf(stderr, "object %d: %d windows of 15 s, %.1f MB\n", i, windows,
                 static_cast<double>(bytes) / 1e6);
  }
  std::fprintf(stderr, "wrote %.1f MB\n", static_cast<double>(total) / 1e6);
  return 0;
}

int RunPeakMemory(uint64_t input_mb, uint32_t level, int objects, std::string dir,
                  size_t memory_limit_mb) {
  const bool own_dir = dir.empty();
  if (own_dir) {
    dir = (std::filesystem::temp_directory_path() / StrCat("embers-compaction-rss-", ::getpid()))
              .string();
  }
  const std::string bucket_dir = dir + "/bucket";
  // The input is written by a child process, so the memory that takes is not in this process's
  // peak.
  const pid_t child = fork();
  if (child == 0) _exit(WriteInput(input_mb, level, objects, bucket_dir));
  int status = 0;
  waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "writing the input failed\n");
    return 1;
  }
  absl::StatusOr<std::unique_ptr<objstore::FilesystemBucket>> bucket =
      objstore::FilesystemBucket::Open(bucket_dir);
  if (!bucket.ok()) return 1;
  // The sources' metadata, as the metastore would hand it over: read from the footers.
  std::vector<metastore::v1::BlockMeta> sources;
  uint64_t input_bytes = 0;
  absl::Status listed =
      (*bucket)->List(level == 0 ? "segments/" : "blocks/", [&](std::string_view key) {
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
  block::CompactionOptions options = Options("rss", level + 1, dir + "/tmp");
  options.memory_limit_bytes = memory_limit_mb << 20;
  struct rusage before;
  getrusage(RUSAGE_SELF, &before);
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
      "input: %zu level-%u objects, %.1f MB (%.2f bytes/sample), %lu rows, %lu samples\n"
      "output: %u blocks, %.1f MB (%.2f bytes/sample), %lu series, %lu rows\n"
      "time: %.1f s wall, %.1f s CPU: %.1f MB/s and %.2f M samples/s per CPU second\n"
      "memory limit %zu MiB: peak RSS %.1f MiB (%.1f MiB before compacting); decoded symbols and "
      "series peak %.1f MiB; read buffers peak %.1f MiB; spilled %.1f MB; read %.1f MB\n",
      sources.size(), level, static_cast<double>(input_bytes) / 1e6,
      static_cast<double>(input_bytes) / static_cast<double>(s.samples_in), s.rows_in, s.samples_in,
      s.output_objects, static_cast<double>(s.output_bytes) / 1e6,
      static_cast<double>(s.output_bytes) / static_cast<double>(s.samples_out), s.series_out,
      s.rows_out, wall, cpu, static_cast<double>(input_bytes) / 1e6 / cpu,
      static_cast<double>(s.samples_in) / 1e6 / cpu, memory_limit_mb,
      static_cast<double>(u.ru_maxrss) / 1024, static_cast<double>(before.ru_maxrss) / 1024,
      static_cast<double>(s.peak_symbols_bytes) / 1048576,
      static_cast<double>(s.peak_read_bytes) / 1048576, static_cast<double>(s.spilled_bytes) / 1e6,
      static_cast<double>(s.bytes_read) / 1e6);
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
    const std::string level = embers::TakeFlag(&argc, argv, "rss-level");
    const std::string objects = embers::TakeFlag(&argc, argv, "rss-objects");
    const std::string limit = embers::TakeFlag(&argc, argv, "memory-limit-mb");
    const uint32_t l = level.empty() ? 1 : static_cast<uint32_t>(std::stoul(level));
    return embers::RunPeakMemory(
        std::stoull(rss_mb), l, objects.empty() ? (l == 0 ? 20 : 10) : std::stoi(objects),
        embers::TakeFlag(&argc, argv, "rss-dir"), limit.empty() ? 256 : std::stoull(limit));
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
