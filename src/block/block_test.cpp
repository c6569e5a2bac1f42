#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "block/dataset_builder.h"
#include "block/object_reader.h"
#include "block/object_writer.h"
#include "objstore/memory_bucket.h"
#include "pprof/decoder.h"
#include "pprof/normalize.h"
#include "pprof/split.h"
#include "pprof/testdata.h"

namespace embers::block {
namespace {

// A stack as "root;...;leaf" of function names, the way a user reads a flame graph.
using StackTotals = std::map<std::string, int64_t>;

std::string FrameName(const pprof::Profile& p, const pprof::Location& loc) {
  std::string out;
  auto lines = p.LocationLines(loc);
  // Inlined frames: the last line is the caller; keep pprof order (callee first) reversed.
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    if (!out.empty()) out += ";";
    out += std::string(p.String(p.functions[p.FunctionIndex(it->function_id)].name));
  }
  return out.empty() ? "0x" + std::to_string(loc.address) : out;
}

StackTotals TotalsFromProfile(const pprof::Profile& p) {
  StackTotals totals;
  for (const auto& s : p.samples) {
    auto locs = p.SampleLocations(s);
    std::string stack;
    for (auto it = locs.rbegin(); it != locs.rend(); ++it) {
      if (!stack.empty()) stack += ";";
      stack += FrameName(p, p.locations[p.LocationIndex(*it)]);
    }
    int64_t v = p.SampleValues(s)[0];
    if (v != 0) totals[stack] += v;
  }
  return totals;
}

std::string FrameName(const Symbols& sym, uint32_t location) {
  std::string out;
  const SymbolLocation& loc = sym.locations[location];
  auto lines = sym.LocationLines(loc);
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    if (!out.empty()) out += ";";
    out += std::string(sym.strings[sym.functions[it->function].name]);
  }
  return out.empty() ? "0x" + std::to_string(loc.address) : out;
}

StackTotals TotalsFromRows(const Symbols& sym, const ProfileRows& rows, uint32_t series) {
  StackTotals totals;
  std::vector<uint32_t> locs;
  for (size_t r = 0; r < rows.size(); ++r) {
    if (rows.series[r] != series) continue;
    for (uint32_t i = 0; i < rows.sample_count[r]; ++i) {
      locs.clear();
      EXPECT_TRUE(sym.Stack(rows.stack_ids[rows.sample_begin[r] + i], &locs));
      std::string stack;
      for (auto it = locs.rbegin(); it != locs.rend(); ++it) {
        if (!stack.empty()) stack += ";";
        stack += FrameName(sym, *it);
      }
      totals[stack] += rows.values[rows.sample_begin[r] + i];
    }
  }
  return totals;
}

// Appends a sample with one value to a profile built in code.
void AddSample(pprof::Profile* p, const std::vector<uint64_t>& leaf_first, int64_t value) {
  pprof::Sample s;
  s.location_begin = static_cast<uint32_t>(p->location_ids.size());
  s.location_count = static_cast<uint32_t>(leaf_first.size());
  p->location_ids.insert(p->location_ids.end(), leaf_first.begin(), leaf_first.end());
  s.value_begin = static_cast<uint32_t>(p->values.size());
  s.value_count = 1;
  p->values.push_back(value);
  p->samples.push_back(s);
}

// A small profile built in code: three functions, stacks main;a and main;b.
pprof::Profile SmallProfile(int64_t va, int64_t vb) {
  pprof::Profile p;
  p.strings = {"", "cpu", "nanoseconds", "main", "a", "b"};
  p.sample_types.push_back({1, 2});
  for (uint64_t f = 1; f <= 3; ++f) {
    p.functions.push_back({.id = f, .name = static_cast<int64_t>(f + 2)});
    p.lines.push_back({.function_id = f, .line = 10 * static_cast<int64_t>(f)});
    p.locations.push_back({.id = f,
                           .address = 0x1000 * f,
                           .line_begin = static_cast<uint32_t>(f - 1),
                           .line_count = 1});
  }
  AddSample(&p, {2, 1}, va);
  AddSample(&p, {3, 1}, vb);
  AddSample(&p, {2, 1}, 0);  // dropped: zero
  return p;
}

model::Labels Series(std::string env) {
  return model::Labels({{"__profile_type__", "process_cpu:cpu:nanoseconds:cpu:nanoseconds"},
                        {"service_name", "api"},
                        {"env", std::move(env)}});
}

TEST(Block, RoundTripSmallProfiles) {
  DatasetBuilder builder("tenant-a", "api", {.zstd_level = 1, .rows_per_chunk = 2});
  builder.Append(Series("prod"), 3000, 10, SmallProfile(5, 7));
  builder.Append(Series("dev"), 1000, 10, SmallProfile(1, 0));
  builder.Append(Series("prod"), 2000, 10, SmallProfile(2, 3));
  builder.Append(Series("prod"), 2500, 10, SmallProfile(0, 0));  // empty: not stored
  std::vector<EncodedDataset> datasets;
  datasets.push_back(builder.Finish());
  EXPECT_EQ(datasets[0].row_count, 3u);
  BuiltObject obj =
      BuildObject({.id = "01JKT426999WRKSJZ0A43F75TA", .shard = 3}, std::move(datasets));
  EXPECT_EQ(obj.meta.min_time(), 1000);
  EXPECT_EQ(obj.meta.max_time(), 3000);
  EXPECT_EQ(ObjectKey(obj.meta), "segments/3/anonymous/01JKT426999WRKSJZ0A43F75TA/block.bin");

  objstore::MemoryBucket bucket;
  std::string key = ObjectKey(obj.meta);
  ASSERT_TRUE(bucket.Put(key, obj.bytes).ok());
  auto reader = ObjectReader::Open(&bucket, key);
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_EQ(reader->meta().datasets_size(), 1);
  EXPECT_EQ(reader->String(reader->meta().datasets(0).name()), "api");
  EXPECT_EQ(reader->String(reader->meta().datasets(0).tenant()), "tenant-a");

  auto series = reader->ReadSeries(0);
  ASSERT_TRUE(series.ok()) << series.status();
  ASSERT_EQ(series->size(), 2u);
  // Canonical order: env=dev before env=prod.
  EXPECT_EQ((*series)[0].labels.Get("env"), "dev");
  EXPECT_EQ((*series)[1].labels.Get("env"), "prod");
  EXPECT_EQ((*series)[1].row_count, 2u);
  EXPECT_EQ((*series)[1].fingerprint, Series("prod").Fingerprint());

  auto symbols = reader->ReadSymbols(0);
  ASSERT_TRUE(symbols.ok()) << symbols.status();
  auto rows = reader->ReadProfiles(0);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ(rows->timestamp_ms[1], 2000);  // prod rows in time order
  EXPECT_EQ(rows->timestamp_ms[2], 3000);
  StackTotals prod = TotalsFromRows(*symbols, *rows, 1);
  EXPECT_EQ(prod, (StackTotals{{"main;a", 7}, {"main;b", 10}}));
  StackTotals dev = TotalsFromRows(*symbols, *rows, 0);
  EXPECT_EQ(dev, (StackTotals{{"main;a", 1}}));

  // Chunks outside the range are skipped, rows outside it dropped.
  auto late = reader->ReadProfiles(0, 2500, 5000);
  ASSERT_TRUE(late.ok());
  ASSERT_EQ(late->size(), 1u);
  EXPECT_EQ(late->timestamp_ms[0], 3000);
}

TEST(Block, ProfileIdsRoundTripOnlyInChunksThatHaveThem) {
  // Two rows per chunk: the first chunk has ids (one row without), the second has none.
  DatasetBuilder builder("t", "api", {.zstd_level = 1, .rows_per_chunk = 2});
  const model::ProfileId a{1, 2}, b{0xffffffffffffffffull, 7};
  builder.Append(Series("prod"), 1000, 0, SmallProfile(1, 1), {}, a);
  builder.Append(Series("prod"), 2000, 0, SmallProfile(2, 2));
  builder.Append(Series("prod"), 3000, 0, SmallProfile(3, 3), {}, b);
  builder.Append(Series("prod"), 4000, 0, SmallProfile(4, 4));
  builder.Append(Series("prod"), 5000, 0, SmallProfile(5, 5));
  std::vector<EncodedDataset> ds;
  ds.push_back(builder.Finish());
  BuiltObject obj = BuildObject({.id = "01JKT426999WRKSJZ0A43F75TA"}, std::move(ds));
  objstore::MemoryBucket bucket;
  ASSERT_TRUE(bucket.Put(ObjectKey(obj.meta), obj.bytes).ok());
  auto reader = ObjectReader::Open(&bucket, ObjectKey(obj.meta));
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto rows = reader->ReadProfiles(0);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 5u);
  EXPECT_EQ(rows->profile_ids, (std::vector<model::ProfileId>{a, {}, b, {}, {}}));
  // Dropping rows outside the range keeps ids with their rows.
  auto some = reader->ReadProfiles(0, 2000, 3000);
  ASSERT_TRUE(some.ok());
  EXPECT_EQ(some->profile_ids, (std::vector<model::ProfileId>{{}, b}));
  EXPECT_EQ(some->timestamp_ms, (std::vector<int64_t>{2000, 3000}));
}

TEST(Block, CorruptionIsAnErrorNamingTheObject) {
  DatasetBuilder builder("t", "svc");
  builder.Append(Series("x"), 1000, 0, SmallProfile(1, 2));
  std::vector<EncodedDataset> ds;
  ds.push_back(builder.Finish());
  BuiltObject obj = BuildObject({.id = "01JKT426999WRKSJZ0A43F75TA"}, std::move(ds));
  objstore::MemoryBucket bucket;
  const auto& d = obj.meta.datasets(0);
  for (int section = 0; section < 3; ++section) {
    std::string bytes = obj.bytes;
    bytes[d.table_of_contents(section) + 3] ^= 0x40;
    ASSERT_TRUE(bucket.Put("k", bytes).ok());
    auto reader = ObjectReader::Open(&bucket, "k");
    ASSERT_TRUE(reader.ok());
    absl::Status st = section == 0   ? reader->ReadSeries(0).status()
                      : section == 1 ? reader->ReadProfiles(0).status()
                                     : reader->ReadSymbols(0).status();
    EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << section;
    EXPECT_NE(st.message().find("object k"), absl::string_view::npos) << st;
  }
  // Footer damage.
  std::string bytes = obj.bytes;
  bytes[bytes.size() - 20] ^= 1;  // inside the metadata
  ASSERT_TRUE(bucket.Put("k", bytes).ok());
  EXPECT_EQ(ObjectReader::Open(&bucket, "k").status().code(), absl::StatusCode::kDataLoss);
  ASSERT_TRUE(bucket.Put("k", obj.bytes.substr(0, obj.bytes.size() - 1)).ok());
  EXPECT_EQ(ObjectReader::Open(&bucket, "k").status().code(), absl::StatusCode::kDataLoss);
  ASSERT_TRUE(bucket.Put("k", "tiny").ok());
  EXPECT_FALSE(ObjectReader::Open(&bucket, "k").ok());
}

std::filesystem::path TestData() {
  if (const char* env = std::getenv("EMBERS_TESTDATA")) return env;
  return "../shared/testdata";
}

// A pprof file of the test data, decoded.
absl::StatusOr<pprof::Profile> DecodeFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return pprof::Decode(ss.str(), {.max_decompressed_size = 64 << 20});
}

// Real profiles: what goes in comes out, stack by stack.
TEST(Block, RealProfilesRoundTrip) {
  auto dir = TestData() / "pyroscope" / "pprof";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "testdata not found at " << dir;
  DatasetBuilder builder("anonymous", "svc", {.zstd_level = 1, .rows_per_chunk = 3});
  std::vector<std::pair<std::string, StackTotals>> expected;
  int64_t ts = 1000;
  for (const char* name :
       {"go_heap_large.pb.gz", "go_cpu_with_labels.pb.gz", "java_asyncprofiler_cpu.pb.gz",
        "nodejs_wall.pb.gz", "native_perf_kernel_cpu.pb.gz"}) {
    auto p = DecodeFile(dir / name);
    ASSERT_TRUE(p.ok()) << name << ": " << p.status();
    model::Labels labels({{"__profile_type__", name}, {"service_name", "svc"}});
    builder.Append(labels, ts++, 0, *p);
    expected.emplace_back(name, TotalsFromProfile(*p));
  }
  std::vector<EncodedDataset> ds;
  ds.push_back(builder.Finish());
  BuiltObject obj = BuildObject(
      {.id = "01JKT426999WRKSJZ0A43F75TA", .compaction_level = 1, .tenant = "anonymous"},
      std::move(ds));
  EXPECT_EQ(ObjectKey(obj.meta), "blocks/0/anonymous/01JKT426999WRKSJZ0A43F75TA/block.bin");
  objstore::MemoryBucket bucket;
  ASSERT_TRUE(bucket.Put("obj", obj.bytes).ok());
  auto reader = ObjectReader::Open(&bucket, "obj");
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto series = reader->ReadSeries(0);
  auto symbols = reader->ReadSymbols(0);
  auto rows = reader->ReadProfiles(0);
  ASSERT_TRUE(series.ok() && symbols.ok() && rows.ok());
  for (const auto& [name, totals] : expected) {
    uint32_t rank = 0;
    while (rank < series->size() && (*series)[rank].labels.Get("__profile_type__") != name) ++rank;
    ASSERT_LT(rank, series->size()) << name;
    EXPECT_EQ(TotalsFromRows(*symbols, *rows, rank), totals) << name;
  }
}

// Sample sets of one source profile: SmallProfile's three locations with the stacks below (leaf
// first), each set a pprof::Profile without symbol tables as SplitBySeries makes them.
pprof::Profile SampleSet(const std::vector<std::vector<uint64_t>>& stacks) {
  pprof::Profile p;
  for (const auto& leaf_first : stacks) {
    AddSample(&p, leaf_first, static_cast<int64_t>(p.samples.size()) + 1);
  }
  return p;
}

// AddProfiles reuses interned symbols and the previous set's stacks; the ids must be those of
// AddProfile per set whatever the sets share: a subsequence, a reordering (beyond the
// comparison window), an empty set, a stack that is a prefix of another, disjoint stacks.
TEST(Symbols, AddProfilesGivesTheIdsOfAddProfilePerSet) {
  const pprof::Profile symbols = SmallProfile(1, 1);
  std::vector<pprof::Profile> sets = {
      SampleSet({{2, 1}, {3, 1}, {1}, {3, 2, 1}, {2}, {3}, {1, 1}}),
      SampleSet({{3, 1}, {3, 2, 1}, {3}}),       // a subsequence of the first
      SampleSet({{3}, {3, 1}, {2, 1}, {1}}),     // reordered
      SampleSet({}),                             // empty
      SampleSet({{1, 2, 3}, {2, 3}, {3}, {3}}),  // new stacks, a repeat, prefixes
      SampleSet({{2, 1}, {3, 1}, {1}, {3, 2, 1}, {2}, {3}, {1, 1}, {2, 2}}),
  };
  SymbolsBuilder separate;
  std::vector<std::vector<uint32_t>> expected(sets.size());
  for (size_t k = 0; k < sets.size(); ++k) separate.AddProfile(sets[k], symbols, &expected[k]);

  SymbolsBuilder together;
  std::vector<const pprof::Profile*> samples;
  std::vector<std::vector<uint32_t>> got(sets.size());
  std::vector<std::vector<uint32_t>*> got_ptrs;
  for (size_t k = 0; k < sets.size(); ++k) {
    samples.push_back(&sets[k]);
    got_ptrs.push_back(&got[k]);
  }
  together.AddProfiles(samples, symbols, got_ptrs);
  EXPECT_EQ(got, expected);
  EXPECT_EQ(together.Encode(), separate.Encode());

  // The ids name the stacks they were given: leaf-first dataset locations map back to the
  // profile's location ids (SmallProfile's location i is interned as i - 1 here, in first use
  // order: 2, 1, 3 for the first stack).
  const Symbols view = together.View();
  std::vector<uint32_t> leaf_first;
  ASSERT_TRUE(view.Stack(got[4][0], &leaf_first));
  std::vector<uint64_t> addresses;
  for (uint32_t l : leaf_first) addresses.push_back(view.locations[l].address);
  EXPECT_EQ(addresses, (std::vector<uint64_t>{0x1000, 0x2000, 0x3000}));
}

// The segment-writer appends the series split from one pushed profile in one call; the encoded
// dataset must be byte for byte the one appending them one by one gives.
TEST(Block, SplitSeriesAppendedTogetherEncodeAsAppendedOneByOne) {
  // CPU profiles made in code: with pprof labels (several series), with span ids, a larger one,
  // and a profile twice.
  const std::string with_labels =
      pprof::testing::SyntheticPprof({.labels = {{"handler", {"/api", "/health", "/metrics"}}}});
  std::vector<std::pair<std::string, std::string>> inputs = {
      {"synthetic with labels", with_labels},
      {"synthetic with span ids", pprof::testing::SyntheticPprof({.span_label = "span_id"})},
      {"synthetic with labels", with_labels},
      {"synthetic, larger",
       pprof::testing::SyntheticPprof({.functions = 200, .samples = 120, .max_depth = 48})}};
  // Where the shared test data is, real ones too: heap (4 types), CPU with pprof labels, span
  // ids, several types with labels, and a profile twice.
  if (auto dir = TestData() / "pyroscope" / "pprof"; std::filesystem::exists(dir)) {
    for (const char* name :
         {"go_heap_delta.pb.gz", "go_cpu_with_labels.pb.gz", "go_cpu_span_id.pb.gz",
          "nodejs_cpu_wall.pb.gz", "dotnet_multi_type_with_labels.pb", "pyspy_with_labels.pb",
          "go_heap_delta.pb.gz", "java_asyncprofiler_cpu.pb.gz"}) {
      inputs.emplace_back(name, pprof::testing::ReadFile(dir / name));
    }
  }
  DatasetBuilder one_by_one("anonymous", "svc");
  DatasetBuilder together("anonymous", "svc");
  int64_t ts = 1000;
  size_t grouped = 0;
  for (const auto& [name, encoded] : inputs) {
    auto p = pprof::Decode(encoded, {.max_decompressed_size = 64 << 20});
    ASSERT_TRUE(p.ok()) << name << ": " << p.status();
    ASSERT_TRUE(pprof::Normalize(&*p, {.max_samples = 0, .now_nanos = 1}).ok()) << name;
    auto split = pprof::SplitBySeries(
        std::move(*p), model::Labels({{"__name__", "process_cpu"}, {"service_name", "svc"}}));
    ASSERT_TRUE(split.ok()) << name << ": " << split.status();
    std::vector<SeriesAppend> group;
    for (const pprof::SeriesProfile& sp : *split) {
      one_by_one.Append(sp.labels, ts, 0, sp.samples, *sp.symbols, sp.span_ids);
      group.push_back({.series = &sp.labels,
                       .timestamp_ms = ts,
                       .samples = &sp.samples,
                       .span_ids = sp.span_ids});
    }
    ASSERT_FALSE(group.empty()) << name;
    grouped += group.size();
    together.Append(group, *split->front().symbols);
    ++ts;
  }
  EXPECT_GT(grouped, 6u);  // some profiles did split into several series
  EncodedDataset a = one_by_one.Finish();
  EncodedDataset b = together.Finish();
  EXPECT_EQ(a.series_section, b.series_section);
  EXPECT_EQ(a.ProfilesSection(), b.ProfilesSection());
  EXPECT_EQ(a.symbols_section, b.symbols_section);
  EXPECT_EQ(a.row_count, b.row_count);
}

}  // namespace
}  // namespace embers::block
