#include "cmd/cli/profile_summary.h"

#include <gtest/gtest.h>

namespace embers::cli {
namespace {

// Functions main(1) → a(2) → b(3), and recursion a → a; values: cpu.
google::v1::Profile MakeProfile() {
  google::v1::Profile p;
  for (const char* s : {"", "cpu", "nanoseconds", "main", "a", "b"}) p.add_string_table(s);
  auto* t = p.add_sample_type();
  t->set_type(1);
  t->set_unit(2);
  for (int i = 1; i <= 3; ++i) {
    auto* f = p.add_function();
    f->set_id(i);
    f->set_name(i + 2);
    auto* loc = p.add_location();
    loc->set_id(i);
    loc->add_line()->set_function_id(i);
  }
  auto add = [&](std::vector<uint64_t> leaf_first, int64_t v) {
    auto* s = p.add_sample();
    for (uint64_t id : leaf_first) s->add_location_id(id);
    s->add_value(v);
  };
  add({3, 2, 1}, 50);  // main;a;b
  add({2, 2, 1}, 30);  // main;a;a (recursion: a counted once in total)
  add({1}, 20);        // main
  add({3, 2, 1}, 0);   // zero values are ignored
  return p;
}

TEST(ProfileSummary, SelfAndTotalCountRecursionOnce) {
  ProfileSummary s = Summarize(MakeProfile(), 0);
  EXPECT_EQ(s.sample_type, "cpu");
  EXPECT_EQ(s.unit, "nanoseconds");
  EXPECT_EQ(s.total, 100);
  ASSERT_EQ(s.functions.size(), 3u);
  EXPECT_EQ(s.functions[0].name, "b");
  EXPECT_EQ(s.functions[0].self, 50);
  EXPECT_EQ(s.functions[0].total, 50);
  EXPECT_EQ(s.functions[1].name, "a");
  EXPECT_EQ(s.functions[1].self, 30);
  EXPECT_EQ(s.functions[1].total, 80);
  EXPECT_EQ(s.functions[2].name, "main");
  EXPECT_EQ(s.functions[2].self, 20);
  EXPECT_EQ(s.functions[2].total, 100);
}

TEST(ProfileSummary, CollapsedStacksAreRootFirstAndMerged) {
  EXPECT_EQ(CollapsedStacks(MakeProfile(), 0), "main 20\nmain;a;a 30\nmain;a;b 50\n");
}

TEST(ProfileSummary, InlinedFramesComeBeforeTheirCaller) {
  google::v1::Profile p = MakeProfile();
  // Location 3 holds b inlined into a.
  p.mutable_location(2)->add_line()->set_function_id(2);
  EXPECT_EQ(CollapsedStacks(p, 0), "main 20\nmain;a;a 30\nmain;a;a;b 50\n");
}

TEST(ProfileSummary, SampleTypeIndexByName) {
  google::v1::Profile p = MakeProfile();
  EXPECT_EQ(*SampleTypeIndex(p, ""), 0);
  EXPECT_EQ(*SampleTypeIndex(p, "cpu"), 0);
  auto missing = SampleTypeIndex(p, "alloc_space");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("it has cpu"), std::string_view::npos);
}

TEST(ProfileSummary, DiffRanksBySelfShareChange) {
  ProfileSummary left;
  left.total = 100;
  left.functions = {{"a", 50, 50}, {"b", 50, 50}};
  ProfileSummary right;
  right.total = 200;
  right.functions = {{"a", 180, 180}, {"c", 20, 20}};
  auto d = DiffSummaries(left, right);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].name, "b");  // 50% → 0%
  EXPECT_DOUBLE_EQ(d[0].right_share, 0.0);
  EXPECT_EQ(d[1].name, "a");  // 50% → 90%
  EXPECT_DOUBLE_EQ(d[1].right_share, 0.9);
  EXPECT_EQ(d[2].name, "c");  // 0% → 10%
}

}  // namespace
}  // namespace embers::cli
