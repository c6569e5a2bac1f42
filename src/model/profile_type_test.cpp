#include "model/profile_type.h"

#include <gtest/gtest.h>

namespace embers::model {
namespace {

TEST(ProfileType, IdAndParse) {
  ProfileType t{"process_cpu", "cpu", "nanoseconds", "cpu", "nanoseconds"};
  EXPECT_EQ(t.ID(), "process_cpu:cpu:nanoseconds:cpu:nanoseconds");
  auto parsed = ParseProfileType(t.ID());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, t);
}

TEST(ProfileType, EmptyPeriodAndSixthPart) {
  auto p = ParseProfileType("process_cpu:cpu:nanoseconds::nanoseconds");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->period_type, "");
  EXPECT_EQ(p->period_unit, "nanoseconds");
  auto six = ParseProfileType("memory:alloc_space:bytes:space:bytes:delta");
  ASSERT_TRUE(six.ok());
  EXPECT_EQ(six->ID(), "memory:alloc_space:bytes:space:bytes");
}

TEST(ProfileType, Errors) {
  for (const char* bad : {"", "cpu", "a:b:c:d", "a:b:c:d:e:f:g"}) {
    auto p = ParseProfileType(bad);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(p.status().message().find(std::string("\"") + bad + "\""), std::string::npos)
        << p.status();
  }
}

}  // namespace
}  // namespace embers::model
