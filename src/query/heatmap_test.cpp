#include "query/heatmap.h"

#include <gtest/gtest.h>

#include <memory>

namespace embers::query {
namespace {

HeatmapPoint Point(int64_t ts, int64_t value, uint64_t profile = 0, uint64_t span = 0) {
  return {.timestamp_ms = ts, .value = value, .profile_id = {0, profile}, .span_id = span};
}

int64_t Sum(const types::v1::HeatmapSlot& slot) {
  int64_t n = 0;
  for (int32_t c : slot.counts()) n += c;
  return n;
}

TEST(Heatmap, SlotsAreRightEdgesOnTheStartGrid) {
  // Upstream's normalizeTimestamp cases.
  EXPECT_EQ(HeatmapSlotOf(50, 200, 1000, 100), 200);  // before start: the first slot
  EXPECT_EQ(HeatmapSlotOf(100, 100, 1000, 100), 100);
  EXPECT_EQ(HeatmapSlotOf(150, 100, 1000, 100), 200);
  EXPECT_EQ(HeatmapSlotOf(200, 100, 1000, 100), 200);  // (100, 200]
  EXPECT_EQ(HeatmapSlotOf(550, 100, 1000, 100), 600);
  EXPECT_EQ(HeatmapSlotOf(1000, 100, 1000, 100), 1000);
  EXPECT_EQ(HeatmapSlotOf(1001, 100, 1000, 100), 1000);  // after end: the last slot
  EXPECT_EQ(HeatmapSlotOf(180, 12, 1000, 200), 212);     // grid offset from 0
  // An end between grid points: the last slot is the next grid point after it.
  EXPECT_EQ(HeatmapSlotOf(1049, 100, 1050, 100), 1100);
  EXPECT_EQ(HeatmapSlotOf(5000, 100, 1050, 100), 1100);
  // One step before start (where the read begins) lands in the first slot.
  EXPECT_EQ(HeatmapSlotOf(1, 100, 1000, 100), 100);
}

TEST(Heatmap, TwentyIntegerBucketsFromMinToMax) {
  std::vector<HeatmapBucket> b = HeatmapBuckets(0, 100);
  ASSERT_EQ(b.size(), 20u);
  EXPECT_EQ(b[0].min, 0);
  EXPECT_EQ(b[0].max, 5);
  EXPECT_EQ(b[19].min, 95);
  EXPECT_EQ(b[19].max, 100);
  EXPECT_EQ(HeatmapBucketOf(0, b), 0);
  EXPECT_EQ(HeatmapBucketOf(4, b), 0);
  EXPECT_EQ(HeatmapBucketOf(5, b), 1);
  EXPECT_EQ(HeatmapBucketOf(99, b), 19);
  EXPECT_EQ(HeatmapBucketOf(100, b), 19);  // the maximum is in the last bucket
  EXPECT_EQ(HeatmapBucketOf(1000, b), 19);
  EXPECT_EQ(HeatmapBucketOf(-1, b), -1);
  // Edges are truncated: 10 / 20 = 0.5 per bucket.
  b = HeatmapBuckets(10, 20);
  EXPECT_EQ(b[0].min, 10);
  EXPECT_EQ(b[1].min, 10);
  EXPECT_EQ(b[2].min, 11);
  EXPECT_EQ(HeatmapBucketOf(10, b), 1);  // bucket 0 is [10, 10): empty
  // A range of 1 (all values equal): every bucket but the last is empty.
  b = HeatmapBuckets(7, 8);
  EXPECT_EQ(HeatmapBucketOf(7, b), 19);
}

TEST(Heatmap, MergesTheValuesOfOneProfileOrOneSpan) {
  auto labels = [](std::initializer_list<std::pair<std::string, std::string>> l) {
    return std::make_shared<const GroupLabels>(l);
  };
  std::vector<HeatmapPoint> points = {Point(10, 1, 7), Point(10, 2, 7),  Point(20, 4, 7),
                                      Point(10, 8, 0), Point(10, 16, 0), Point(10, 32, 9)};
  points[0].labels = labels({{"pod", "a"}, {"thread", "1"}});
  points[1].labels = labels({{"pod", "a"}, {"thread", "2"}});
  MergeHeatmapPoints(false, &points);
  // Profile 7 at t=10 is one point; at t=20 another; points without an id stay alone.
  ASSERT_EQ(points.size(), 5u);
  EXPECT_EQ(points[0].value + points[1].value, 24);  // the two without id, in either order
  EXPECT_EQ(points[2].value, 3);
  EXPECT_EQ(*points[2].labels, (GroupLabels{{"pod", "a"}}));  // the labels both share
  EXPECT_EQ(points[3].value, 32);
  EXPECT_EQ(points[4].value, 4);

  // Spans: one point per span and timestamp whatever profile its samples came from.
  points = {Point(10, 1, 1, 0xa), Point(10, 2, 2, 0xa), Point(10, 4, 1, 0xb), Point(11, 8, 1, 0xa)};
  MergeHeatmapPoints(true, &points);
  ASSERT_EQ(points.size(), 3u);
  EXPECT_EQ(points[0].value, 3);
  EXPECT_EQ(points[0].span_id, 0xau);
  EXPECT_EQ(points[1].value, 4);
  EXPECT_EQ(points[2].value, 8);
}

TEST(Heatmap, RendersCountsPerSlotAndBucketWithOneAxisForAllSeries) {
  std::map<GroupLabels, std::vector<HeatmapPoint>> groups;
  // Grid: start 1000, step 100, end 1300. Values 0..100 over two series.
  groups[{{"pod", "a"}}] = {Point(950, 0, 1), Point(1000, 10, 2), Point(1050, 100, 3),
                            Point(1099, 50, 4), Point(1100, 52, 5)};
  groups[{{"pod", "b"}}] = {Point(1250, 100, 6), Point(1250, 100, 7)};
  groups[{{"pod", "c"}}] = {};  // no points: no series
  google::protobuf::RepeatedPtrField<types::v1::HeatmapSeries> out;
  RenderHeatmap({.start_ms = 1000, .end_ms = 1300, .step_ms = 100, .exemplars = true}, &groups,
                &out);
  ASSERT_EQ(out.size(), 2);
  const types::v1::HeatmapSeries& a = out[0];
  EXPECT_EQ(a.labels(0).value(), "a");
  ASSERT_EQ(a.slots_size(), 2);
  EXPECT_EQ(a.slots(0).timestamp(), 1000);  // 950 and 1000: (900, 1000]
  EXPECT_EQ(a.slots(1).timestamp(), 1100);
  EXPECT_EQ(Sum(a.slots(0)), 2);
  EXPECT_EQ(Sum(a.slots(1)), 3);
  ASSERT_EQ(a.slots(0).counts_size(), 20);
  ASSERT_EQ(a.slots(0).y_min_size(), 20);
  EXPECT_EQ(a.slots(0).y_min(0), 0);
  EXPECT_EQ(a.slots(0).y_min(19), 95);
  EXPECT_EQ(a.slots(0).counts(0), 1);   // 0
  EXPECT_EQ(a.slots(0).counts(2), 1);   // 10
  EXPECT_EQ(a.slots(1).counts(10), 2);  // 50 and 52
  EXPECT_EQ(a.slots(1).counts(19), 1);  // 100
  // One exemplar per non-empty cell, the cell's largest point, in bucket order.
  ASSERT_EQ(a.slots(1).exemplars_size(), 2);
  EXPECT_EQ(a.slots(1).exemplars(0).value(), 52);
  EXPECT_EQ(a.slots(1).exemplars(0).profile_id(), "00000000-0000-0000-0000-000000000005");
  EXPECT_EQ(a.slots(1).exemplars(0).timestamp(), 1100);
  EXPECT_EQ(a.slots(1).exemplars(1).value(), 100);
  EXPECT_EQ(a.slots(1).exemplars(1).span_id(), "");
  const types::v1::HeatmapSeries& b = out[1];
  ASSERT_EQ(b.slots_size(), 1);
  EXPECT_EQ(b.slots(0).timestamp(), 1300);
  EXPECT_EQ(b.slots(0).counts(19), 2);
  // Equal values: the earlier, then the smaller id is the exemplar.
  EXPECT_EQ(b.slots(0).exemplars(0).profile_id(), "00000000-0000-0000-0000-000000000006");
}

TEST(Heatmap, SpanExemplarsNameTheSpanAndEqualValuesGetAWidth) {
  std::map<GroupLabels, std::vector<HeatmapPoint>> groups;
  groups[{}] = {Point(10, 5, 1, 0xab), Point(10, 5, 2, 0xab), Point(20, 10, 1, 0xcd)};
  google::protobuf::RepeatedPtrField<types::v1::HeatmapSeries> out;
  RenderHeatmap({.start_ms = 0, .end_ms = 100, .step_ms = 100, .spans = true, .exemplars = true},
                &groups, &out);
  ASSERT_EQ(out.size(), 1);
  ASSERT_EQ(out[0].slots_size(), 1);
  const types::v1::HeatmapSlot& slot = out[0].slots(0);
  EXPECT_EQ(Sum(slot), 2);  // two spans (span ab merged), both of value 10
  EXPECT_EQ(slot.y_min(0), 10);
  EXPECT_EQ(slot.counts(19), 2);  // axis 10..11: the value is in the last bucket
  ASSERT_EQ(slot.exemplars_size(), 1);
  EXPECT_EQ(slot.exemplars(0).span_id(), "00000000000000ab");  // earliest of equal values
  EXPECT_EQ(slot.exemplars(0).profile_id(), "");
  // Without exemplars none are attached.
  groups[{}] = {Point(10, 5, 1, 0xab)};
  out.Clear();
  RenderHeatmap({.start_ms = 0, .end_ms = 100, .step_ms = 100, .spans = true}, &groups, &out);
  EXPECT_EQ(out[0].slots(0).exemplars_size(), 0);
  // Nothing at all: no series.
  groups.clear();
  out.Clear();
  RenderHeatmap({.start_ms = 0, .end_ms = 100, .step_ms = 100}, &groups, &out);
  EXPECT_TRUE(out.empty());
}

TEST(Heatmap, TopSeriesByTotalCount) {
  std::map<GroupLabels, std::vector<HeatmapPoint>> groups;
  groups[{{"pod", "a"}}] = {Point(10, 1, 1)};
  groups[{{"pod", "b"}}] = {Point(10, 1, 2), Point(10, 2, 3), Point(10, 3, 4)};
  groups[{{"pod", "c"}}] = {Point(10, 1, 5), Point(10, 2, 6)};
  groups[{{"pod", "d"}}] = {Point(10, 1, 7), Point(10, 2, 8)};
  google::protobuf::RepeatedPtrField<types::v1::HeatmapSeries> out;
  RenderHeatmap({.start_ms = 0, .end_ms = 100, .step_ms = 100}, &groups, &out);
  TopHeatmapSeries(0, &out);  // 0: no limit
  ASSERT_EQ(out.size(), 4);
  TopHeatmapSeries(3, &out);
  ASSERT_EQ(out.size(), 3);
  EXPECT_EQ(out[0].labels(0).value(), "b");  // largest first, ties in label order
  EXPECT_EQ(out[1].labels(0).value(), "c");
  EXPECT_EQ(out[2].labels(0).value(), "d");
  TopHeatmapSeries(5, &out);
  EXPECT_EQ(out.size(), 3);
}

}  // namespace
}  // namespace embers::query
