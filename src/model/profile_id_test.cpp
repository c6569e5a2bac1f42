#include "model/profile_id.h"

#include <gtest/gtest.h>

namespace embers::model {
namespace {

TEST(ProfileId, ParsesAndFormatsUuids) {
  std::optional<ProfileId> id = ParseProfileId("0123ABCD-4567-89ab-cdef-0123456789AB");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->hi, 0x0123abcd456789abull);
  EXPECT_EQ(id->lo, 0xcdef0123456789abull);
  EXPECT_EQ(FormatProfileId(*id), "0123abcd-4567-89ab-cdef-0123456789ab");
  for (const char* bad :
       {"", "e2e", "0123abcd-4567-89ab-cdef-0123456789a", "0123abcd_4567-89ab-cdef-0123456789ab",
        "0123abcd-4567-89ab-cdef-0123456789ag"}) {
    EXPECT_FALSE(ParseProfileId(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace embers::model
