#include "server/api_tokens.h"

#include <set>

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "base/sha256.h"
#include "base/strings.h"

namespace embers::server {
namespace {

TEST(ApiTokens, Sha256MatchesTheStandardVectors) {
  // FIPS 180-2 examples.
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ApiTokens, IssuedTokensParseAndOnlyTheirHashIsStored) {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    IssuedToken t = IssueToken("team-a", kScopeRead | kScopeWrite, "ci", 1234);
    std::optional<PresentedToken> p = ParseToken(t.token);
    ASSERT_TRUE(p.has_value()) << t.token;
    EXPECT_EQ(p->id, t.record.id);
    EXPECT_EQ(Sha256Hex(p->secret), t.record.secret_sha256);
    const std::string stored = EncodeTokenRecord(t.record);
    EXPECT_EQ(stored.find(p->secret), std::string::npos) << "the secret is stored";
    absl::StatusOr<ApiToken> back = DecodeTokenRecord(t.record.id, stored);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->tenant, "team-a");
    EXPECT_EQ(back->scopes, kScopeRead | kScopeWrite);
    EXPECT_EQ(back->created_ms, 1234);
    EXPECT_EQ(back->description, "ci");
    ids.insert(t.record.id);
  }
  EXPECT_EQ(ids.size(), 100u);  // random ids
}

TEST(ApiTokens, MalformedTokensAndRecordsAreRefused) {
  for (std::string_view bad :
       {"", "emb_", "emb_0123", "xyz_0123456789abcdef0123456789abcdef0123456789abcdef",
        "emb_0123456789ABCDEF0123456789abcdef0123456789abcdef",
        "emb_0123456789abcdef0123456789abcdef0123456789abcdef0"}) {
    EXPECT_FALSE(ParseToken(bad).has_value()) << bad;
  }
  EXPECT_TRUE(ParseToken("emb_0123456789abcdef0123456789abcdef0123456789abcdef").has_value());
  const std::string hash(64, 'a');
  EXPECT_FALSE(DecodeTokenRecord("0123456789abcdef", "t\tread\t1").ok());
  EXPECT_FALSE(DecodeTokenRecord("0123456789abcdef", StrCat("../t\tread\t1\t", hash, "\t")).ok());
  EXPECT_FALSE(DecodeTokenRecord("0123456789abcdef", StrCat("t\tadmin\t1\t", hash, "\t")).ok());
  EXPECT_FALSE(DecodeTokenRecord("short", StrCat("t\tread\t1\t", hash, "\t")).ok());
  absl::StatusOr<ApiToken> ok =
      DecodeTokenRecord("0123456789abcdef", StrCat("t\tread\t1\t", hash, "\ta\tb"));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->description, "a\tb");
}

TEST(ApiTokens, BearerAndBasicCarryTheToken) {
  EXPECT_EQ(*TokenFromAuthorization("Bearer emb_x"), "emb_x");
  EXPECT_EQ(*TokenFromAuthorization("bearer   emb_x "), "emb_x");
  const std::string basic = "Basic " + absl::Base64Escape("12345:emb_y");
  EXPECT_EQ(*TokenFromAuthorization(basic), "emb_y");
  EXPECT_EQ(*TokenFromAuthorization("Basic " + absl::Base64Escape(":emb_z")), "emb_z");
  for (std::string_view bad : {"", "Bearer", "Digest abc", "Basic !!!", "Basic Zm9v"}) {
    absl::StatusOr<std::string> t = TokenFromAuthorization(bad);
    if (t.ok()) {
      // Only "Bearer" with nothing after it gets this far: an empty token, refused later.
      EXPECT_TRUE(t->empty()) << bad << " gave " << *t;
    } else {
      EXPECT_EQ(t.status().code(), absl::StatusCode::kUnauthenticated) << bad;
    }
  }
}

TEST(ApiTokens, WritesNeedTheWriteScope) {
  for (std::string_view w :
       {"/push.v1.PusherService/Push", "/ingest", "/pyroscope/ingest", "/v1development/profiles",
        "/opentelemetry.proto.collector.profiles.v1development."
        "ProfilesService/Export",
        "/settings.v1.SettingsService/Set", "/adhocprofiles.v1.AdHocProfileService/Upload"}) {
    EXPECT_EQ(RequiredScope(w), kScopeWrite) << w;
  }
  for (std::string_view r :
       {"/querier.v1.QuerierService/SelectMergeStacktraces", "/pyroscope/render",
        "/settings.v1.SettingsService/Get", "/adhocprofiles.v1.AdHocProfileService/List"}) {
    EXPECT_EQ(RequiredScope(r), kScopeRead) << r;
  }
  EXPECT_EQ(*ParseScopes("read, write"), kScopeRead | kScopeWrite);
  EXPECT_EQ(FormatScopes(kScopeWrite), "write");
  EXPECT_FALSE(ParseScopes("").ok());
  EXPECT_FALSE(ParseScopes("admin").ok());
}

}  // namespace
}  // namespace embers::server
