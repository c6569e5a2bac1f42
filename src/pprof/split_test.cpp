#include "pprof/split.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "pprof/decoder.h"
#include "pprof/encoder.h"
#include "pprof/normalize.h"
#include "pprof/testdata.h"

namespace embers::pprof {
namespace {

using testing::ReadFile;

struct Expected {
  const char* file;
  const char* name;  // __name__
  std::vector<std::string> ids;
};

// Expected profile-type IDs from testdata/pyroscope/README.md (the pprof-only rows; the /ingest
// rows depend on sample_type_config and spy names handled by the ingest layer).
const std::vector<Expected>& ExpectedIds() {
  static const auto* kExpected = new std::vector<Expected>{
      {"pprof/go_cpu_tiny.pb.gz",
       "process_cpu",
       {"process_cpu:samples:count:cpu:nanoseconds",
        "process_cpu:cpu:nanoseconds:cpu:nanoseconds"}},
      {"pprof/go_cpu_with_labels.pb.gz",
       "process_cpu",
       {"process_cpu:samples:count:cpu:nanoseconds",
        "process_cpu:cpu:nanoseconds:cpu:nanoseconds"}},
      {"pprof/go_heap_large.pb.gz",
       "memory",
       {"memory:alloc_objects:count:space:bytes", "memory:alloc_space:bytes:space:bytes",
        "memory:inuse_objects:count:space:bytes", "memory:inuse_space:bytes:space:bytes"}},
      {"pprof/go_heap_delta.pb.gz",
       "memory",
       {"memory:alloc_objects:count:space:bytes", "memory:alloc_space:bytes:space:bytes",
        "memory:inuse_objects:count:space:bytes", "memory:inuse_space:bytes:space:bytes"}},
      {"pprof/go_heap_uncompressed.pb",
       "memory",
       {"memory:alloc_objects:count:space:bytes", "memory:alloc_space:bytes:space:bytes",
        "memory:inuse_objects:count:space:bytes", "memory:inuse_space:bytes:space:bytes"}},
      {"pprof/java_asyncprofiler_cpu.pb.gz",
       "process_cpu",
       {"process_cpu:cpu:nanoseconds:cpu:nanoseconds"}},
      {"pprof/nodejs_cpu_wall.pb.gz",
       "wall",
       {"wall:sample:count:wall:microseconds", "wall:wall:microseconds:wall:microseconds"}},
      {"pprof/nodejs_heap.pb.gz",
       "memory",
       {"memory:inuse_objects:count:inuse_space:bytes",
        "memory:inuse_space:bytes:inuse_space:bytes"}},
      {"pprof/nodejs_heap_objects_space.pb",
       "memory",
       {"memory:objects:count:space:bytes", "memory:space:bytes:space:bytes"}},
      {"pprof/pyspy_with_labels.pb", "process_cpu", {"process_cpu:samples:count::milliseconds"}},
      {"ingest-multipart/req_2_goroutine.pprof",
       "goroutines",
       {"goroutines:goroutine:count:goroutine:count"}},
      {"ingest-multipart/req_3_mutex.pprof",
       "block",
       {"block:contentions:count:contentions:count", "block:delay:nanoseconds:contentions:count"}},
  };
  return *kExpected;
}

NormalizeOptions NoLimits() { return NormalizeOptions{.max_samples = 0, .now_nanos = 1}; }

TEST(Split, ReadmeProfileTypeIds) {
  std::string dir = testing::TestdataDir();
  if (dir.empty()) GTEST_SKIP() << "testdata not found (set EMBERS_TESTDATA)";
  for (const Expected& e : ExpectedIds()) {
    SCOPED_TRACE(e.file);
    auto p = Decode(ReadFile(dir + "/pyroscope/" + e.file), DecodeOptions{0});
    ASSERT_TRUE(p.ok()) << p.status();
    int64_t total0 = p->Total(0);
    ASSERT_TRUE(Normalize(&*p, NoLimits()).ok());
    auto series = SplitBySeries(*std::move(p),
                                model::Labels({{"__name__", e.name}, {"service_name", "svc"}}));
    ASSERT_TRUE(series.ok()) << series.status();
    std::set<std::string> got;
    int64_t split_total0 = 0;
    for (const SeriesProfile& sp : *series) {
      got.insert(sp.type.ID());
      EXPECT_EQ(sp.labels.Get("__profile_type__"), sp.type.ID());
      EXPECT_EQ(sp.labels.labels()[0].name, "__profile_type__");
      EXPECT_EQ(sp.labels.labels()[1].name, "__service_name__");
      EXPECT_EQ(sp.labels.Get("service_name"), "svc");
      EXPECT_EQ(sp.fingerprint, sp.labels.Fingerprint());
      EXPECT_TRUE(sp.span_ids.empty() || sp.span_ids.size() == sp.samples.samples.size());
      EXPECT_TRUE(sp.trace_ids.empty() || sp.trace_ids.size() == sp.samples.samples.size());
      if (sp.type.ID() == e.ids[0]) split_total0 += sp.samples.Total(0);
    }
    EXPECT_EQ(got, std::set<std::string>(e.ids.begin(), e.ids.end()));
    // Values are only moved between series, never lost (negative totals aside).
    if (total0 > 0) {
      EXPECT_EQ(split_total0, total0);
    }
  }
}

TEST(Split, LabelsBecomeSeriesAndSpanIdsStay) {
  std::string dir = testing::TestdataDir();
  if (dir.empty()) GTEST_SKIP() << "testdata not found (set EMBERS_TESTDATA)";
  auto p = Decode(ReadFile(dir + "/pyroscope/pprof/go_cpu_span_id.pb.gz"));
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE(Normalize(&*p, NoLimits()).ok());
  int64_t total = p->Total(1);
  auto series = SplitBySeries(*std::move(p), model::Labels({{"__name__", "process_cpu"}}));
  ASSERT_TRUE(series.ok());
  int64_t got = 0;
  size_t with_span = 0;
  std::set<uint64_t> fps;
  for (const SeriesProfile& sp : *series) {
    EXPECT_FALSE(sp.labels.Has("span_id"));
    EXPECT_FALSE(sp.labels.Has("trace_id"));
    EXPECT_EQ(sp.labels.Get("service_name"), "unknown_service");
    fps.insert(sp.fingerprint);
    if (sp.type.sample_type == "cpu") got += sp.samples.Total(0);
    // This file's span ids ("239") are not 16 hex digits: they stay as sample labels and
    // parse to 0.
    with_span += sp.samples.labels.size();
    EXPECT_TRUE(sp.span_ids.empty());
    // A split profile stands alone once its symbols are copied in.
    auto again = Decode(Encode(sp.ToPprof()));
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->Total(0), sp.samples.Total(0));
  }
  EXPECT_EQ(fps.size(), series->size());
  EXPECT_EQ(got, total);
  EXPECT_GT(with_span, 0u);
}

TEST(Split, SeriesLabelsWinAndProfileIdIsSpanId) {
  // Strings: 0 "", 1 cpu, 2 ns, 3 f, 4 env, 5 prod, 6 dev, 7 profile_id, 8 00000000000000ff
  Profile p;
  for (const char* s :
       {"", "cpu", "ns", "f", "env", "prod", "dev", "profile_id", "00000000000000ff"}) {
    p.strings.push_back(s);
  }
  p.sample_types = {{1, 2}};
  p.functions = {{1, 3, 0, 0, 0}};
  p.lines = {{1, 0, 0}};
  p.locations = {{1, 0, 0, 0, 1, false}};
  p.location_ids = {1, 1, 1};
  p.values = {1, 2, 4};
  p.labels = {{4, 5, 0, 0}, {4, 6, 0, 0}, {7, 8, 0, 0}};
  p.samples = {{0, 1, 0, 1, 0, 1}, {1, 1, 1, 1, 1, 1}, {2, 1, 2, 1, 2, 1}};
  ASSERT_TRUE(Validate(p).ok());

  // Without env in the series labels: two env series plus one without env.
  auto split =
      SplitBySeries(p, model::Labels({{"__name__", "process_cpu"}, {"service_name", "s"}}));
  ASSERT_TRUE(split.ok());
  ASSERT_EQ(split->size(), 3u);
  EXPECT_EQ((*split)[0].labels.Get("env"), "prod");
  EXPECT_EQ((*split)[1].labels.Get("env"), "dev");
  EXPECT_EQ((*split)[2].span_ids, std::vector<uint64_t>{0xff});
  EXPECT_EQ((*split)[0].labels.ToString(),
            "{__profile_type__=\"process_cpu:cpu:ns::\", __service_name__=\"s\", "
            "__name__=\"process_cpu\", __type__=\"cpu\", __unit__=\"ns\", env=\"prod\", "
            "service_name=\"s\"}");

  // env in the series labels wins: one series, the samples of the same stack summed, except
  // the one with a span id, which stays a separate sample.
  split = SplitBySeries(p, model::Labels({{"__name__", "process_cpu"}, {"env", "x"}}));
  ASSERT_TRUE(split.ok());
  ASSERT_EQ(split->size(), 1u);
  const SeriesProfile& sp = (*split)[0];
  EXPECT_EQ(sp.labels.Get("env"), "x");
  ASSERT_EQ(sp.samples.samples.size(), 2u);
  EXPECT_EQ(sp.samples.values, (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(sp.span_ids, (std::vector<uint64_t>{0, 0xff}));
  EXPECT_EQ(sp.symbols->String(sp.samples.labels[0].key), "span_id");
  // The shared symbols keep no sample arrays: those went back to the decoder for reuse.
  EXPECT_TRUE(sp.symbols->samples.empty());
  EXPECT_TRUE(sp.symbols->location_ids.empty());
  EXPECT_FALSE(sp.symbols->locations.empty());
}

// Samples are summed only when both their stacks and their span ids are equal: a stack that is
// a prefix of another plus a span label is not the longer stack, even when the label's key and
// value indexes equal the longer stack's remaining location ids.
TEST(Split, SamplesMergeOnlyOnEqualStackAndSpanLabels) {
  // Strings: 0 "", 1 cpu, 2 ns, 3 span_id, 4 00000000000000aa, 5 f
  Profile p;
  for (const char* s : {"", "cpu", "ns", "span_id", "00000000000000aa", "f"}) {
    p.strings.push_back(s);
  }
  p.sample_types = {{1, 2}};
  p.functions = {{1, 5, 0, 0, 0}};
  p.lines = {{1, 0, 0}};
  for (uint64_t id = 1; id <= 4; ++id) p.locations.push_back({id, 0, 0, 0, 1, false});
  p.location_ids = {1, 1, 3, 4, 1, 1, 1, 1, 3, 4};
  p.values = {1, 2, 4};
  p.labels = {{3, 4, 0, 0}};  // span_id = 00000000000000aa
  p.samples = {{0, 4, 0, 1, 0, 0}, {4, 2, 1, 1, 0, 1}, {6, 4, 2, 1, 1, 0}};
  ASSERT_TRUE(Validate(p).ok());
  auto split = SplitBySeries(p, model::Labels({{"__name__", "process_cpu"}}));
  ASSERT_TRUE(split.ok());
  ASSERT_EQ(split->size(), 1u);
  const SeriesProfile& sp = (*split)[0];
  ASSERT_EQ(sp.samples.samples.size(), 2u);
  EXPECT_EQ(sp.samples.values, (std::vector<int64_t>{5, 2}));  // the third joins the first
  EXPECT_EQ(sp.span_ids, (std::vector<uint64_t>{0, 0xaa}));
}

// Trace ids stay on the samples (not series), parsed per sample; samples of one stack in
// different traces stay apart; a malformed trace id reads as none.
TEST(Split, TraceIdsStayPerSample) {
  // Strings: 0 "", 1 cpu, 2 ns, 3 trace_id, 4 a trace, 5 another, 6 f, 7 not a trace id
  Profile p;
  for (const char* s : {"", "cpu", "ns", "trace_id", "7c9e66797425440de944be07fc1f90ae",
                        "4bf92f3577b34da6a3ce929d0e0e4736", "f", "xyz"}) {
    p.strings.push_back(s);
  }
  p.sample_types = {{1, 2}};
  p.functions = {{1, 6, 0, 0, 0}};
  p.lines = {{1, 0, 0}};
  p.locations = {{1, 0, 0, 0, 1, false}};
  p.location_ids = {1, 1, 1, 1};
  p.values = {1, 2, 4, 8};
  p.labels = {{3, 4, 0, 0}, {3, 5, 0, 0}, {3, 4, 0, 0}, {3, 7, 0, 0}};
  p.samples = {{0, 1, 0, 1, 0, 1}, {1, 1, 1, 1, 1, 1}, {2, 1, 2, 1, 2, 1}, {3, 1, 3, 1, 3, 1}};
  ASSERT_TRUE(Validate(p).ok());
  auto split = SplitBySeries(p, model::Labels({{"__name__", "process_cpu"}}));
  ASSERT_TRUE(split.ok()) << split.status();
  ASSERT_EQ(split->size(), 1u);
  const SeriesProfile& sp = (*split)[0];
  EXPECT_FALSE(sp.labels.Has("trace_id"));
  EXPECT_TRUE(sp.span_ids.empty());
  // The first and third samples share stack and trace: summed.
  EXPECT_EQ(sp.samples.values, (std::vector<int64_t>{5, 2, 8}));
  const model::TraceId a{0x7c9e66797425440d, 0xe944be07fc1f90ae};
  const model::TraceId b{0x4bf92f3577b34da6, 0xa3ce929d0e0e4736};
  EXPECT_EQ(sp.trace_ids, (std::vector<model::TraceId>{a, b, {}}));
}

TEST(Split, SpanIdParsing) {
  EXPECT_EQ(ParseSpanId("00000000000000ff"), 0xffu);
  EXPECT_EQ(ParseSpanId("FFFFFFFFFFFFFFFF"), ~0ull);
  EXPECT_EQ(ParseSpanId("xyz"), 0u);
  EXPECT_EQ(FormatSpanId(0xffu), "00000000000000ff");
  EXPECT_EQ(FormatSpanId(ParseSpanId("0123456789ABCDEF")), "0123456789abcdef");
  EXPECT_EQ(ParseSpanId("00000000000000fg"), 0u);
}

}  // namespace
}  // namespace embers::pprof
