#include "ingest/adapters/adhoc_file.h"

#include <gtest/gtest.h>

#include "pprof/encoder.h"

namespace embers::ingest {
namespace {

constexpr std::string_view kCollapsed = "main;work 30\nmain;idle 10\n";
constexpr std::string_view kPerf =
    "app 10 [000] 1.0: cpu-clock:\n\t1 work (/bin/app)\n\t2 main (/bin/app)\n\n";

TEST(AdHocFile, DetectsFormatsAsUpstreamDoes) {
  auto detect = [](std::string_view name, std::string_view bytes) {
    absl::StatusOr<AdHocFormat> f = DetectAdHocFormat(name, bytes);
    return f.ok() ? std::string(AdHocFormatName(*f)) : "error";
  };
  EXPECT_EQ(detect("x.json", "main 1"), "json");  // the extension decides
  EXPECT_EQ(detect("x.collapsed", "{"), "collapsed");
  EXPECT_EQ(detect("x.txt", kPerf), "perf_script");
  EXPECT_EQ(detect("x.txt", kCollapsed), "collapsed");
  EXPECT_EQ(detect("cpu", "{\"version\":1}"), "json");
  EXPECT_EQ(detect("cpu", "\x1f\x8b..."), "pprof");
  EXPECT_EQ(detect("cpu", std::string("\x0a\x02\x08\x01", 4)), "pprof");
  EXPECT_EQ(detect("cpu", kPerf), "perf_script");
  EXPECT_EQ(detect("cpu", kCollapsed), "collapsed");
  EXPECT_EQ(detect("cpu", "x"), "error");
}

int64_t Total(const pprof::Profile& p) {
  int64_t total = 0;
  for (int64_t v : p.values) total += v;
  return total;
}

TEST(AdHocFile, DecodesEveryFormatToOneSampleType) {
  absl::StatusOr<pprof::Profile> p = DecodeAdHocFile("stacks.txt", kCollapsed, 1 << 20);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->sample_types.size(), 1u);
  EXPECT_EQ(p->String(p->sample_types[0].type), "samples");
  EXPECT_EQ(Total(*p), 40);
  p = DecodeAdHocFile("perf.data.txt", kPerf, 1 << 20);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(Total(*p), 1);
  p = DecodeAdHocFile("fg.json",
                      R"({"version":1,"flamebearer":{"names":["total","main","a"],)"
                      R"("levels":[[0,7,0,0],[0,7,2,1],[0,5,5,2]]},)"
                      R"("metadata":{"format":"single","name":"alloc_space","units":"bytes"}})",
                      1 << 20);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->String(p->sample_types[0].type), "alloc_space");
  EXPECT_EQ(p->String(p->sample_types[0].unit), "bytes");
  EXPECT_EQ(Total(*p), 7);
  // pprof as it was.
  const std::string encoded = pprof::Encode(*DecodeAdHocFile("s.txt", kCollapsed, 1 << 20));
  p = DecodeAdHocFile("cpu.pb", encoded, 1 << 20);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(Total(*p), 40);
}

TEST(AdHocFile, ErrorsNameTheDetectedFormat) {
  absl::StatusOr<pprof::Profile> p = DecodeAdHocFile("x.collapsed", "main;work lots\n", 1 << 20);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("collapsed"), std::string_view::npos) << p.status();
  p = DecodeAdHocFile("x.collapsed", kCollapsed, 8);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kResourceExhausted) << p.status();
}

}  // namespace
}  // namespace embers::ingest
