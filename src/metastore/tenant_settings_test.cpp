#include "metastore/tenant_settings.h"

#include <gtest/gtest.h>

namespace embers::metastore {
namespace {

v1::SetTenantSettingRequest Req(std::string tenant, std::string name, std::string value,
                                int64_t modified = 0) {
  v1::SetTenantSettingRequest r;
  r.set_tenant_id(std::move(tenant));
  r.mutable_setting()->set_name(std::move(name));
  r.mutable_setting()->set_value(std::move(value));
  r.mutable_setting()->set_modified_at_ms(modified);
  return r;
}

TEST(TenantSettings, SetGetPerTenantSortedByName) {
  TenantSettings s;
  ASSERT_TRUE(s.Set(Req("a", "zeta", "1"), 100).ok());
  absl::StatusOr<v1::TenantSetting> stored = s.Set(Req("a", "alpha", "2", 50), 100);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->modified_at_ms(), 50);  // the caller's time is kept
  ASSERT_TRUE(s.Set(Req("b", "alpha", "other tenant"), 100).ok());
  std::vector<v1::TenantSetting> a = s.Get("a");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].name(), "alpha");
  EXPECT_EQ(a[0].value(), "2");
  EXPECT_EQ(a[1].name(), "zeta");
  EXPECT_EQ(a[1].modified_at_ms(), 100);  // none given: the command's time
  EXPECT_EQ(s.Get("b").at(0).value(), "other tenant");
  EXPECT_TRUE(s.Get("nobody").empty());
}

TEST(TenantSettings, OlderWriteIsRefusedEqualOrNewerReplaces) {
  TenantSettings s;
  ASSERT_TRUE(s.Set(Req("t", "k", "v1", 200), 0).ok());
  absl::StatusOr<v1::TenantSetting> old = s.Set(Req("t", "k", "v0", 199), 0);
  EXPECT_EQ(old.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.Get("t").at(0).value(), "v1");
  ASSERT_TRUE(s.Set(Req("t", "k", "v2", 200), 0).ok());
  ASSERT_TRUE(s.Set(Req("t", "k", "v3", 201), 0).ok());
  EXPECT_EQ(s.Get("t").at(0).value(), "v3");
}

TEST(TenantSettings, BadRequestsAndBoundsChangeNothing) {
  TenantSettingsLimits limits{.max_name_bytes = 8,
                              .max_value_bytes = 16,
                              .max_settings_per_tenant = 2,
                              .max_total_bytes = 28};
  TenantSettings s(limits);
  EXPECT_EQ(s.Set(Req("", "k", "v"), 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.Set(Req("t", "", "v"), 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.Set(Req("t", "too-long-name", "v"), 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.Set(Req("t", "k", std::string(17, 'v')), 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.Set(Req("t", "k", "\xff"), 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.total_bytes(), 0u);

  ASSERT_TRUE(s.Set(Req("t", "a", "1"), 1).ok());
  ASSERT_TRUE(s.Set(Req("t", "b", "2"), 1).ok());
  EXPECT_EQ(s.Set(Req("t", "c", "3"), 1).status().code(), absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(s.Set(Req("t", "a", "replaced"), 2).ok());  // replacing is not adding
  EXPECT_EQ(s.total_bytes(), 1u + (1 + 8) + (1 + 1));
  // 28 bytes in all, 12 used: another tenant with a 16-byte value (18 bytes) does not fit.
  EXPECT_EQ(s.Set(Req("u", "k", std::string(16, 'x')), 1).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(s.Get("u").empty());
}

TEST(TenantSettings, ApiTokensTableRemovesOnEmptyValueAndHasItsOwnBound) {
  TenantSettings s({.max_settings_per_tenant = 1, .max_api_tokens = 3});
  const std::string tokens(kApiTokensTenant);
  ASSERT_TRUE(s.Set(Req(tokens, "a", "record-a"), 1).ok());
  ASSERT_TRUE(s.Set(Req(tokens, "b", "record-b"), 1).ok());
  ASSERT_TRUE(s.Set(Req(tokens, "c", "record-c"), 1).ok());
  EXPECT_EQ(s.Set(Req(tokens, "d", "record-d"), 1).status().code(),
            absl::StatusCode::kResourceExhausted);
  // Revoking removes the entry and frees its place and bytes.
  const size_t before = s.total_bytes();
  ASSERT_TRUE(s.Set(Req(tokens, "b", ""), 2).ok());
  EXPECT_EQ(s.total_bytes(), before - (1 + 8));
  ASSERT_EQ(s.Get(tokens).size(), 2u);
  EXPECT_TRUE(s.Set(Req(tokens, "d", "record-d"), 1).ok());
  EXPECT_TRUE(s.Set(Req(tokens, "never-stored", ""), 1).ok());
  EXPECT_EQ(s.Get(tokens).size(), 3u);
  // An empty value in an ordinary tenant is a value like any other.
  ASSERT_TRUE(s.Set(Req("t", "k", ""), 1).ok());
  ASSERT_EQ(s.Get("t").size(), 1u);
}

TEST(TenantSettings, SnapshotRoundTripAndCorruptEntriesRefused) {
  TenantSettings s;
  ASSERT_TRUE(s.Set(Req("a", "x", "1", 5), 0).ok());
  ASSERT_TRUE(s.Set(Req("b", "y", "2", 6), 0).ok());
  google::protobuf::RepeatedPtrField<v1::SetTenantSettingRequest> pairs;
  s.AppendTo(&pairs);
  ASSERT_EQ(pairs.size(), 2);

  TenantSettings restored;
  ASSERT_TRUE(restored.Set(Req("gone", "z", "3"), 1).ok());
  absl::StatusOr<TenantSettings::Decoded> decoded = TenantSettings::Decode(pairs);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  restored.Install(std::move(*decoded));
  EXPECT_TRUE(restored.Get("gone").empty());
  EXPECT_EQ(restored.Get("b").at(0).modified_at_ms(), 6);
  EXPECT_EQ(restored.total_bytes(), s.total_bytes());

  pairs.Add()->set_tenant_id("no-name");
  EXPECT_EQ(TenantSettings::Decode(pairs).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace embers::metastore
