#include "ingest/legacy/profile_kind.h"

#include <gtest/gtest.h>

namespace embers::ingest {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

std::string Id(std::string_view app, uint32_t rate = 100) {
  auto t = ResolveLegacyProfileType(app, rate);
  EXPECT_TRUE(t.ok()) << app << ": " << t.status();
  return t.ok() ? t->ProfileTypeId() : "";
}

TEST(ProfileKindTest, Table) {
  EXPECT_EQ(Id("app"), "process_cpu:cpu:nanoseconds:cpu:nanoseconds");
  EXPECT_EQ(Id("app.cpu"), "process_cpu:cpu:nanoseconds:cpu:nanoseconds");
  EXPECT_EQ(Id("app.itimer"), "process_cpu:cpu:nanoseconds:cpu:nanoseconds");
  EXPECT_EQ(Id("app.cpu", 0), "process_cpu:samples:count::");
  EXPECT_EQ(Id("app.wall"), "wall:wall:nanoseconds:cpu:nanoseconds");
  EXPECT_EQ(Id("app.milliseconds"), "wall:wall:nanoseconds:cpu:nanoseconds");
  EXPECT_EQ(Id("app.inuse_space"), "memory:inuse_space:bytes::");
  EXPECT_EQ(Id("app.alloc_objects"), "memory:alloc_objects:count::");
  EXPECT_EQ(Id("app.goroutines"), "goroutine:goroutines:count::");
  EXPECT_EQ(Id("app.mutex_count"), "mutex:contentions:count::");
  EXPECT_EQ(Id("app.mutex_duration"), "mutex:delay:nanoseconds::");
  EXPECT_EQ(Id("app.block_count"), "block:contentions:count::");
  EXPECT_EQ(Id("app.lock_duration"), "block:delay:nanoseconds::");
  EXPECT_EQ(Id("app.alloc_in_new_tlab_bytes"), "memory:alloc_in_new_tlab_bytes:bytes::");
  EXPECT_EQ(Id("app.alloc_outside_tlab_objects"), "memory:alloc_outside_tlab_objects:count::");
  EXPECT_EQ(Id("app.live"), "memory:live:count::");
  EXPECT_EQ(Id("app.exceptions"), "exceptions:samples:count::");
  EXPECT_EQ(Id("app.bytes"), "memory:samples:bytes::");
}

TEST(ProfileKindTest, Scaling) {
  auto t = ResolveLegacyProfileType("my.app.cpu", 100);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->service_name, "my.app");
  EXPECT_EQ(t->period, 10'000'000);
  EXPECT_EQ(t->value_multiplier, 10'000'000);
  t = ResolveLegacyProfileType("app.alloc_space", 100);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->value_multiplier, 1);
  EXPECT_EQ(t->period, 0);
  EXPECT_FALSE(ResolveLegacyProfileType("app.cpu", 2'000'000'000).ok());
}

TEST(ProfileKindTest, UnknownSuffix) {
  for (const char* app : {"my.app", "app.", "app.CPU"}) {
    auto t = ResolveLegacyProfileType(app, 100);
    ASSERT_FALSE(t.ok()) << app;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(t.status().message().find("unknown profile type"), absl::string_view::npos);
  }
}

TEST(ProfileKindTest, SeriesLabels) {
  AppName app{"svc.cpu", {{"env", "prod"}, {"__hidden__", "x"}, {"__session_id__", "s1"}}};
  auto t = ResolveLegacyProfileType(app.name, 100);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(LegacySeriesLabels(app, *t, "gospy"), (Labels{{"__name__", "process_cpu"},
                                                          {"__delta__", "false"},
                                                          {"pyroscope_spy", "gospy"},
                                                          {"env", "prod"},
                                                          {"__session_id__", "s1"},
                                                          {"service_name", "svc"}}));
  AppName with_service{"svc.cpu", {{"service_name", "real"}}};
  EXPECT_EQ(LegacySeriesLabels(with_service, *t, ""), (Labels{{"__name__", "process_cpu"},
                                                              {"__delta__", "false"},
                                                              {"service_name", "real"},
                                                              {"app_name", "svc"}}));
  AppName with_both{"svc.cpu", {{"service_name", "real"}, {"app_name", "mine"}}};
  EXPECT_EQ(LegacySeriesLabels(with_both, *t, "").size(), 4u);
}

TEST(ProfileKindTest, QueryParams) {
  EXPECT_EQ(*ParseSampleRate(""), 100u);
  EXPECT_EQ(*ParseSampleRate("97"), 97u);
  EXPECT_EQ(*ParseSampleRate("abc"), 100u);
  EXPECT_FALSE(ParseSampleRate("-5").ok());
  EXPECT_FALSE(ParseSampleRate("99999999999").ok());
  EXPECT_EQ(*ParseAggregationType(""), AggregationType::kSum);
  EXPECT_EQ(*ParseAggregationType("average"), AggregationType::kAverage);
  EXPECT_FALSE(ParseAggregationType("max").ok());
}

}  // namespace
}  // namespace embers::ingest
