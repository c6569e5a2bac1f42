// Shared Key signing on hand-checked strings to sign (the HMACs computed independently with node's
// crypto). tests/node/azure_sign.test.mjs compares with the Azure SDK's signer over generated
// requests, and azurite, which checks signatures, refuses anything else in azure_bucket_test.cpp.
#include "objstore/azure/shared_key.h"

#include <algorithm>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace embers::objstore::azure {
namespace {

constexpr std::string_view kKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
constexpr std::string_view kDate = "Sun, 06 Dec 2026 22:41:19 GMT";

std::string Decoded() { return DecodeAccountKey(kKey).value(); }

TEST(SharedKeyTest, RangedGetPathStyle) {
  // Headers in any case and order; the account appears twice for a path-style endpoint.
  const SharedKeyRequest request{.method = "GET",
                                 .encoded_path = "/devstoreaccount1/embers/segments/1/a%20b",
                                 .headers = {{"X-Ms-Version", "2021-08-06"},
                                             {"x-ms-range", "bytes=0-99"},
                                             {"x-ms-date", std::string(kDate)},
                                             {"User-Agent", "embers"}}};
  EXPECT_EQ(SharedKeyStringToSign(request, "devstoreaccount1"),
            "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Sun, 06 Dec 2026 22:41:19 GMT\n"
            "x-ms-range:bytes=0-99\nx-ms-version:2021-08-06\n"
            "/devstoreaccount1/devstoreaccount1/embers/segments/1/a%20b");
  EXPECT_EQ(SharedKeyAuthorization(request, "devstoreaccount1", Decoded()),
            "SharedKey devstoreaccount1:f+30sFTaibrXTs+cg8qeU4YxsQ+yZ65/RG03fwXrXv0=");
}

TEST(SharedKeyTest, PutWithBodyAndQuery) {
  const SharedKeyRequest request{.method = "PUT",
                                 .encoded_path = "/embers/k",
                                 .query = {{"comp", "blocklist"}},
                                 .headers = {{"Content-Type", "application/xml"},
                                             {"Content-Length", "11"},
                                             {"x-ms-version", "2021-08-06"},
                                             {"x-ms-date", std::string(kDate)}}};
  EXPECT_EQ(SharedKeyStringToSign(request, "acct"),
            "PUT\n\n\n11\n\napplication/xml\n\n\n\n\n\n\nx-ms-date:Sun, 06 Dec 2026 22:41:19 GMT\n"
            "x-ms-version:2021-08-06\n/acct/embers/k\ncomp:blocklist");
  EXPECT_EQ(SharedKeyAuthorization(request, "acct", Decoded()),
            "SharedKey acct:3U5cmmY1ESsRZxzvowtZeZJFwPLl5gRHmWXeFcOHz90=");
}

TEST(SharedKeyTest, ZeroContentLengthIsSignedEmpty) {
  const SharedKeyRequest request{
      .method = "PUT", .encoded_path = "/c/k", .headers = {{"Content-Length", "0"}}};
  EXPECT_EQ(SharedKeyStringToSign(request, "a"), "PUT\n\n\n\n\n\n\n\n\n\n\n\n/a/c/k");
}

TEST(SharedKeyTest, QueryIsLowerCasedSortedDecodedAndEmptyValuesLeftOut) {
  const SharedKeyRequest request{.method = "GET",
                                 .encoded_path = "/c",
                                 .query = {{"restype", "container"},
                                           {"Comp", "list"},
                                           {"prefix", "a b/ü"},
                                           {"marker", ""},
                                           {"maxresults", "2"}}};
  EXPECT_THAT(
      SharedKeyStringToSign(request, "a"),
      ::testing::EndsWith("/a/c\ncomp:list\nmaxresults:2\nprefix:a b/ü\nrestype:container"));
}

TEST(SharedKeyTest, HeaderNamesSortAsTheServiceSortsThem) {
  // .NET's culture order ignores '-' at first: "x-ms-blob-type" < "x-ms-blobtypes" would be
  // the other way round in byte order ('-' < 't').
  EXPECT_TRUE(SharedKeyHeaderNameLess("x-ms-date", "x-ms-version"));
  EXPECT_FALSE(SharedKeyHeaderNameLess("x-ms-version", "x-ms-date"));
  EXPECT_TRUE(SharedKeyHeaderNameLess("x-ms-blobt", "x-ms-blob-type"));
  EXPECT_LT(std::string_view("x-ms-blob-type"), std::string_view("x-ms-blobt"));
  EXPECT_TRUE(SharedKeyHeaderNameLess("x-ms-a", "x-ms-a0"));
  EXPECT_FALSE(SharedKeyHeaderNameLess("x-ms-a", "x-ms-a"));
}

TEST(SharedKeyTest, UriEncoding) {
  EXPECT_EQ(AzureUriEncode("a b/c+d~é", true), "a%20b/c%2Bd~%C3%A9");
  EXPECT_EQ(AzureUriEncode("a/b", false), "a%2Fb");
}

TEST(SharedKeyTest, Date) { EXPECT_EQ(AzureDate(absl::FromUnixSeconds(1796596879)), kDate); }

TEST(SharedKeyTest, AccountKeyMustBeBase64) {
  EXPECT_EQ(DecodeAccountKey("not base64!").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeAccountKey("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeAccountKey(kKey).value().size(), 64u);
}

}  // namespace
}  // namespace embers::objstore::azure
