#include "model/trace_id.h"

#include <gtest/gtest.h>

namespace embers::model {
namespace {

TEST(TraceId, ParsesAndFormatsHex) {
  std::optional<TraceId> id = ParseTraceId("7C9E66797425440de944be07fc1f90ae");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->hi, 0x7c9e66797425440dull);
  EXPECT_EQ(id->lo, 0xe944be07fc1f90aeull);
  EXPECT_EQ(FormatTraceId(*id), "7c9e66797425440de944be07fc1f90ae");
  EXPECT_EQ(FormatTraceId(TraceId{.hi = 1, .lo = 2}), "00000000000000010000000000000002");
  for (const char* bad : {"", "7c9e66797425440d", "7c9e66797425440de944be07fc1f90a",
                          "7c9e66797425440de944be07fc1f90aeff", "7c9e6679-7425-440d-e944-be07fc1f",
                          "7c9e66797425440de944be07fc1f90ag"}) {
    EXPECT_FALSE(ParseTraceId(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace embers::model
