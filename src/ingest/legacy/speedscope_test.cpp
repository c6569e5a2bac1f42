#include "ingest/legacy/speedscope.h"

#include <gtest/gtest.h>

#include "base/status.h"
#include "base/strings.h"
#include "ingest/legacy/testdata_util.h"

namespace embers::ingest {
namespace {

using testing::ReadFileOrDie;

TEST(SpeedscopeTest, EventedTestdata) {
  EMBERS_REQUIRE_TESTDATA(dir);
  auto p = ParseSpeedscope(ReadFileOrDie(dir + "/speedscope/simple.speedscope.json"));
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->size(), 1u);
  EXPECT_EQ((*p)[0].name, "simple.txt");
  EXPECT_EQ((*p)[0].unit, SpeedscopeUnit::kNone);
  EXPECT_EQ((*p)[0].samples.ToFoldedSorted(), "a;b 500\na;b;c 500\na;b;d 400\n");
  EXPECT_EQ(SpeedscopeDefaultSampleRate((*p)[0].unit), 10000u);
}

TEST(SpeedscopeTest, SampledTestdata) {
  EMBERS_REQUIRE_TESTDATA(dir);
  auto p = ParseSpeedscope(ReadFileOrDie(dir + "/speedscope/two-sampled.speedscope.json"));
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->size(), 2u);
  EXPECT_EQ((*p)[0].name, "one");
  EXPECT_EQ((*p)[1].name, "two");
  for (const SpeedscopeProfile& prof : *p) {
    EXPECT_EQ(prof.unit, SpeedscopeUnit::kSeconds);
    EXPECT_EQ(SpeedscopeUnitName(prof.unit), "seconds");
    EXPECT_EQ(prof.samples.ToFoldedSorted(), "a;b 500\na;b;c 500\na;b;d 400\n");
  }
  auto bytes =
      ParseSpeedscope(ReadFileOrDie(dir + "/speedscope/two-sampled-bytes.speedscope.json"));
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  ASSERT_EQ(bytes->size(), 2u);
  EXPECT_EQ((*bytes)[0].unit, SpeedscopeUnit::kBytes);
  EXPECT_EQ((*bytes)[0].samples.ToFoldedSorted(), "a;b 5\na;b;c 5\na;b;d 4\n");
  EXPECT_EQ(SpeedscopeDefaultSampleRate(SpeedscopeUnit::kBytes), 0u);
}

std::string File(std::string_view profiles,
                 std::string_view frames = R"([{"name":"a"},{"name":"b"}])") {
  return StrCat(
      R"({"$schema":"https://www.speedscope.app/file-format-schema.json","shared":{"frames":)",
      frames, R"(},"profiles":)", profiles, "}");
}

TEST(SpeedscopeTest, MergesDuplicatesAndKeepsFractions) {
  const std::string p1 =
      R"({"type":"sampled","name":"p","unit":"milliseconds","startValue":0,"samples":[[0,1]],"weights":[0.5]})";
  auto p = ParseSpeedscope(File(StrCat("[", p1, ",", p1, "]")));
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->size(), 1u);
  EXPECT_EQ((*p)[0].samples.ToFoldedSorted(), "a;b 100\n");
}

TEST(SpeedscopeTest, NestedOpenChargesParent) {
  // a open 0..10, b open 4..6: a alone gets 4 + 4 = 8, a;b gets 2 (×100).
  auto p = ParseSpeedscope(File(
      R"([{"type":"evented","name":"e","unit":"none","startValue":0,"events":[
          {"type":"O","frame":0,"at":0},{"type":"O","frame":1,"at":4},
          {"type":"C","frame":1,"at":6},{"type":"C","frame":0,"at":10}]}])"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ((*p)[0].samples.ToFoldedSorted(), "a 800\na;b 200\n");
}

TEST(SpeedscopeTest, Errors) {
  struct Case {
    std::string body;
    const char* want;
  };
  const std::string sampled = R"({"type":"sampled","name":"p","unit":"seconds",)";
  const std::string evented = R"({"type":"evented","name":"p","unit":"seconds",)";
  for (const Case& c : std::vector<Case>{
           {"{\"$schema\": ", "invalid JSON at byte"},
           {"[1,2]", "want a JSON object"},
           {R"({"$schema":"x"})", "unknown schema"},
           {File(R"([{"type":"sampled","unit":"parsecs"}])"), "invalid profile unit"},
           {File(R"([{"type":"fancy","unit":"none"}])"), "not supported"},
           {File("[" + sampled + R"("samples":[[0]],"weights":[]}])"), "1 samples but 0 weights"},
           {File("[" + sampled + R"("samples":[[2]],"weights":[1]}])"), "invalid frame index 2"},
           {File("[" + sampled + R"("samples":[[-1]],"weights":[1]}])"), "invalid frame index"},
           {File("[" + sampled + R"("samples":[[0.5]],"weights":[1]}])"), "invalid frame index"},
           {File("[" + sampled + R"("samples":[[0]],"weights":[-1]}])"), "negative weight"},
           {File("[" + sampled + R"("samples":[0],"weights":[1]}])"), "want an array"},
           {File("[" + evented +
                 R"("events":[{"type":"O","frame":0,"at":5},{"type":"C","frame":0,"at":4}]}])"),
            "out of order"},
           {File("[" + evented + R"("events":[{"type":"C","frame":0,"at":1}]}])"), "no open frame"},
           {File("[" + evented +
                 R"("events":[{"type":"O","frame":0,"at":1},{"type":"C","frame":1,"at":2}]}])"),
            "not open"},
           {File("[" + evented + R"("events":[{"type":"X","frame":0,"at":1}]}])"),
            "unknown event type"},
           {File("[" + evented + R"("events":[{"type":"O","at":1}]}])"), "missing frame"},
       }) {
    auto p = ParseSpeedscope(c.body);
    ASSERT_FALSE(p.ok()) << c.body;
    EXPECT_EQ(HttpStatusOverride(p.status()), 422) << c.body;
    EXPECT_NE(p.status().message().find(c.want), absl::string_view::npos)
        << c.body << " → " << p.status();
  }
}

}  // namespace
TEST(SpeedscopeTest, DeepNestingIsRefusedWithoutBuildingIt) {
  // 4 million nested arrays in a member nobody reads: a JSON document would allocate for each
  // level; the streaming reader stops at the nesting limit.
  const std::string bomb = R"({"$schema":"https://www.speedscope.app/file-format-schema.json",)"
                           R"("junk":)" +
                           std::string(4'000'000, '[') + std::string(4'000'000, ']') + "}";
  auto p = ParseSpeedscope(bomb);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(HttpStatusOverride(p.status()), 413) << p.status();
  EXPECT_NE(p.status().message().find("nested deeper"), absl::string_view::npos) << p.status();
}

TEST(SpeedscopeTest, MembersInAnyOrderAndUnknownOnesSkipped) {
  // Profiles before the shared frames, unknown members (nested) anywhere.
  const std::string body =
      R"({"profiles":[{"type":"sampled","name":"p","unit":"none","x":{"y":[1,[2]]},)"
      R"("samples":[[0,1],[1]],"weights":[2,3]}],"exporter":"t",)"
      R"("shared":{"frames":[{"name":"a","file":"f.go"},{"name":"b","line":3}]},)"
      R"("$schema":"https://www.speedscope.app/file-format-schema.json"})";
  auto p = ParseSpeedscope(body);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->size(), 1u);
  const StackSamples& s = (*p)[0].samples;
  ASSERT_EQ(s.num_samples(), 2u);
  int64_t total = 0;
  for (size_t i = 0; i < s.num_samples(); ++i) total += s.value(i);
  EXPECT_EQ(total, 500);  // (2 + 3) × 100 for unit none
}

TEST(SpeedscopeTest, ContainersWhereScalarsBelongAreTypeErrors) {
  const std::string head = R"({"$schema":"https://www.speedscope.app/file-format-schema.json",)";
  for (const auto& [body, want] : std::vector<std::pair<std::string, std::string>>{
           {head + R"("shared":{"frames":[{"name":{"a":1}}]}})", "want a string"},
           {head + R"("profiles":[{"type":"sampled","unit":"none","samples":[[[0]]],)"
                   R"("weights":[1]}],"shared":{"frames":[{"name":"a"}]}})",
            "frame index is not a number"},
           {head + R"("profiles":[{"type":"sampled","unit":"none","samples":[[0]],)"
                   R"("weights":[[1]]}]})",
            "want a number"},
           {head + R"("profiles":5})", "want an array"},
           {head + R"("profiles":[{"type":"evented","unit":"none","events":[{"type":"O",)"
                   R"("at":1,"frame":[0]}]}]})",
            "frame index is not a number"},
       }) {
    auto p = ParseSpeedscope(body);
    ASSERT_FALSE(p.ok()) << body;
    EXPECT_EQ(HttpStatusOverride(p.status()), 422) << body << " → " << p.status();
    EXPECT_NE(p.status().message().find(want), absl::string_view::npos)
        << body << " → " << p.status();
  }
}

}  // namespace embers::ingest
