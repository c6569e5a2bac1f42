#include "ingest/legacy/time_param.h"

#include <gtest/gtest.h>

#include <limits>

namespace embers::ingest {
namespace {

constexpr int64_t kNow = 1'700'000'000'123'456'789;
constexpr int64_t kS = 1'000'000'000;

int64_t Parse(std::string_view v) {
  auto t = ParseTimeParam(v, kNow, "from");
  EXPECT_TRUE(t.ok()) << v << ": " << t.status();
  return t.ok() ? *t : 0;
}

TEST(TimeParamTest, UnixByMagnitude) {
  EXPECT_EQ(Parse("1700000000"), 1'700'000'000 * kS);
  EXPECT_EQ(Parse("1700000000123"), 1'700'000'000'123'000'000);
  EXPECT_EQ(Parse("1700000000123456"), 1'700'000'000'123'456'000);
  EXPECT_EQ(Parse("1700000000123456789"), 1'700'000'000'123'456'789);
  EXPECT_EQ(Parse(" 1_700_000_000 "), 1'700'000'000 * kS);
  EXPECT_EQ(Parse("0"), 0);
}

TEST(TimeParamTest, Dates) {
  EXPECT_EQ(Parse("20231114"), 1'699'920'000 * kS);
  // Not a date: read as unix seconds.
  EXPECT_EQ(Parse("20231399"), 20'231'399 * kS);
  EXPECT_EQ(Parse("18000101"), 18'000'101 * kS);
}

TEST(TimeParamTest, Relative) {
  EXPECT_EQ(Parse(""), kNow);
  EXPECT_EQ(Parse("now"), kNow);
  EXPECT_EQ(Parse("now-1h"), kNow - 3600 * kS);
  EXPECT_EQ(Parse("now-30m"), kNow - 1800 * kS);
  EXPECT_EQ(Parse("now-30min"), kNow - 1800 * kS);
  EXPECT_EQ(Parse("now+10s"), kNow + 10 * kS);
  EXPECT_EQ(Parse("-1d"), kNow - 86400 * kS);
  EXPECT_EQ(Parse("now-1h30m"), kNow - 5400 * kS);
  EXPECT_EQ(Parse("now-1M"), kNow - 30 * 86400 * kS);
  EXPECT_EQ(Parse("now-2w"), kNow - 14 * 86400 * kS);
  EXPECT_EQ(Parse("now-1y"), kNow - 365 * 86400 * kS);
  // Offsets saturate instead of wrapping around.
  EXPECT_EQ(Parse("now-999999999999y"), kNow + std::numeric_limits<int64_t>::min());
  EXPECT_EQ(Parse("now+999999999999y"), std::numeric_limits<int64_t>::max());
}

TEST(TimeParamTest, Errors) {
  for (const char* bad :
       {"yesterday", "now-", "now-1", "now-1x", "now-h", "2023-11-14", "99999999999999999999"}) {
    auto t = ParseTimeParam(bad, kNow, "until");
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(t.status().message().substr(0, 6), "until:") << t.status();
  }
}

}  // namespace
}  // namespace embers::ingest
