#include "cmd/cli/time_range.h"

#include <gtest/gtest.h>

namespace embers::cli {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'780'000'000);

TEST(TimeRange, RelativeToNow) {
  EXPECT_EQ(*ParseTime("now", kNow, "--to"), 1'780'000'000'000);
  EXPECT_EQ(*ParseTime("now-1h", kNow, "--from"), 1'780'000'000'000 - 3'600'000);
  EXPECT_EQ(*ParseTime("now-30m", kNow, "--from"), 1'780'000'000'000 - 1'800'000);
}

TEST(TimeRange, Rfc3339WithOffsets) {
  EXPECT_EQ(*ParseTime("2026-12-07T10:00:00Z", kNow, "--from"), 1'796'637'600'000);
  EXPECT_EQ(*ParseTime("2026-12-07T11:00:00+01:00", kNow, "--from"), 1'796'637'600'000);
  EXPECT_EQ(*ParseTime("2026-12-07T10:00:00.250Z", kNow, "--from"), 1'796'637'600'250);
}

TEST(TimeRange, UnixSecondsAndMilliseconds) {
  EXPECT_EQ(*ParseTime("1796637600", kNow, "--from"), 1'796'637'600'000);
  EXPECT_EQ(*ParseTime("1796637600123", kNow, "--from"), 1'796'637'600'123);
}

TEST(TimeRange, ErrorsNameTheFlag) {
  auto bad = ParseTime("yesterday", kNow, "--from");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("--from \"yesterday\""), std::string_view::npos);
  EXPECT_FALSE(ParseTime("2026-13-07T10:00:00Z", kNow, "--to").ok());
}

TEST(TimeRange, FromMustPrecedeTo) {
  EXPECT_TRUE(ParseTimeRange("now-1h", "now", kNow).ok());
  auto r = ParseTimeRange("now", "now-1h", kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("must be before"), std::string_view::npos);
}

}  // namespace
}  // namespace embers::cli
