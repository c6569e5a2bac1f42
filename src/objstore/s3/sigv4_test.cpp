// SigV4 against cases of the AWS Signature Version 4 test suite (credentials AKIDEXAMPLE,
// 2015-08-30 12:36:00 UTC, us-east-1, service "service"). tests/node/sigv4.test.mjs runs the whole
// suite and compares with an independent signer over generated S3 requests.
#include "objstore/s3/sigv4.h"

#include <gtest/gtest.h>

#include "base/sha256.h"
#include "base/strings.h"

namespace embers::objstore::s3 {
namespace {

const SigV4Credentials kCredentials{
    .access_key_id = "AKIDEXAMPLE",
    .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};
const absl::Time kTime = absl::FromUnixSeconds(1440938160);  // 2015-08-30T12:36:00Z

std::string Sign(SigV4Request request) {
  return SigV4Authorization(request, kCredentials, "us-east-1", "service", kTime);
}

std::string Expected(std::string_view signed_headers, std::string_view signature) {
  return StrCat("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ",
                "SignedHeaders=", signed_headers, ", Signature=", signature);
}

SigV4Request Request(std::string method, std::string path) {
  return SigV4Request{
      .method = std::move(method),
      .path = std::move(path),
      .headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}},
      .payload_hash = Sha256Hex("")};
}

TEST(SigV4, AmzDate) { EXPECT_EQ(AmzDate(kTime), "20150830T123600Z"); }

TEST(SigV4, GetVanilla) {
  EXPECT_EQ(Sign(Request("GET", "/")),
            Expected("host;x-amz-date",
                     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"));
}

TEST(SigV4, Utf8PathIsPercentEncodedOnce) {
  SigV4Request r = Request("GET", "/\xE1\x88\xB4");
  EXPECT_EQ(CanonicalRequest(r).substr(0, 15), "GET\n/%E1%88%B4\n");
  EXPECT_EQ(Sign(r), Expected("host;x-amz-date",
                              "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"));
}

TEST(SigV4, HeaderValuesAreTrimmedAndInnerSpacesFolded) {
  SigV4Request r = Request("GET", "/");
  r.headers.emplace_back("My-Header1", "value1");
  r.headers.emplace_back("My-Header2", "\"a   b   c\"");
  EXPECT_EQ(Sign(r), Expected("host;my-header1;my-header2;x-amz-date",
                              "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"));
}

TEST(SigV4, QueryNamesAndValuesAreEncodedAndSorted) {
  SigV4Request r = Request("POST", "/");
  r.query = {{"+", "/,?><`\";:\\|][{}"}, {"@#$%^", ""}};
  EXPECT_EQ(Sign(r), Expected("host;x-amz-date",
                              "66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e"));
}

TEST(SigV4, PayloadHashIsSigned) {
  SigV4Request r = Request("POST", "/");
  r.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  r.payload_hash = Sha256Hex("Param1=value1");
  EXPECT_EQ(Sign(r), Expected("content-type;host;x-amz-date",
                              "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"));
}

TEST(SigV4, UriEncode) {
  EXPECT_EQ(UriEncode("a b/c~d+e", true), "a%20b/c~d%2Be");
  EXPECT_EQ(UriEncode("a b/c", false), "a%20b%2Fc");
}

}  // namespace
}  // namespace embers::objstore::s3
