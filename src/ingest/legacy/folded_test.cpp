#include "ingest/legacy/folded.h"

#include <gtest/gtest.h>

#include "base/status.h"
#include "ingest/legacy/testdata_util.h"

namespace embers::ingest {
namespace {

using testing::ReadFileOrDie;

TEST(FoldedTest, ParsesAndMerges) {
  auto s = ParseFolded("a;b;c 3\r\na;b 2\n\na;b;c 4\nno-count-line\nx y;z 1");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->ToFoldedSorted(), "a;b 2\na;b;c 7\nx y;z 1\n");
  EXPECT_EQ(s->num_frames(), 5u);  // a b c "x y" z
  EXPECT_EQ(s->TotalValue(), 10);
}

TEST(FoldedTest, DropsZeroAndKeepsUpstreamSplitting) {
  auto s = ParseFolded("a;b 0\na;;b 1\n;a 1\na; 2\n+5 3\n");
  ASSERT_TRUE(s.ok()) << s.status();
  // Empty names in the middle and at the start are frames; a trailing ';' is not.
  EXPECT_EQ(s->ToFoldedSorted(), "+5 3\n;a 1\na 2\na;;b 1\n");
}

TEST(FoldedTest, NonNumericCountNamesTheLine) {
  auto s = ParseFolded("a;b 1\na;b;c 12x\n");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HttpStatusOverride(s.status()), 422);
  EXPECT_NE(s.status().message().find("line 2"), absl::string_view::npos) << s.status();
  EXPECT_NE(s.status().message().find("12x"), absl::string_view::npos) << s.status();
}

TEST(FoldedTest, RejectsNegativeAndOverflow) {
  EXPECT_FALSE(ParseFolded("a -1\n").ok());
  EXPECT_FALSE(ParseFolded("a 99999999999999999999\n").ok());
  auto s = ParseFolded("a 9223372036854775807\na 1\n");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("overflow"), absl::string_view::npos);
}

TEST(FoldedTest, EnforcesLimits) {
  ParseLimits limits;
  limits.max_stack_depth = 3;
  auto s = ParseFolded("a;b;c;d 1\n", limits);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(HttpStatusOverride(s.status()), 413);
  limits = ParseLimits();
  limits.max_samples = 2;
  EXPECT_FALSE(ParseFolded("a 1\nb 1\nc 1\n", limits).ok());
  EXPECT_TRUE(ParseFolded("a 1\nb 1\na 1\n", limits).ok());
}

TEST(LinesTest, EachLineIsOneSample) {
  auto s = ParseLines("a;b\na;b\r\nc\n\na;b");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->ToFoldedSorted(), "a;b 3\nc 1\n");
}

TEST(FoldedTest, EmptyBody) {
  auto s = ParseFolded("");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->num_samples(), 0u);
}

struct FoldedFile {
  const char* name;
  size_t stacks;
  int64_t total;
};

TEST(FoldedTest, Testdata) {
  EMBERS_REQUIRE_TESTDATA(dir);
  for (const FoldedFile& f : {FoldedFile{"java_itimer_small.folded", 19, 471},
                              FoldedFile{"java_kafka_cpu.folded", 316, 478}}) {
    SCOPED_TRACE(f.name);
    auto s = ParseFolded(ReadFileOrDie(dir + "/folded/" + f.name));
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(s->num_samples(), f.stacks);
    EXPECT_EQ(s->TotalValue(), f.total);
  }
  auto big = ParseFolded(ReadFileOrDie(dir + "/folded/java_kafka_alloc_in_new_tlab_bytes.folded"));
  ASSERT_TRUE(big.ok()) << big.status();
  EXPECT_EQ(big->num_samples(), 1120u);
  EXPECT_GT(big->TotalValue(), 1'000'000'000);
}

TEST(LinesTest, TestdataMatchesFolded) {
  EMBERS_REQUIRE_TESTDATA(dir);
  const std::string lines_body = ReadFileOrDie(dir + "/folded/java_itimer_small.lines");
  auto lines = ParseLines(lines_body);
  ASSERT_TRUE(lines.ok()) << lines.status();
  EXPECT_EQ(lines->TotalValue(), 471);
  auto folded = ParseFolded(ReadFileOrDie(dir + "/folded/java_itimer_small.folded"));
  ASSERT_TRUE(folded.ok()) << folded.status();
  EXPECT_EQ(lines->ToFoldedSorted(), folded->ToFoldedSorted());
}

}  // namespace
}  // namespace embers::ingest
