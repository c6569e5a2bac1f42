#include "ingest/legacy/flamebearer_profile.h"

#include <gtest/gtest.h>

namespace embers::ingest {
namespace {

std::string Doc(std::string_view levels, std::string_view format = "single") {
  return std::string(R"({"version":1,"flamebearer":{"names":["total","main","a","b"],"levels":)") +
         std::string(levels) + R"(,"numTicks":10,"maxSelf":5},"metadata":{"format":")" +
         std::string(format) + R"(","name":"cpu","units":"samples","sampleRate":100}})";
}

TEST(FlamebearerProfile, NodesSelvesOnTheirStacks) {
  // main (self 2) with children a (5) and b, whose x offset is delta-encoded after a (3).
  absl::StatusOr<FlamebearerProfile> p =
      ParseFlamebearerProfile(Doc("[[0,10,0,0],[0,10,2,1],[0,5,5,2,0,3,3,3]]"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->name, "cpu");
  EXPECT_EQ(p->units, "samples");
  EXPECT_EQ(p->stacks.ToFoldedSorted(), "main 2\nmain;a 5\nmain;b 3\n");
  // A gap in x: b (delta 2 after a) still belongs to main.
  p = ParseFlamebearerProfile(Doc("[[0,12,0,0],[0,12,2,1],[0,5,5,2,2,3,3,3]]"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->stacks.ToFoldedSorted(), "main 2\nmain;a 5\nmain;b 3\n");
}

TEST(FlamebearerProfile, MalformedDocumentsAre422) {
  for (const std::string& bad : {
           std::string("not json"), std::string("[1,2]"), Doc("[[0,10,0,0],[0,10,2,1]]", "double"),
           Doc("[[0,10,0,0],[0,10,2]]"),             // not quadruples
           Doc("[[0,10,0,0],[0,10,2,9]]"),           // name index out of range
           Doc("[[0,10,0,0],[0,10,-2,1]]"),          // negative self
           Doc("[[0,10,0,0],[0,10,12,1]]"),          // self above total
           Doc("[[0,10,0,0],[0,10,2,\"x\"]]"),       // not an integer
           Doc("[[0,10,0,0],[5,5,0,1],[0,5,5,2]]"),  // a node left of every parent
       }) {
    absl::StatusOr<FlamebearerProfile> p = ParseFlamebearerProfile(bad);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << p.status();
  }
}

TEST(FlamebearerProfile, WorkIsBounded) {
  // One deep chain and many leaves at its bottom: rebuilding each leaf's stack is bounded.
  std::string levels = "[[0,100,0,0]";
  for (int i = 0; i < 50; ++i) levels += ",[0,100,0,1]";
  levels += ",[";
  for (int i = 0; i < 100; ++i) levels += std::string(i ? "," : "") + "0,1,1,2";
  levels += "]]";
  absl::StatusOr<FlamebearerProfile> p =
      ParseFlamebearerProfile(Doc(levels), {.max_total_frames = 1000});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kResourceExhausted) << p.status();
}

}  // namespace
}  // namespace embers::ingest
