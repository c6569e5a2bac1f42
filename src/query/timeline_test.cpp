#include "query/timeline.h"

#include <gtest/gtest.h>

namespace embers::query {
namespace {

TEST(Timeline, StepFollowsPyroscopeLadder) {
  EXPECT_EQ(TimelineStepSeconds(0, 3600'000), 15);              // 2.4 s → minimum 15 s
  EXPECT_EQ(TimelineStepSeconds(0, 6 * 3600'000), 15);          // 14.4 s
  EXPECT_EQ(TimelineStepSeconds(0, 8 * 3600'000), 20);          // 19.2 s
  EXPECT_EQ(TimelineStepSeconds(0, 12 * 3600'000), 30);         // 28.8 s
  EXPECT_EQ(TimelineStepSeconds(0, 24 * 3600'000), 60);         // 57.6 s
  EXPECT_EQ(TimelineStepSeconds(0, 7 * 24 * 3600'000ll), 300);  // 403 s → 5 m
}

TEST(Timeline, BackfillsMissingStepsWithZeros) {
  types::v1::Series s;
  auto add = [&s](int64_t t, double v) {
    auto* p = s.add_points();
    p->set_timestamp(t);
    p->set_value(v);
  };
  add(5'000, 99);   // before the window: dropped
  add(30'000, 1);   // step 1
  add(75'000, 2);   // step 4
  add(120'000, 3);  // at the end: outside [from, until)
  Timeline t = BuildTimeline(s, 15'000, 120'000, 15);
  EXPECT_EQ(t.start_time, 15);
  EXPECT_EQ(t.duration_delta, 15);
  EXPECT_EQ(t.samples, (std::vector<uint64_t>{0, 1, 0, 0, 2, 0, 0}));
  EXPECT_EQ(BuildTimeline(types::v1::Series(), 0, 60'000, 15).samples.size(), 4u);
  EXPECT_TRUE(BuildTimeline(s, 10, 10, 15).samples.empty());
}

}  // namespace
}  // namespace embers::query
