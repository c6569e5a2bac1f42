// S3 error answers to canonical codes and messages operators can act on.
#include "objstore/s3/s3_errors.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace embers::objstore::s3 {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

std::string ErrorXml(std::string_view code, std::string_view message) {
  return std::string("<Error><Code>") + std::string(code) + "</Code><Message>" +
         std::string(message) + "</Message><RequestId>R1</RequestId></Error>";
}

TEST(S3ErrorsTest, CodesByS3Code) {
  struct Case {
    std::string_view s3_code;
    int http;
    absl::StatusCode want;
  };
  for (const Case& c : {
           Case{"NoSuchKey", 404, absl::StatusCode::kNotFound},
           Case{"NoSuchBucket", 404, absl::StatusCode::kFailedPrecondition},
           Case{"AccessDenied", 403, absl::StatusCode::kPermissionDenied},
           Case{"InvalidAccessKeyId", 403, absl::StatusCode::kUnauthenticated},
           Case{"SignatureDoesNotMatch", 403, absl::StatusCode::kUnauthenticated},
           Case{"RequestTimeTooSkewed", 403, absl::StatusCode::kUnauthenticated},
           Case{"ExpiredToken", 400, absl::StatusCode::kUnauthenticated},
           Case{"InvalidRange", 416, absl::StatusCode::kOutOfRange},
           Case{"SlowDown", 503, absl::StatusCode::kUnavailable},
           Case{"InternalError", 500, absl::StatusCode::kUnavailable},
           Case{"RequestTimeout", 400, absl::StatusCode::kUnavailable},
           Case{"BadDigest", 400, absl::StatusCode::kDataLoss},
       }) {
    EXPECT_EQ(CodeForS3Error(c.s3_code, c.http), c.want) << c.s3_code;
  }
}

TEST(S3ErrorsTest, CodesByHttpStatusWhenTheCodeIsUnknownOrMissing) {
  EXPECT_EQ(CodeForS3Error("", 404), absl::StatusCode::kNotFound);  // HEAD: no body
  EXPECT_EQ(CodeForS3Error("", 403), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CodeForS3Error("", 401), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(CodeForS3Error("Whatever", 502), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeForS3Error("", 429), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeForS3Error("", 409), absl::StatusCode::kAborted);
  EXPECT_EQ(CodeForS3Error("Odd", 400), absl::StatusCode::kInternal);
}

TEST(S3ErrorsTest, MessageNamesOperationBucketKeyAndStoreCode) {
  absl::Status s = S3ErrorStatus({"GetObject", "s3://b at https://e", "a/k"}, 403,
                                 ErrorXml("SignatureDoesNotMatch", "The signature differs"));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(
      std::string(s.message()),
      AllOf(HasSubstr("S3 GetObject"), HasSubstr("\"a/k\""), HasSubstr("s3://b at https://e"),
            HasSubstr("HTTP 403 SignatureDoesNotMatch: The signature differs"),
            HasSubstr("request id R1"), HasSubstr("-storage.s3.secret-access-key")));
}

TEST(S3ErrorsTest, HintsForStartupErrors) {
  auto message = [](std::string_view code) {
    return std::string(
        S3ErrorStatus({"ListObjectsV2", "s3://b", ""}, 403, ErrorXml(code, "m")).message());
  };
  EXPECT_THAT(message("NoSuchBucket"), HasSubstr("-storage.s3.bucket-name"));
  EXPECT_THAT(message("InvalidAccessKeyId"), HasSubstr("-storage.s3.access-key-id"));
  EXPECT_THAT(message("RequestTimeTooSkewed"), HasSubstr("clock"));
  EXPECT_THAT(message("NoSuchBucket"), Not(HasSubstr("\"\"")));  // no empty key quoted
}

TEST(S3ErrorsTest, NonXmlBodiesAreQuotedShortAndPrintable) {
  absl::Status s = S3ErrorStatus({"PutObject", "s3://b", "k"}, 502,
                                 std::string("<html>\x01 Bad Gateway ") + std::string(500, 'x'));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), HasSubstr("HTTP 502: <html>  Bad Gateway"));
  EXPECT_LT(s.message().size(), 400u);
}

}  // namespace
}  // namespace embers::objstore::s3
