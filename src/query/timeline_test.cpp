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
  add(15'000, 98);  // at `from`: the profiles of the step before it, dropped
  add(30'000, 1);   // (15 s, 30 s]: step 0
  add(75'000, 2);   // (60 s, 75 s]: step 3
  add(120'000, 3);  // (105 s, 120 s]: the newest step, 6
  Timeline t = BuildTimeline(s, 15'000, 120'000, 15);
  EXPECT_EQ(t.start_time, 15);
  EXPECT_EQ(t.duration_delta, 15);
  EXPECT_EQ(t.samples, (std::vector<uint64_t>{1, 0, 0, 2, 0, 0, 3}));
  // A range that is not whole steps ends with a partial step, which holds what was just pushed:
  // SelectSeries puts it in the point at that step's end, after `until`.
  add(135'000, 4);
  EXPECT_EQ(BuildTimeline(s, 15'000, 125'000, 15).samples,
            (std::vector<uint64_t>{1, 0, 0, 2, 0, 0, 3, 4}));
  EXPECT_EQ(BuildTimeline(types::v1::Series(), 0, 60'000, 15).samples.size(), 4u);
  EXPECT_TRUE(BuildTimeline(s, 10, 10, 15).samples.empty());
}

}  // namespace
}  // namespace embers::query
