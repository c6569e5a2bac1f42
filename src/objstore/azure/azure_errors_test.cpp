// Azure error answers to canonical codes and messages operators can act on.
#include "objstore/azure/azure_errors.h"

#include <string>

#include "base/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace embers::objstore::azure {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(AzureErrorsTest, CodesByAzureCode) {
  struct Case {
    std::string_view azure_code;
    int http;
    absl::StatusCode want;
  };
  for (const Case& c : {
           Case{"BlobNotFound", 404, absl::StatusCode::kNotFound},
           Case{"ContainerNotFound", 404, absl::StatusCode::kFailedPrecondition},
           Case{"ResourceNotFound", 404, absl::StatusCode::kFailedPrecondition},
           Case{"AuthenticationFailed", 403, absl::StatusCode::kUnauthenticated},
           Case{"AuthorizationPermissionMismatch", 403, absl::StatusCode::kPermissionDenied},
           Case{"InvalidRange", 416, absl::StatusCode::kOutOfRange},
           Case{"ServerBusy", 503, absl::StatusCode::kUnavailable},
           Case{"InternalError", 500, absl::StatusCode::kUnavailable},
           Case{"OperationTimedOut", 500, absl::StatusCode::kUnavailable},
           Case{"InvalidBlockList", 400, absl::StatusCode::kAborted},
           Case{"Md5Mismatch", 400, absl::StatusCode::kDataLoss},
       }) {
    EXPECT_EQ(CodeForAzureError(c.azure_code, c.http), c.want) << c.azure_code;
  }
}

TEST(AzureErrorsTest, CodesByHttpStatusWhenTheCodeIsUnknown) {
  EXPECT_EQ(CodeForAzureError("", 404), absl::StatusCode::kNotFound);
  EXPECT_EQ(CodeForAzureError("Whatever", 503), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeForAzureError("", 429), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeForAzureError("", 403), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CodeForAzureError("", 400), absl::StatusCode::kInternal);
}

TEST(AzureErrorsTest, TheHeaderCodeWinsAndHeadAnswersHaveNoBody) {
  // HEAD answers carry x-ms-error-code and nothing else.
  absl::Status s =
      AzureErrorStatus({.operation = "GetBlobProperties", .container = "azure://a/c", .key = "k"},
                       404, "ContainerNotFound", "");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(
      std::string(s.message()),
      AllOf(HasSubstr("GetBlobProperties"), HasSubstr("\"k\""), HasSubstr("azure://a/c"),
            HasSubstr("HTTP 404 ContainerNotFound"), HasSubstr("-storage.azure.container-name")));
}

TEST(AzureErrorsTest, MessageNamesEverythingFromTheDocument) {
  absl::Status s = AzureErrorStatus(
      {.operation = "ListBlobs", .container = "azure://a/c"}, 403, "",
      "<Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the "
      "request.\nRequestId:r-1</Message><AuthenticationErrorDetail>bad MAC"
      "</AuthenticationErrorDetail></Error>");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(s.message()),
              AllOf(HasSubstr("Azure ListBlobs in container azure://a/c failed: HTTP 403 "
                              "AuthenticationFailed: Server failed to authenticate the request. "
                              "(bad MAC)"),
                    HasSubstr("-storage.azure.account-key")));
}

TEST(AzureErrorsTest, AzuritesWordForAWrongKeyIsAWrongKey) {
  absl::Status s = AzureErrorStatus(
      {.operation = "ListBlobs", .container = "c"}, 403, "",
      "<Error><Code>AuthorizationFailure</Code><Message>Server failed to authenticate the "
      "request. Make sure the value of the Authorization header is formed correctly including the "
      "signature.</Message></Error>");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(s.message()), AllOf(HasSubstr("HTTP 403 AuthorizationFailure"),
                                              HasSubstr("-storage.azure.account-key")));
  // Azure's AuthorizationFailure (a network rule, a disabled key) stays PermissionDenied.
  s = AzureErrorStatus({.operation = "ListBlobs", .container = "c"}, 403, "AuthorizationFailure",
                       "<Error><Code>AuthorizationFailure</Code><Message>This request is not "
                       "authorized to perform this operation.</Message></Error>");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
}

TEST(AzureErrorsTest, RepeatedErrorsReadTheSame) {
  // Request ids and times differ on every answer; the message must not (a start-up error that
  // repeats is logged once).
  const auto message = [](std::string_view id, std::string_view time) {
    return std::string(
        AzureErrorStatus({.operation = "ListBlobs", .container = "c"}, 404, "ContainerNotFound",
                         StrCat("<Error><Code>ContainerNotFound</Code><Message>The specified "
                                "container does not exist.\nRequestId:",
                                id, "\nTime:", time, "</Message></Error>"))
            .message());
  };
  EXPECT_EQ(message("a", "2026-12-06T22:41:19Z"), message("b", "2026-12-06T22:41:20Z"));
  EXPECT_THAT(message("a", "t"), HasSubstr("The specified container does not exist."));
}

TEST(AzureErrorsTest, AProxyPageIsQuoted) {
  absl::Status s = AzureErrorStatus({.operation = "GetBlob", .container = "c", .key = "k"}, 502, "",
                                    "<html>\x01 bad gateway</html>");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), HasSubstr("HTTP 502: <html>  bad gateway</html>"));
}

}  // namespace
}  // namespace embers::objstore::azure
