#include "model/tenant_id.h"

#include <string>

#include <gtest/gtest.h>

namespace embers::model {
namespace {

TEST(TenantId, AcceptsCortexTenantIds) {
  for (std::string_view ok : {"anonymous", "team-a", "A.b_c", "x", "it's(1)*!", "..."}) {
    EXPECT_TRUE(ValidateTenantId(ok).ok()) << ok;
  }
  EXPECT_TRUE(ValidateTenantId(std::string(kMaxTenantIdBytes, 'a')).ok());
}

TEST(TenantId, RefusesWhatWouldEscapeAnObjectKeyOrIsTooLong) {
  for (std::string_view bad : {"", ".", "..", "../x", "a/b", "a b", "a\\b", "t\n", "é"}) {
    absl::Status st = ValidateTenantId(bad);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(ValidateTenantId(std::string(kMaxTenantIdBytes + 1, 'a')).ok());
  EXPECT_EQ(ValidateTenantId("a/b").message(), "tenant id contains an unsupported character '/'");
}

}  // namespace
}  // namespace embers::model
