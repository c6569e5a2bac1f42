// CompactBlocks end to end over a bucket: segments written by the segment-writer's code path
// (DatasetBuilder, BuildObject) are compacted, and what a user reads back from the outputs
// (profiles with their stacks resolved to function names, span ids, profile ids) is compared with
// what the sources hold, read directly.
#include "block/compaction.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/ulid.h"
#include "block/block_testing.h"
#include "block/dataset_builder.h"
#include "block/object_reader.h"
#include "block/object_writer.h"
#include "objstore/fault_injecting_bucket.h"
#include "objstore/filesystem_bucket.h"
#include "objstore/forwarding_bucket.h"
#include "objstore/memory_bucket.h"
#include "objstore/test_temp_dir.h"
#include "pprof/decoder.h"
#include "pprof/normalize.h"
#include "pprof/split.h"
#include "pprof/testdata.h"

namespace embers::block {
namespace {

using testing::ProfileOf;
using testing::ReadStoredProfiles;
using testing::SpanIdsOf;
using testing::StackSample;
using testing::StoredProfile;

using pprof::testing::SyntheticPprof;

constexpr uint64_t kT0 = 1'700'000'000'000;
constexpr char kCpu[] = "process_cpu:cpu:nanoseconds:cpu:nanoseconds";

model::Labels Series(std::string_view service, std::string_view pod) {
  return model::Labels({{"__profile_type__", kCpu},
                        {"service_name", std::string(service)},
                        {"pod", std::string(pod)}});
}

// The series of an encoded pprof (a test-data file's or SyntheticPprof's), as the distributor
// splits it.
absl::StatusOr<std::vector<pprof::SeriesProfile>> Split(const std::string& encoded,
                                                        const model::Labels& labels) {
  absl::StatusOr<pprof::Profile> p = pprof::Decode(encoded, {.max_decompressed_size = 64 << 20});
  if (!p.ok()) return p.status();
  if (absl::Status st = pprof::Normalize(&*p, {.now_nanos = 1}); !st.ok()) return st;
  return pprof::SplitBySeries(std::move(*p), labels);
}

// One level-0 segment (or, with a tenant, a level-1 block) being written, as the segment-writer
// writes it: a DatasetBuilder per (tenant, service).
class SegmentWriter {
 public:
  void Add(const std::string& tenant, const std::string& service, std::string_view pod, int64_t ts,
           const std::vector<StackSample>& samples, model::ProfileId id = {},
           int64_t duration_ns = 10'000'000'000) {
    Dataset(tenant, service)
        .Append(Series(service, pod), ts, duration_ns, ProfileOf(samples), SpanIdsOf(samples), id);
  }

  // The series of an encoded pprof, as the distributor splits it.
  void AddPprof(const std::string& tenant, const std::string& service, std::string_view pod,
                int64_t ts, const std::string& encoded) {
    absl::StatusOr<std::vector<pprof::SeriesProfile>> split = Split(
        encoded,
        model::Labels(
            {{"__name__", "process_cpu"}, {"service_name", service}, {"pod", std::string(pod)}}));
    ASSERT_TRUE(split.ok()) << split.status();
    for (const pprof::SeriesProfile& sp : *split) {
      if (sp.samples.samples.empty()) continue;
      Dataset(tenant, service)
          .Append(sp.labels, ts, sp.samples.duration_nanos, sp.samples, *sp.symbols, sp.span_ids);
    }
  }
  // A test-data pprof file's.
  void AddFile(const std::string& tenant, const std::string& service, std::string_view pod,
               int64_t ts, const std::string& file) {
    SCOPED_TRACE(file);
    AddPprof(tenant, service, pod, ts,
             pprof::testing::ReadFile(pprof::testing::TestdataDir() + "/pyroscope/pprof/" + file));
  }

  // Writes the object to `bucket`; returns its metadata as the metastore indexes it.
  metastore::v1::BlockMeta Upload(objstore::Bucket* bucket, const std::string& id,
                                  uint32_t shard = 1, uint32_t level = 0,
                                  const std::string& tenant = "") {
    std::vector<EncodedDataset> encoded;
    for (auto& [_, builder] : datasets_) encoded.push_back(builder->Finish());
    datasets_.clear();
    BuiltObject object = BuildObject(
        {.id = id, .shard = shard, .compaction_level = level, .tenant = tenant, .created_by = "sw"},
        std::move(encoded));
    EXPECT_TRUE(bucket->Put(ObjectKey(object.meta), object.bytes).ok());
    return object.meta;
  }

 private:
  DatasetBuilder& Dataset(const std::string& tenant, const std::string& service) {
    auto& d = datasets_[{tenant, service}];
    if (!d) d = std::make_unique<DatasetBuilder>(tenant, service);
    return *d;
  }
  std::map<std::pair<std::string, std::string>, std::unique_ptr<DatasetBuilder>> datasets_;
};

// CompactBlocks with the sources in a braced list.
absl::StatusOr<CompactionResult> Compact(objstore::Bucket* bucket,
                                         const std::vector<metastore::v1::BlockMeta>& sources,
                                         const CompactionOptions& options) {
  return CompactBlocks(bucket, sources, options);
}

std::string SourceId(int i) { return DeterministicUlid(kT0 + i, 7, i).ToString(); }

// A sample set of a profile: a few stacks, values scaled by `k`, a span id on one sample.
std::vector<StackSample> Samples(int k, bool spans = false) {
  return {{{"main", "serve", "handle"}, 10 * k, spans ? uint64_t(0xabc0 + k) : 0},
          {{"main", "serve", "encode", "write"}, 3 * k},
          {{"main", "gc"}, k},
          {{"runtime", "mcall", "k" + std::to_string(k % 3)}, 2}};
}

class CompactionTest : public ::testing::Test {
 protected:
  CompactionOptions Options(std::string job = "job-1") const {
    return {.job_name = std::move(job),
            .output_level = 1,
            .created_by = "worker-1",
            .temp_dir = dir_ + "/tmp",
            .memory_limit_bytes = 256 << 20,
            .zstd_level = 3};
  }

  // Files left in the temp dir (the kernel must remove its own).
  size_t TempFiles() const {
    if (!std::filesystem::exists(dir_ + "/tmp")) return 0;
    return static_cast<size_t>(
        std::distance(std::filesystem::directory_iterator(dir_ + "/tmp"), {}));
  }

  // What the objects hold, read directly; exact repeats (retried pushes) kept once.
  std::vector<StoredProfile> Stored(objstore::Bucket* bucket,
                                    const std::vector<metastore::v1::BlockMeta>& objects,
                                    bool unique = true) {
    std::vector<StoredProfile> all;
    for (const auto& meta : objects) {
      absl::StatusOr<std::vector<StoredProfile>> got = ReadStoredProfiles(bucket, ObjectKey(meta));
      EXPECT_TRUE(got.ok()) << ObjectKey(meta) << ": " << got.status();
      if (got.ok()) all.insert(all.end(), got->begin(), got->end());
    }
    std::sort(all.begin(), all.end());
    if (unique) all.erase(std::unique(all.begin(), all.end()), all.end());
    return all;
  }

  // Three segments of one shard: two tenants, three services, series that recur across
  // segments, pprof profiles split as the distributor does (Go CPU with pprof labels and with
  // span ids, made in code; and real Go, Java and Node.js ones where the shared test data is),
  // and client profile ids on some rows.
  std::vector<metastore::v1::BlockMeta> WriteSegments(objstore::Bucket* bucket) {
    const bool real_profiles = !pprof::testing::TestdataDir().empty();
    const std::string with_labels = SyntheticPprof(
        {.labels = {{"handler", {"/api", "/health", "/metrics"}}, {"foo", {"bar"}}}});
    const std::string with_spans = SyntheticPprof({.span_label = "profile_id", .seed = 2});
    std::vector<metastore::v1::BlockMeta> segments;
    for (int s = 0; s < 3; ++s) {
      SegmentWriter w;
      for (int i = 0; i < 6; ++i) {
        const int64_t ts = kT0 + (s * 6 + i) * 15'000;
        w.Add("tenant-a", "api", "pod-" + std::to_string(i % 3), ts, Samples(s * 6 + i, i % 2),
              i % 4 == 0 ? model::ProfileId{uint64_t(s), uint64_t(i + 1)} : model::ProfileId{});
        w.Add("tenant-b", "api", "pod-" + std::to_string(i % 2), ts, Samples(i + 1));
      }
      const int64_t ts = kT0 + s * 10'000;
      w.AddPprof("tenant-a", "go-app", "pod-0", ts, with_labels);
      w.AddPprof("tenant-a", "go-app", "pod-1", ts, with_spans);
      w.AddPprof(
          "tenant-b", "java-app", "pod-0", ts,
          SyntheticPprof(
              {.functions = 200, .samples = 120, .max_depth = 48, .seed = s == 1 ? 3u : 4u}));
      if (real_profiles) {
        w.AddFile("tenant-a", "go-app", "pod-2", ts, "go_cpu_with_labels.pb.gz");
        w.AddFile("tenant-a", "go-app", "pod-3", ts, "go_cpu_span_id.pb.gz");
        w.AddFile("tenant-b", "java-app", "pod-1", ts,
                  s == 1 ? "nodejs_cpu_wall.pb.gz" : "java_asyncprofiler_cpu.pb.gz");
      }
      segments.push_back(w.Upload(bucket, SourceId(s)));
    }
    return segments;
  }

  objstore::TempDir scratch_;
  const std::string dir_ = scratch_.path();
};

TEST_F(CompactionTest, MergedOutputEqualsTheInputsReadDirectly) {
  objstore::MemoryBucket bucket;
  const std::vector<metastore::v1::BlockMeta> segments = WriteSegments(&bucket);
  absl::StatusOr<CompactionResult> result = CompactBlocks(&bucket, segments, Options());
  ASSERT_TRUE(result.ok()) << result.status();

  // One block per tenant, at the block key of that tenant.
  ASSERT_EQ(result->outputs.size(), 2u);
  const std::string tenants[] = {"tenant-a", "tenant-b"};
  for (size_t i = 0; i < 2; ++i) {
    const metastore::v1::BlockMeta& out = result->outputs[i];
    EXPECT_EQ(out.string_table(out.tenant()), tenants[i]);
    EXPECT_EQ(out.compaction_level(), 1u);
    EXPECT_EQ(out.shard(), 1u);
    EXPECT_EQ(out.string_table(out.created_by()), "worker-1");
    EXPECT_EQ(ObjectKey(out), "blocks/1/" + tenants[i] + "/" + out.id() + "/block.bin");
    EXPECT_EQ(bucket.Size(ObjectKey(out)).value(), out.size());
    // The metadata the metastore gets is the one in the object.
    absl::StatusOr<ObjectReader> reader = ObjectReader::Open(&bucket, ObjectKey(out));
    ASSERT_TRUE(reader.ok()) << reader.status();
    EXPECT_EQ(reader->meta().SerializeAsString(), out.SerializeAsString());
    for (int d = 0; d < out.datasets_size(); ++d) {
      EXPECT_EQ(out.string_table(out.datasets(d).tenant()), tenants[i]);
    }
  }
  // Datasets: one per service, in service order.
  EXPECT_EQ(result->outputs[0].datasets_size(), 2);  // api, go-app
  EXPECT_EQ(result->outputs[1].datasets_size(), 2);  // api, java-app

  // Every profile, stack by stack, with its span ids and profile id.
  const std::vector<StoredProfile> want = Stored(&bucket, segments);
  const std::vector<StoredProfile> got = Stored(&bucket, result->outputs, /*unique=*/false);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], want[i]) << i;

  // Time ranges are the union of the sources'.
  int64_t min_time = INT64_MAX, max_time = INT64_MIN;
  for (const auto& s : segments) {
    min_time = std::min(min_time, s.min_time());
    max_time = std::max(max_time, s.max_time());
  }
  EXPECT_EQ(std::min(result->outputs[0].min_time(), result->outputs[1].min_time()), min_time);
  EXPECT_EQ(std::max(result->outputs[0].max_time(), result->outputs[1].max_time()), max_time);

  const CompactionStats& stats = result->stats;
  EXPECT_EQ(stats.source_objects, 3u);
  EXPECT_EQ(stats.missing_sources, 0u);
  EXPECT_EQ(stats.output_objects, 2u);
  EXPECT_EQ(stats.rows_out, want.size());
  EXPECT_EQ(stats.rows_in, stats.rows_out + stats.duplicate_rows);
  EXPECT_EQ(stats.duplicate_rows, 0u);
  EXPECT_EQ(stats.datasets_in, 12u);
  EXPECT_EQ(stats.datasets_out, 4u);
  EXPECT_EQ(stats.samples_in, stats.samples_out);
  EXPECT_EQ(stats.output_bytes, result->outputs[0].size() + result->outputs[1].size());
  EXPECT_EQ(TempFiles(), 0u);
}

TEST_F(CompactionTest, AProfilePushedTwiceIsKeptOnceAndADifferentOneAtTheSameTimeIsKept) {
  objstore::MemoryBucket bucket;
  const int64_t t = kT0 + 30'000;
  SegmentWriter a, b;
  // The same push twice in one segment, and again (samples in another order) in the next one.
  std::vector<StackSample> pushed = Samples(5, true);
  a.Add("t", "api", "pod-0", t, pushed, {1, 2});
  a.Add("t", "api", "pod-0", t, pushed, {1, 2});
  std::reverse(pushed.begin(), pushed.end());
  b.Add("t", "api", "pod-0", t, pushed, {1, 2});
  // Different profiles of the same series and millisecond: other values, or another client id,
  // or another duration.
  b.Add("t", "api", "pod-0", t, Samples(6, true), {1, 2});
  b.Add("t", "api", "pod-0", t, Samples(5, true), {1, 3});
  a.Add("t", "api", "pod-0", t, Samples(5, true), {1, 2}, 20'000'000'000);
  // The same profile in another series is another profile.
  a.Add("t", "api", "pod-1", t, Samples(5, true), {1, 2});
  const std::vector<metastore::v1::BlockMeta> sources = {a.Upload(&bucket, SourceId(0)),
                                                         b.Upload(&bucket, SourceId(1))};
  absl::StatusOr<CompactionResult> result = CompactBlocks(&bucket, sources, Options());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stats.rows_in, 7u);
  EXPECT_EQ(result->stats.duplicate_rows, 2u);
  EXPECT_EQ(result->stats.rows_out, 5u);
  const std::vector<StoredProfile> got = Stored(&bucket, result->outputs, /*unique=*/false);
  EXPECT_EQ(got, Stored(&bucket, sources));  // the five distinct profiles, each once
  ASSERT_EQ(got.size(), 5u);
}

TEST_F(CompactionTest, SymbolsOnlyADroppedRowUsedAreNotCopied) {
  objstore::MemoryBucket bucket;
  // Two rows with one identity (series, time, duration, client id, values): the second is a
  // retry as far as the identity goes, and is dropped with its stacks.
  SegmentWriter a, b;
  a.Add("t", "api", "pod-0", kT0, {{{"main", "kept"}, 7}}, {9, 9});
  b.Add("t", "api", "pod-0", kT0, {{{"main", "only_in_the_dropped_row"}, 7}}, {9, 9});
  b.Add("t", "api", "pod-0", kT0 + 1, {{{"main", "later"}, 1}});
  const std::vector<metastore::v1::BlockMeta> sources = {a.Upload(&bucket, SourceId(0)),
                                                         b.Upload(&bucket, SourceId(1))};
  absl::StatusOr<CompactionResult> result = CompactBlocks(&bucket, sources, Options());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stats.duplicate_rows, 1u);
  ASSERT_EQ(result->outputs.size(), 1u);
  absl::StatusOr<ObjectReader> reader = ObjectReader::Open(&bucket, ObjectKey(result->outputs[0]));
  ASSERT_TRUE(reader.ok());
  absl::StatusOr<Symbols> symbols = reader->ReadSymbols(0);
  ASSERT_TRUE(symbols.ok());
  std::vector<std::string_view> names;
  for (const SymbolFunction& f : symbols->functions) names.push_back(symbols->strings[f.name]);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string_view>{"kept", "later", "main"}));
  for (std::string_view s : symbols->strings) EXPECT_NE(s, "only_in_the_dropped_row");
  EXPECT_EQ(symbols->locations.size(), 3u);
  EXPECT_EQ(symbols->node_parent.size(), 4u);  // root, main, main;kept, main;later
}

TEST_F(CompactionTest, SameJobWritesTheSameIdsAndBytes) {
  objstore::MemoryBucket bucket;
  std::vector<metastore::v1::BlockMeta> segments = WriteSegments(&bucket);
  absl::StatusOr<CompactionResult> first = CompactBlocks(&bucket, segments, Options());
  ASSERT_TRUE(first.ok()) << first.status();
  std::vector<std::string> bytes;
  for (const auto& out : first->outputs) bytes.push_back(bucket.Get(ObjectKey(out)).value());

  // A retry, with the sources listed in another order: the same keys, the same bytes.
  std::reverse(segments.begin(), segments.end());
  absl::StatusOr<CompactionResult> retry = CompactBlocks(&bucket, segments, Options());
  ASSERT_TRUE(retry.ok()) << retry.status();
  ASSERT_EQ(retry->outputs.size(), first->outputs.size());
  for (size_t i = 0; i < bytes.size(); ++i) {
    EXPECT_EQ(retry->outputs[i].id(), first->outputs[i].id());
    EXPECT_TRUE(bucket.Get(ObjectKey(retry->outputs[i])).value() == bytes[i]);
  }
  EXPECT_EQ(objstore::ListKeys(bucket, "blocks/").value().size(), 2u);  // overwritten, not added

  // The id's time is the newest source's; another job gets other ids.
  const Ulid id = ParseUlid(first->outputs[0].id()).value();
  EXPECT_EQ(id.TimeMs(), kT0 + 2);
  EXPECT_NE(first->outputs[0].id(), first->outputs[1].id());
  absl::StatusOr<CompactionResult> other = CompactBlocks(&bucket, segments, Options("job-2"));
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->outputs[0].id(), first->outputs[0].id());
}

TEST_F(CompactionTest, MissingSourceIsSkippedAndCounted) {
  objstore::MemoryBucket bucket;
  SegmentWriter a, b, c;
  a.Add("t", "api", "pod-0", kT0, Samples(1));
  b.Add("t", "api", "pod-0", kT0 + 15'000, Samples(2));
  c.Add("t", "api", "pod-0", kT0 + 30'000, Samples(3));
  std::vector<metastore::v1::BlockMeta> sources = {a.Upload(&bucket, SourceId(0)),
                                                   b.Upload(&bucket, SourceId(1)),
                                                   c.Upload(&bucket, SourceId(2))};
  const std::vector<StoredProfile> kept = Stored(&bucket, {sources[0], sources[2]});
  ASSERT_TRUE(bucket.Delete(ObjectKey(sources[1])).ok());
  // Sources fetched whole, and streamed through ranged reads.
  for (size_t whole : {size_t{8} << 20, size_t{0}}) {
    CompactionOptions options = Options();
    options.whole_object_max_bytes = whole;
    absl::StatusOr<CompactionResult> result = CompactBlocks(&bucket, sources, options);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->stats.missing_sources, 1u);
    EXPECT_EQ(result->stats.source_objects, 2u);
    EXPECT_EQ(Stored(&bucket, result->outputs), kept);
  }
  // Every source gone: nothing to write, nothing written.
  for (const auto& s : sources) ASSERT_TRUE(bucket.Delete(ObjectKey(s)).ok());
  absl::StatusOr<CompactionResult> none = CompactBlocks(&bucket, sources, Options("job-2"));
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->outputs.empty());
  EXPECT_EQ(none->stats.missing_sources, 3u);
}

TEST_F(CompactionTest, CorruptSourceIsDataLossNamingTheObject) {
  objstore::MemoryBucket bucket;
  SegmentWriter a, b;
  for (int i = 0; i < 50; ++i) {
    a.Add("t", "api", "pod-" + std::to_string(i % 4), kT0 + i * 1000, Samples(i, i % 2));
  }
  b.Add("t", "api", "pod-0", kT0, Samples(1));
  const metastore::v1::BlockMeta good = a.Upload(&bucket, SourceId(0));
  const metastore::v1::BlockMeta other = b.Upload(&bucket, SourceId(1));
  const std::string key = ObjectKey(good);
  const std::string bytes = bucket.Get(key).value();
  const auto& d = good.datasets(0);
  const struct {
    uint64_t at;
    std::string_view section;
  } damage[] = {{d.table_of_contents(0) + 5, "series"},
                {d.table_of_contents(1) + 40, "profiles"},
                {d.table_of_contents(2) - 20, "profiles"},
                {d.table_of_contents(2) + 8, "symbols"}};
  for (const auto& [at, section] : damage) {
    std::string corrupt = bytes;
    corrupt[at] ^= 0x5a;
    ASSERT_TRUE(bucket.Put(key, corrupt).ok());
    // Fetched whole, and streamed through ranged reads.
    for (size_t whole : {size_t{8} << 20, size_t{0}}) {
      CompactionOptions options = Options();
      options.whole_object_max_bytes = whole;
      absl::StatusOr<CompactionResult> result = Compact(&bucket, {good, other}, options);
      ASSERT_EQ(result.status().code(), absl::StatusCode::kDataLoss)
          << section << " " << result.status();
      const std::string message(result.status().message());
      EXPECT_NE(message.find("object " + key + " dataset 0 (api) " + std::string(section)),
                std::string::npos)
          << message;
      EXPECT_EQ(objstore::ListKeys(bucket, "blocks/").value().size(), 0u);
      EXPECT_EQ(TempFiles(), 0u);
    }
  }
  // An object shorter than its metadata says.
  ASSERT_TRUE(bucket.Put(key, bytes.substr(0, bytes.size() - 100)).ok());
  absl::StatusOr<CompactionResult> result = Compact(&bucket, {good, other}, Options());
  ASSERT_EQ(result.status().code(), absl::StatusCode::kDataLoss) << result.status();
  EXPECT_NE(result.status().message().find(key), std::string::npos);
}

TEST_F(CompactionTest, OtherReadErrorsFailTheJobNamingTheObject) {
  auto faulty =
      std::make_unique<objstore::FaultInjectingBucket>(std::make_unique<objstore::MemoryBucket>());
  SegmentWriter a;
  a.Add("t", "api", "pod-0", kT0, Samples(1));
  const metastore::v1::BlockMeta source = a.Upload(faulty.get(), SourceId(0));
  faulty->fail_gets = true;
  absl::StatusOr<CompactionResult> result = Compact(faulty.get(), {source}, Options());
  ASSERT_EQ(result.status().code(), absl::StatusCode::kUnavailable) << result.status();
  EXPECT_NE(result.status().message().find(ObjectKey(source)), std::string::npos);
  faulty->fail_gets = false;
  faulty->fail_puts = true;
  result = Compact(faulty.get(), {source}, Options());
  ASSERT_EQ(result.status().code(), absl::StatusCode::kUnavailable) << result.status();
  EXPECT_NE(result.status().message().find("uploading blocks/1/t/"), std::string::npos);
  EXPECT_EQ(TempFiles(), 0u);
}

// Large Go CPU profiles (over a thousand functions, deep stacks), encoded: one made in code, and
// go_cpu_truncated_stacks.pb.gz where the shared test data is. Named for SCOPED_TRACE.
std::vector<std::pair<std::string, std::string>> LargeGoCpuProfiles() {
  std::vector<std::pair<std::string, std::string>> out = {
      {"synthetic", SyntheticPprof({.functions = 1500, .samples = 650, .max_depth = 64})}};
  if (const std::string dir = pprof::testing::TestdataDir(); !dir.empty()) {
    out.emplace_back(
        "go_cpu_truncated_stacks.pb.gz",
        pprof::testing::ReadFile(dir + "/pyroscope/pprof/go_cpu_truncated_stacks.pb.gz"));
  }
  return out;
}

// Many rows of the CPU series of `encoded` (a Go CPU pprof), values perturbed per row, in
// `segments` segments.
std::vector<metastore::v1::BlockMeta> WriteGoCpuSegments(objstore::Bucket* bucket,
                                                         const std::string& encoded, int segments,
                                                         int rows_per_segment) {
  absl::StatusOr<std::vector<pprof::SeriesProfile>> split =
      Split(encoded, model::Labels({{"__name__", "process_cpu"}, {"service_name", "go"}}));
  EXPECT_TRUE(split.ok() && !split->empty()) << split.status();
  if (!split.ok() || split->empty()) return {};
  const pprof::SeriesProfile& cpu = split->front();
  std::vector<metastore::v1::BlockMeta> out;
  for (int s = 0; s < segments; ++s) {
    DatasetBuilder builder("t", "go");
    for (int i = 0; i < rows_per_segment; ++i) {
      pprof::Profile perturbed = cpu.samples;
      for (int64_t& v : perturbed.values) v = v * (1 + (s + i) % 5) + i;
      builder.Append(cpu.labels.With("pod", "pod-" + std::to_string(i % 7)),
                     static_cast<int64_t>(kT0) + (s * rows_per_segment + i) * 1000, 0, perturbed,
                     *cpu.symbols, {});
    }
    std::vector<EncodedDataset> datasets;
    datasets.push_back(builder.Finish());
    BuiltObject object = BuildObject({.id = SourceId(s), .shard = 1}, std::move(datasets));
    EXPECT_TRUE(bucket->Put(ObjectKey(object.meta), object.bytes).ok());
    out.push_back(object.meta);
  }
  return out;
}

// Rows of few symbols and hard-to-compress values: much output for little symbol memory.
std::vector<metastore::v1::BlockMeta> WriteNoisySegments(objstore::Bucket* bucket, int segments,
                                                         int rows_per_segment) {
  uint64_t random = 42;
  auto next = [&] {
    random = random * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<int64_t>(random >> 40);
  };
  std::vector<metastore::v1::BlockMeta> out;
  for (int s = 0; s < segments; ++s) {
    SegmentWriter w;
    for (int i = 0; i < rows_per_segment; ++i) {
      std::vector<StackSample> samples;
      for (int k = 0; k < 8; ++k) {
        samples.push_back({{"main", "f" + std::to_string((i + k) % 40), "g" + std::to_string(k)},
                           1 + next(),
                           uint64_t(next())});
      }
      w.Add("t", "svc-" + std::to_string(i % 3), "pod-" + std::to_string(i % 11),
            static_cast<int64_t>(kT0) + (s * rows_per_segment + i) * 100, samples,
            {uint64_t(next()), uint64_t(i)});
    }
    out.push_back(w.Upload(bucket, SourceId(s)));
  }
  return out;
}

TEST_F(CompactionTest, SpillingUnderATinyMemoryLimitGivesTheSameBytes) {
  objstore::MemoryBucket bucket;
  const std::vector<metastore::v1::BlockMeta> segments = WriteNoisySegments(&bucket, 4, 1500);
  absl::StatusOr<CompactionResult> in_memory = CompactBlocks(&bucket, segments, Options());
  ASSERT_TRUE(in_memory.ok()) << in_memory.status();
  EXPECT_EQ(in_memory->stats.spilled_bytes, 0u);
  ASSERT_EQ(in_memory->outputs.size(), 1u);
  const std::string want = bucket.Get(ObjectKey(in_memory->outputs[0])).value();
  ASSERT_TRUE(bucket.Delete(ObjectKey(in_memory->outputs[0])).ok());

  // Just above what the symbols need: sources are streamed through small windows, the output's
  // chunks and the object itself go through files.
  CompactionOptions options = Options();
  options.memory_limit_bytes = in_memory->stats.peak_symbols_bytes * 5 / 4;
  ASSERT_LT(options.memory_limit_bytes / 8, want.size() / 8);
  absl::StatusOr<CompactionResult> spilled = CompactBlocks(&bucket, segments, options);
  ASSERT_TRUE(spilled.ok()) << spilled.status();
  EXPECT_GT(spilled->stats.spilled_bytes, want.size());  // the chunks, then the object
  EXPECT_LT(spilled->stats.bytes_read, in_memory->stats.bytes_read * 2);
  ASSERT_EQ(spilled->outputs.size(), 1u);
  EXPECT_EQ(spilled->outputs[0].SerializeAsString(), in_memory->outputs[0].SerializeAsString());
  EXPECT_TRUE(bucket.Get(ObjectKey(spilled->outputs[0])).value() == want);
  EXPECT_EQ(TempFiles(), 0u);
}

TEST_F(CompactionTest, SymbolsBeyondTheMemoryLimitAreResourceExhausted) {
  for (const auto& [name, encoded] : LargeGoCpuProfiles()) {
    SCOPED_TRACE(name);
    objstore::MemoryBucket bucket;
    const std::vector<metastore::v1::BlockMeta> segments =
        WriteGoCpuSegments(&bucket, encoded, 2, 10);
    CompactionOptions options = Options();
    options.memory_limit_bytes = 100'000;
    absl::StatusOr<CompactionResult> result = CompactBlocks(&bucket, segments, options);
    ASSERT_EQ(result.status().code(), absl::StatusCode::kResourceExhausted) << result.status();
    EXPECT_NE(result.status().message().find("memory limit of 100000 bytes"), std::string::npos)
        << result.status();
    EXPECT_NE(result.status().message().find("t/go"), std::string::npos);
    EXPECT_EQ(objstore::ListKeys(bucket, "blocks/").value().size(), 0u);
    EXPECT_EQ(TempFiles(), 0u);
  }
}

// Sets `cancel` once `reads_before_cancel` ranged reads were served.
class CancellingBucket final : public objstore::ForwardingBucket {
 public:
  CancellingBucket(std::atomic<bool>* cancel, int reads_before_cancel)
      : ForwardingBucket(&inner), cancel_(cancel), reads_left_(reads_before_cancel) {}
  absl::StatusOr<std::string> GetRange(std::string_view k, uint64_t o, uint64_t l) override {
    if (--reads_left_ <= 0) *cancel_ = true;
    return ForwardingBucket::GetRange(k, o, l);
  }
  objstore::MemoryBucket inner;

 private:
  std::atomic<bool>* cancel_;
  int reads_left_;
};

TEST_F(CompactionTest, CancelStopsEarlyAndUploadsNothing) {
  for (const auto& [name, encoded] : LargeGoCpuProfiles()) {
    SCOPED_TRACE(name);
    std::atomic<bool> cancel{false};
    CancellingBucket bucket(&cancel, 3);
    const std::vector<metastore::v1::BlockMeta> segments =
        WriteGoCpuSegments(&bucket.inner, encoded, 4, 150);
    CompactionOptions options = Options();
    options.cancel = &cancel;
    options.whole_object_max_bytes = 0;  // sources read by range, so the reads above count
    absl::StatusOr<CompactionResult> result = CompactBlocks(&bucket, segments, options);
    ASSERT_EQ(result.status().code(), absl::StatusCode::kCancelled) << result.status();
    EXPECT_TRUE(cancel.load());
    EXPECT_EQ(objstore::ListKeys(bucket.inner, "blocks/").value().size(), 0u);
    EXPECT_EQ(TempFiles(), 0u);

    // Cancelled before it starts: nothing read at all.
    absl::StatusOr<CompactionResult> again = CompactBlocks(&bucket, segments, options);
    EXPECT_EQ(again.status().code(), absl::StatusCode::kCancelled);
  }
}

TEST_F(CompactionTest, LevelOneBlocksCompactIntoLevelTwoOnAFilesystemBucket) {
  absl::StatusOr<std::unique_ptr<objstore::FilesystemBucket>> opened =
      objstore::FilesystemBucket::Open(dir_ + "/bucket");
  ASSERT_TRUE(opened.ok());
  objstore::Bucket* bucket = opened->get();
  // Two level-0 jobs, each into level 1, then both level-1 blocks of tenant-a into level 2.
  std::vector<metastore::v1::BlockMeta> segments = WriteSegments(bucket);
  const std::vector<StoredProfile> want_all = Stored(bucket, segments);
  SegmentWriter late;
  late.Add("tenant-a", "api", "pod-9", kT0 + 3'600'000, Samples(9, true));
  late.Add("tenant-a", "api", "pod-0", kT0, Samples(0, false), {0, 1});  // a retry, in a later job
  const metastore::v1::BlockMeta late_segment = late.Upload(bucket, SourceId(9));
  CompactionOptions options = Options("l0-a");
  options.memory_limit_bytes = 1 << 20;  // a small limit: spills through files, PutFile
  absl::StatusOr<CompactionResult> first = CompactBlocks(bucket, segments, options);
  ASSERT_TRUE(first.ok()) << first.status();
  options.job_name = "l0-b";
  absl::StatusOr<CompactionResult> second =
      CompactBlocks(bucket, std::vector<metastore::v1::BlockMeta>{late_segment}, options);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->outputs.size(), 1u);

  const std::vector<metastore::v1::BlockMeta> level1 = {first->outputs[0], second->outputs[0]};
  std::vector<StoredProfile> want = Stored(bucket, level1);
  options.job_name = "l1";
  options.output_level = 2;
  absl::StatusOr<CompactionResult> l2 = CompactBlocks(bucket, level1, options);
  ASSERT_TRUE(l2.ok()) << l2.status();
  ASSERT_EQ(l2->outputs.size(), 1u);
  EXPECT_EQ(l2->outputs[0].compaction_level(), 2u);
  EXPECT_EQ(l2->stats.duplicate_rows, 1u);  // the retry met its original at level 2
  EXPECT_EQ(Stored(bucket, l2->outputs, /*unique=*/false), want);
  // And tenant-a's level-2 block holds exactly tenant-a's profiles of the level-0 data.
  std::vector<StoredProfile> tenant_a;
  for (const StoredProfile& p : want_all) {
    if (p.tenant == "tenant-a") tenant_a.push_back(p);
  }
  std::vector<StoredProfile> late_profiles = Stored(bucket, {late_segment});
  tenant_a.insert(tenant_a.end(), late_profiles.begin(), late_profiles.end());
  std::sort(tenant_a.begin(), tenant_a.end());
  tenant_a.erase(std::unique(tenant_a.begin(), tenant_a.end()), tenant_a.end());
  EXPECT_EQ(Stored(bucket, l2->outputs), tenant_a);
}

TEST_F(CompactionTest, BadJobsAreInvalidArgument) {
  objstore::MemoryBucket bucket;
  SegmentWriter a, b;
  a.Add("t", "api", "pod-0", kT0, Samples(1));
  b.Add("t", "api", "pod-0", kT0, Samples(1));
  const metastore::v1::BlockMeta shard1 = a.Upload(&bucket, SourceId(0), 1);
  const metastore::v1::BlockMeta shard2 = b.Upload(&bucket, SourceId(1), 2);
  EXPECT_EQ(Compact(&bucket, {}, Options()).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Compact(&bucket, {shard1, shard2}, Options()).status().code(),
            absl::StatusCode::kInvalidArgument);
  metastore::v1::BlockMeta bad_id = shard1;
  bad_id.set_id("not-a-ulid");
  EXPECT_EQ(Compact(&bucket, {bad_id}, Options()).status().code(),
            absl::StatusCode::kInvalidArgument);
  CompactionOptions no_temp = Options();
  no_temp.temp_dir.clear();
  EXPECT_EQ(Compact(&bucket, {shard1}, no_temp).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace embers::block

namespace embers::block {
namespace {

// Data of one source spanning a partition boundary goes to one block per partition, each within
// it, and nothing is lost or repeated.
TEST_F(CompactionTest, OutputsAreSplitByDataPartition) {
  objstore::MemoryBucket bucket;
  const int64_t width = 6 * 3600 * 1000;
  const int64_t boundary = (static_cast<int64_t>(kT0) / width + 1) * width;
  SegmentWriter a;
  a.Add("t", "api", "pod-0", boundary - 1000, Samples(1));
  a.Add("t", "api", "pod-0", boundary, Samples(2));
  a.Add("t", "api", "pod-1", boundary + 5000, Samples(3));
  const std::vector<metastore::v1::BlockMeta> sources = {a.Upload(&bucket, SourceId(0))};
  absl::StatusOr<CompactionResult> result = CompactBlocks(&bucket, sources, Options());
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->outputs.size(), 2u);
  EXPECT_EQ(result->outputs[0].min_time(), boundary - 1000);
  EXPECT_EQ(result->outputs[0].max_time(), boundary - 1000);
  EXPECT_EQ(result->outputs[1].min_time(), boundary);
  EXPECT_EQ(result->outputs[1].max_time(), boundary + 5000);
  EXPECT_NE(result->outputs[0].id(), result->outputs[1].id());
  EXPECT_EQ(result->stats.rows_out, 3u);
  EXPECT_EQ(Stored(&bucket, result->outputs), Stored(&bucket, sources));
}

}  // namespace
}  // namespace embers::block
