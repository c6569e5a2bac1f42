// Write-path CPU per pushed profile (issue 4: ack p50 <= 300 ms at 3,000 profiles/s on 2 cores).
//
// The mix is what scripts/loadgen.sh sends with -max-profile-bytes=32768: every pprof of the
// shared test data whose uncompressed size is at most 32 KiB and that the server accepts (Go CPU
// and heap, Node.js, Python, Rust and native profiles; 1.7 series per profile), 50 services each
// running one language's files, 4 pods per service.
// Profiles go into one segment's datasets (one DatasetBuilder per service, as SegmentWriter::Push
// keeps them); an iteration is one segment of 1,500 profiles (500 ms at 3,000 profiles/s) into
// new builders, so symbol interning sees the same mix of first-seen and repeated symbols as the
// server. Freeing the segment's builders is counted too.
//  - BM_PushPath:      gzipped pprof -> Decode -> Normalize -> SplitBySeries -> DatasetBuilder
//                      appends, i.e. the distributor and the segment-writer head for one push;
//  - BM_AppendOnly:    the appends alone, from profiles decoded and split up front;
//  - BM_FinishSegment: DatasetBuilder::Finish of every dataset of one 1,500-profile segment (the
//                      flush worker's encoding, before BuildObject); its `crc` counter is a
//                      checksum of the encoded output, which head optimisations must not change.
// cpu/profile is CPU time per pushed (source) profile, not per series.
// Run from the project root (or set EMBERS_TESTDATA): build/bench/segment_head_bench
#include <benchmark/benchmark.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/compression.h"
#include "base/crc32c.h"
#include "base/strings.h"
#include "block/dataset_builder.h"
#include "model/labels.h"
#include "pprof/decoder.h"
#include "pprof/normalize.h"
#include "pprof/split.h"
#include "pprof/testdata.h"

namespace embers {
namespace {

constexpr size_t kMaxProfileBytes = 32 * 1024;
constexpr int kServices = 50;
constexpr int kPodsPerService = 4;
constexpr int kSegmentProfiles = 1500;
constexpr int64_t kNowNanos = 1'700'000'000'000'000'000;

// What the loadgen sends as __name__ for a file (workload.cc TypeNameOf).
std::string TypeNameOf(const std::string& file) {
  if (file.find("heap") != std::string::npos || file.find("alloc") != std::string::npos) {
    return "memory";
  }
  if (file.find("wall") != std::string::npos) return "wall";
  return "process_cpu";
}

struct InputFile {
  std::string name;
  std::string type_name;
  std::string gzipped;  // as pushed
  // Decoded, normalised and split once, for the benchmarks that start from split input; their
  // pushes use Push::series_labels instead of these series' labels.
  std::vector<pprof::SeriesProfile> split;
};

// One push of the sequence: which file, for which service and pod.
struct Push {
  size_t file = 0;
  model::Labels labels;
  std::string service;
  // The labels SplitBySeries gives each series of this push (parallel to the file's `split`).
  std::vector<model::Labels> series_labels;
};

pprof::NormalizeOptions Normalization() { return {.now_nanos = kNowNanos}; }

struct Fixture {
  std::vector<InputFile> files;
  std::vector<Push> pushes;  // one segment's worth
  std::string error;

  Fixture() {
    if (pprof::testing::TestdataDir().empty()) {
      error = "testdata not found (set EMBERS_TESTDATA)";
      return;
    }
    std::map<std::string, std::vector<size_t>> by_language;
    for (const std::string& path : pprof::testing::AllPprofFiles()) {
      if (path.find("/pyroscope/pprof/") == std::string::npos) continue;
      std::string bytes = pprof::testing::ReadFile(path);
      absl::StatusOr<std::string> plain = MaybeDecompress(bytes, 64 << 20);
      if (!plain.ok() || plain->size() > kMaxProfileBytes) continue;
      InputFile f;
      f.name = pprof::testing::BaseName(path);
      f.type_name = TypeNameOf(f.name);
      // The loadgen gzips every profile it pushes.
      f.gzipped = Gzip(*plain);
      absl::StatusOr<pprof::Profile> p = pprof::Decode(f.gzipped);
      if (!p.ok() || !pprof::Normalize(&*p, Normalization()).ok()) continue;  // the server's 400
      auto split = pprof::SplitBySeries(std::move(*p), model::Labels({{"__name__", f.type_name}}));
      if (!split.ok()) continue;
      f.split = std::move(*split);
      by_language[f.name.substr(0, f.name.find('_'))].push_back(files.size());
      files.push_back(std::move(f));
    }
    if (files.empty()) {
      error = "no pprof test file of at most 32 KiB decodes";
      return;
    }
    std::vector<std::vector<size_t>> languages;
    for (auto& [_, v] : by_language) languages.push_back(v);
    // Deterministic round robin instead of the loadgen's random choices: each service cycles
    // through its language's files and its pods.
    std::vector<size_t> next_file(kServices, 0);
    for (int i = 0; i < kSegmentProfiles; ++i) {
      const int service = (i * 7) % kServices;
      const std::vector<size_t>& own = languages[service % languages.size()];
      Push p;
      p.file = own[next_file[service]++ % own.size()];
      p.service = StrCat("loadgen-", service);
      p.labels = model::Labels({{"__name__", files[p.file].type_name},
                                {"service_name", p.service},
                                {"pod", StrCat(p.service, "-", i % kPodsPerService)},
                                {"namespace", "loadgen"}});
      absl::StatusOr<pprof::Profile> decoded = pprof::Decode(files[p.file].gzipped);
      if (!decoded.ok() || !pprof::Normalize(&*decoded, Normalization()).ok()) continue;
      auto split = pprof::SplitBySeries(std::move(*decoded), p.labels);
      if (!split.ok() || split->size() != files[p.file].split.size()) {
        error = "splitting a test file depends on its series labels";
        return;
      }
      for (const pprof::SeriesProfile& sp : *split) p.series_labels.push_back(sp.labels);
      pushes.push_back(std::move(p));
    }
  }
};

const Fixture& Data() {
  static const Fixture* f = new Fixture();
  return *f;
}

// One segment's datasets, as SegmentWriter::Segment keeps them (one tenant here).
using Datasets = std::map<std::string, std::unique_ptr<block::DatasetBuilder>>;

block::DatasetBuilder& DatasetOf(Datasets& datasets, const std::string& service) {
  auto& d = datasets[service];
  if (!d) d = std::make_unique<block::DatasetBuilder>("tenant", service);
  return *d;
}

// What SegmentWriter::Push does with the series of one pushed profile. `labels` replaces the
// series labels of `split` when not null (pre-split input shared by all pushes of a file).
void AppendSeries(block::DatasetBuilder& dataset, const std::vector<pprof::SeriesProfile>& split,
                  const std::vector<model::Labels>* labels) {
  std::vector<block::SeriesAppend> group;
  for (size_t i = 0; i < split.size(); ++i) {
    const pprof::SeriesProfile& sp = split[i];
    if (sp.samples.samples.empty()) continue;  // the distributor drops those
    group.push_back({.series = labels != nullptr ? &(*labels)[i] : &sp.labels,
                     .timestamp_ms = sp.samples.time_nanos / 1000000,
                     .duration_ns = sp.samples.duration_nanos,
                     .samples = &sp.samples,
                     .span_ids = sp.span_ids});
  }
  if (!group.empty()) dataset.Append(group, *split.front().symbols);
}

// The fixture, or null (and the benchmark skipped) when the test data is unusable.
const Fixture* DataOrSkip(benchmark::State& state) {
  const Fixture& f = Data();
  if (f.error.empty()) return &f;
  state.SkipWithError(f.error.c_str());
  return nullptr;
}

// Appends one segment's pushes from the pre-split input; returns the series count.
int64_t AppendSegment(const Fixture& f, Datasets& datasets) {
  int64_t series = 0;
  for (const Push& push : f.pushes) {
    const InputFile& file = f.files[push.file];
    AppendSeries(DatasetOf(datasets, push.service), file.split, &push.series_labels);
    series += static_cast<int64_t>(file.split.size());
  }
  return series;
}

void SetCounters(benchmark::State& state, int64_t profiles, int64_t series) {
  state.counters["profiles/s"] =
      benchmark::Counter(static_cast<double>(profiles), benchmark::Counter::kIsRate);
  // CPU seconds per profile, printed with an SI prefix (e.g. 120.5us).
  state.counters["cpu/profile"] = benchmark::Counter(
      static_cast<double>(profiles), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["series/profile"] =
      profiles == 0 ? 0.0 : static_cast<double>(series) / static_cast<double>(profiles);
}

void BM_PushPath(benchmark::State& state) {
  const Fixture* data = DataOrSkip(state);
  if (data == nullptr) return;
  const Fixture& f = *data;
  int64_t profiles = 0, series = 0;
  for (auto _ : state) {
    Datasets datasets;  // a new segment
    for (const Push& push : f.pushes) {
      // The distributor: decode (gunzip included), normalise, split.
      absl::StatusOr<pprof::Profile> p = pprof::Decode(f.files[push.file].gzipped);
      if (!p.ok() || !pprof::Normalize(&*p, Normalization()).ok()) {
        state.SkipWithError("decode failed");
        return;
      }
      absl::StatusOr<std::vector<pprof::SeriesProfile>> split =
          pprof::SplitBySeries(std::move(*p), push.labels);
      if (!split.ok()) {
        state.SkipWithError("split failed");
        return;
      }
      // The segment-writer head.
      AppendSeries(DatasetOf(datasets, push.service), *split, nullptr);
      series += static_cast<int64_t>(split->size());
    }
    profiles += static_cast<int64_t>(f.pushes.size());
  }
  SetCounters(state, profiles, series);
}
BENCHMARK(BM_PushPath)->Unit(benchmark::kMillisecond);

void BM_AppendOnly(benchmark::State& state) {
  const Fixture* data = DataOrSkip(state);
  if (data == nullptr) return;
  const Fixture& f = *data;
  int64_t profiles = 0, series = 0;
  for (auto _ : state) {
    Datasets datasets;
    series += AppendSegment(f, datasets);
    profiles += static_cast<int64_t>(f.pushes.size());
  }
  SetCounters(state, profiles, series);
}
BENCHMARK(BM_AppendOnly)->Unit(benchmark::kMillisecond);

void BM_FinishSegment(benchmark::State& state) {
  const Fixture* data = DataOrSkip(state);
  if (data == nullptr) return;
  const Fixture& f = *data;
  int64_t profiles = 0, series = 0;
  size_t bytes = 0;
  uint32_t crc = 0;
  for (auto _ : state) {
    state.PauseTiming();
    Datasets datasets;
    AppendSegment(f, datasets);
    state.ResumeTiming();
    crc = 0;
    for (auto& [_, builder] : datasets) {
      block::EncodedDataset d = builder->Finish();
      std::string profiles = d.ProfilesSection();
      bytes += d.series_section.size() + profiles.size() + d.symbols_section.size();
      for (const std::string* s : {&d.series_section, &profiles, &d.symbols_section}) {
        crc = Crc32cExtend(crc, *s);
      }
      series += static_cast<int64_t>(d.row_count);
    }
    profiles += kSegmentProfiles;
  }
  SetCounters(state, profiles, series);
  state.counters["datasets"] = kServices;
  state.counters["bytes/segment"] =
      static_cast<double>(bytes) / static_cast<double>(std::max<int64_t>(1, state.iterations()));
  // Checksum of the segment's sections: optimisations of the head must not change it.
  state.counters["crc"] = crc;
}
BENCHMARK(BM_FinishSegment)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace embers
