// S3Bucket behaviour beyond the conformance suite, on a real s3rver: multipart uploads, the
// start-up probe's errors, keys that need encoding, many listing pages.
#include "objstore/s3/s3_bucket.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "base/strings.h"
#include "base/test_ports.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "objstore/http/scripted_http_server.h"
#include "objstore/s3/s3rver_process.h"
#include "objstore/store_server_test.h"
#include "objstore/test_temp_dir.h"

namespace embers::objstore::s3 {
namespace {

using ::embers::objstore::http::Answer;
using ::embers::objstore::http::ScriptedHttpServer;

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// One s3rver for the whole test binary; each test gets its own bucket.
using S3BucketTest = StoreServerTest<S3rverProcess, S3Bucket>;

TEST_F(S3BucketTest, NameSaysBucketAndEndpoint) {
  std::unique_ptr<S3Bucket> b = Open(Options());
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->Name(), StrCat("s3://", bucket_name_, " at http://", server_->endpoint()));
}

TEST_F(S3BucketTest, PutFileAbovePartSizeIsAMultipartUpload) {
  S3BucketOptions options = Options();
  options.part_size = 5 << 20;
  std::unique_ptr<S3Bucket> b = Open(options);
  ASSERT_NE(b, nullptr);
  const std::string data = TestData((11 << 20) + 12345);  // three parts, the last one short
  ASSERT_TRUE(b->PutFile("blocks/big", File(data)).ok());
  absl::StatusOr<std::string> got = b->Get("blocks/big");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == data);
  EXPECT_EQ(b->Size("blocks/big").value(), data.size());
  EXPECT_EQ(b->GetRange("blocks/big", (5 << 20) - 3, 6).value(), data.substr((5 << 20) - 3, 6));
  // s3rver keeps an upload's parts in a directory until it completes or is aborted.
  EXPECT_FALSE(std::filesystem::exists(dir_->path() + "/s3rver-data/" + bucket_name_ +
                                       "/._S3rver_uploads") &&
               !std::filesystem::is_empty(dir_->path() + "/s3rver-data/" + bucket_name_ +
                                          "/._S3rver_uploads"));
  // Exactly one part's worth (not multipart) and an overwrite by a smaller file.
  ASSERT_TRUE(b->PutFile("blocks/big", File(TestData(5 << 20))).ok());
  EXPECT_EQ(b->Size("blocks/big").value(), 5u << 20);
}

TEST_F(S3BucketTest, OneByteRanges) {
  // s3rver 3.7 answers "bytes=0-0" with the whole object (it reads the end 0 as "none").
  std::unique_ptr<S3Bucket> b = Open(Options());
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->Put("r", "0123456789").ok());
  EXPECT_EQ(b->GetRange("r", 0, 1).value(), "0");
  EXPECT_EQ(b->GetRange("r", 9, 1).value(), "9");
  EXPECT_EQ(b->GetRange("r", 5, 1).value(), "5");
}

TEST_F(S3BucketTest, KeysThatNeedEncoding) {
  std::unique_ptr<S3Bucket> b = Open(Options());
  ASSERT_NE(b, nullptr);
  const std::vector<std::string> keys = {
      "a+b/c d",           "a+b/c%20d", "q?x=1&y=2#f", "ü/ñ/€", "semi;colon,comma:@$!'()*",
      "tilde~/under_score"};
  for (const std::string& key : keys) ASSERT_TRUE(b->Put(key, key).ok()) << key;
  for (const std::string& key : keys) EXPECT_EQ(b->Get(key).value(), key) << key;
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(ListKeys(*b, "").value(), sorted);
  EXPECT_EQ(ListKeys(*b, "a+b/").value(), (std::vector<std::string>{"a+b/c d", "a+b/c%20d"}));
}

TEST_F(S3BucketTest, ListsManyPages) {
  S3BucketOptions options = Options();
  options.list_page_size = 3;
  std::unique_ptr<S3Bucket> b = Open(options);
  ASSERT_NE(b, nullptr);
  std::vector<std::string> keys;
  for (int i = 0; i < 25; ++i) keys.push_back(StrCat("k/", 100 + i));
  for (const std::string& key : keys) ASSERT_TRUE(b->Put(key, "v").ok());
  EXPECT_EQ(ListKeys(*b, "k/").value(), keys);
  EXPECT_EQ(ListKeys(*b, "k/11").value().size(), 10u);
}

TEST_F(S3BucketTest, VirtualHostStyle) {
  // Requests go to <bucket>.s3.localhost:<port>/<key>; s3rver finds the bucket in the host name.
  S3BucketOptions options = Options();
  options.endpoint = server_->vhost_endpoint();
  options.force_path_style = false;
  std::unique_ptr<S3Bucket> b = Open(options);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->Put("v/h", "hosted").ok());
  EXPECT_EQ(b->Get("v/h").value(), "hosted");
  EXPECT_EQ(ListKeys(*b, "").value(), std::vector<std::string>{"v/h"});
  // The same object through path style: the same bucket.
  std::unique_ptr<S3Bucket> path_style = Open(Options());
  ASSERT_NE(path_style, nullptr);
  EXPECT_EQ(path_style->Get("v/h").value(), "hosted");
}

// https on an s3rver whose certificate (for localhost) was made here with the openssl CLI.
TEST_F(S3BucketTest, TlsVerifiesTheCertificate) {
  const std::string cert = files_.path() + "/cert.pem";
  const std::string key = files_.path() + "/key.pem";
  const std::string command = StrCat(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -addext "
      "subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout ",
      key, " -out ", cert, " >/dev/null 2>&1");
  ASSERT_EQ(std::system(command.c_str()), 0) << "openssl CLI missing? " << command;
  TempDir dir;
  absl::StatusOr<std::unique_ptr<S3rverProcess>> tls_server =
      S3rverProcess::Start(dir.path(), "secure", {.cert_path = cert, .key_path = key});
  ASSERT_TRUE(tls_server.ok()) << tls_server.status();
  S3BucketOptions options = (*tls_server)->BucketOptions("secure");
  ASSERT_FALSE(options.insecure);

  // The system CAs do not know this certificate: one clear error when the bucket opens.
  absl::StatusOr<std::unique_ptr<S3Bucket>> untrusted = S3Bucket::Open(options);
  EXPECT_EQ(untrusted.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(untrusted.status().message()),
              AllOf(HasSubstr("https://"), HasSubstr("certificate")));

  // With it as the CA bundle the connection is verified, host name included.
  options.http.ca_file = cert;
  std::unique_ptr<S3Bucket> b = Open(options);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->Put("k", "over tls").ok());
  EXPECT_EQ(b->Get("k").value(), "over tls");

  // Verification off (test endpoints only) works without the CA.
  options.http.ca_file.clear();
  options.http.verify_tls = false;
  std::unique_ptr<S3Bucket> unverified = Open(options);
  ASSERT_NE(unverified, nullptr);
  EXPECT_EQ(unverified->Get("k").value(), "over tls");
}

TEST_F(S3BucketTest, OpenFailsClearlyOnAnUnknownAccessKey) {
  S3BucketOptions options = Options();
  options.credentials.access_key_id = "WRONG";
  absl::StatusOr<std::unique_ptr<S3Bucket>> b = S3Bucket::Open(options);
  EXPECT_EQ(b.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(b.status().message()),
              AllOf(HasSubstr("opening S3 bucket s3://" + bucket_name_),
                    HasSubstr("InvalidAccessKeyId"), HasSubstr("-storage.s3.access-key-id")));
}

TEST_F(S3BucketTest, OpenFailsClearlyOnAMissingBucket) {
  S3BucketOptions options = Options();
  options.bucket = "no-such-bucket";
  absl::StatusOr<std::unique_ptr<S3Bucket>> b = S3Bucket::Open(options);
  EXPECT_EQ(b.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(b.status().message()),
              AllOf(HasSubstr("NoSuchBucket"), HasSubstr("-storage.s3.bucket-name")));
}

TEST_F(S3BucketTest, OpenFailsQuicklyOnAnUnreachableEndpoint) {
  S3BucketOptions options = Options();
  options.endpoint = StrCat("127.0.0.1:", testing::FreeLoopbackPort());
  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<S3Bucket>> b = S3Bucket::Open(options);
  EXPECT_EQ(b.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(b.status().message()),
              AllOf(HasSubstr("opening S3 bucket"), HasSubstr(options.endpoint)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST_F(S3BucketTest, OptionsAreChecked) {
  auto code = [&](auto change) {
    S3BucketOptions options = Options();
    change(options);
    return S3Bucket::Open(options).status().code();
  };
  const auto kInvalid = absl::StatusCode::kInvalidArgument;
  EXPECT_EQ(code([](S3BucketOptions& o) { o.bucket = ""; }), kInvalid);
  EXPECT_EQ(code([](S3BucketOptions& o) { o.endpoint = "http://127.0.0.1:1"; }), kInvalid);
  EXPECT_EQ(code([](S3BucketOptions& o) { o.credentials.secret_access_key = ""; }), kInvalid);
  EXPECT_EQ(code([](S3BucketOptions& o) { o.part_size = 1 << 20; }), kInvalid);
  EXPECT_EQ(code([](S3BucketOptions& o) { o.list_page_size = 1001; }), kInvalid);
  EXPECT_EQ(code([](S3BucketOptions& o) { o.region = ""; }), kInvalid);
}

// Answers no real store gives on demand, from a scripted server: the first answer is always the
// probe's listing.
class S3BucketFaultTest : public ::testing::Test {
 protected:
  static constexpr std::string_view kEmptyListing =
      "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>";

  static S3BucketOptions Options(ScriptedHttpServer& server, int max_attempts = 5) {
    S3BucketOptions options;
    options.endpoint = server.url("").substr(std::string_view("http://").size());
    options.bucket = "b";
    options.credentials = {.access_key_id = "AK", .secret_access_key = "SK"};
    options.insecure = true;
    options.force_path_style = true;
    options.part_size = 5 << 20;
    options.http.max_attempts = max_attempts;
    options.http.initial_backoff = absl::Milliseconds(1);
    return options;
  }

  std::unique_ptr<S3Bucket> Open(ScriptedHttpServer& server, int max_attempts = 5) {
    absl::StatusOr<std::unique_ptr<S3Bucket>> b = S3Bucket::Open(Options(server, max_attempts));
    EXPECT_TRUE(b.ok()) << b.status();
    return b.ok() ? std::move(*b) : nullptr;
  }

  // "METHOD /path?query" of every request the server got.
  static std::vector<std::string> RequestLines(ScriptedHttpServer& server) {
    std::vector<std::string> lines;
    for (const std::string& r : server.requests())
      lines.push_back(r.substr(0, r.find(' ', r.find(' ') + 1)));
    return lines;
  }

  static std::string PartAnswer(std::string_view etag) {
    return StrCat("HTTP/1.1 200 OK\r\nETag: ", etag,
                  "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  }

  std::string File(size_t size) {
    const std::string path = dir_.path() + "/f";
    std::ofstream(path, std::ios::binary) << TestData(size);
    return path;
  }

  TempDir dir_;
};

TEST_F(S3BucketFaultTest, AFailedPartAbortsTheMultipartUpload) {
  ScriptedHttpServer server({Answer(200, kEmptyListing),
                             Answer(200,
                                    "<InitiateMultipartUploadResult><UploadId>U1</UploadId>"
                                    "</InitiateMultipartUploadResult>"),
                             PartAnswer("\"e1\""),
                             Answer(403, "<Error><Code>AccessDenied</Code></Error>"),
                             Answer(204, "")});
  std::unique_ptr<S3Bucket> b = Open(server);
  ASSERT_NE(b, nullptr);
  absl::Status s = b->PutFile("big", File(11 << 20));
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
  EXPECT_THAT(std::string(s.message()), AllOf(HasSubstr("UploadPart"), HasSubstr("AccessDenied")));
  EXPECT_THAT(RequestLines(server),
              ElementsAre(HasSubstr("GET /b?list-type=2"),
                          "POST /b/big?uploads=", "PUT /b/big?partNumber=1&uploadId=U1",
                          "PUT /b/big?partNumber=2&uploadId=U1", "DELETE /b/big?uploadId=U1"));
}

TEST_F(S3BucketFaultTest, AnErrorInsideACompleteAnswerFailsAndAborts) {
  // S3 may fail CompleteMultipartUpload after it has sent 200: the error is in the body.
  ScriptedHttpServer server(
      {Answer(200, kEmptyListing),
       Answer(200,
              "<InitiateMultipartUploadResult><UploadId>U2</UploadId>"
              "</InitiateMultipartUploadResult>"),
       PartAnswer("\"e1\""), PartAnswer("\"e2\""),
       Answer(200, "<Error><Code>InternalError</Code><Message>try again</Message></Error>"),
       Answer(204, "")});
  std::unique_ptr<S3Bucket> b = Open(server);
  ASSERT_NE(b, nullptr);
  absl::Status s = b->PutFile("big", File((5 << 20) + 1));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  const std::vector<std::string> requests = server.requests();
  ASSERT_EQ(requests.size(), 6u);
  EXPECT_EQ(requests[4],
            "POST /b/big?uploadId=U2 <CompleteMultipartUpload><Part><PartNumber>1</PartNumber>"
            "<ETag>&quot;e1&quot;</ETag></Part><Part><PartNumber>2</PartNumber><ETag>&quot;e2&quot;"
            "</ETag></Part></CompleteMultipartUpload>");
  EXPECT_EQ(RequestLines(server)[5], "DELETE /b/big?uploadId=U2");
}

TEST_F(S3BucketFaultTest, DeleteManySendsBatchesAndReportsWhatWasNotDeleted) {
  const std::string denied =
      "<DeleteResult><Error><Key>k1</Key><Code>NoSuchKey</Code><Message>gone</Message></Error>"
      "<Error><Key>k1001</Key><Code>AccessDenied</Code><Message>no</Message></Error>"
      "</DeleteResult>";
  ScriptedHttpServer server({Answer(200, kEmptyListing),
                             Answer(200, "<DeleteResult></DeleteResult>"), Answer(204, ""),
                             Answer(200, denied)});
  std::unique_ptr<S3Bucket> b = Open(server);
  ASSERT_NE(b, nullptr);
  // 1,001 keys: a batch of 1,000 and a single DELETE.
  std::vector<std::string> keys;
  for (int i = 0; i < 1001; ++i) keys.push_back(StrCat("k", i));
  ASSERT_TRUE(b->DeleteMany(keys).ok());
  const std::vector<std::string> requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_THAT(RequestLines(server),
              ElementsAre(HasSubstr("GET /b?list-type=2"), "POST /b?delete=", "DELETE /b/k1000"));
  EXPECT_THAT(requests[1], AllOf(HasSubstr("<Object><Key>k999</Key></Object></Delete>"),
                                 HasSubstr("<Delete><Quiet>true</Quiet><Object><Key>k0</Key>")));
  EXPECT_THAT(server.request_headers(1), HasSubstr("Content-MD5: "));
  // A key the store could not delete fails the call; one that was already gone does not.
  absl::Status s = b->DeleteMany(std::vector<std::string>{"k1", "k1001"});
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
  EXPECT_THAT(std::string(s.message()), AllOf(HasSubstr("1 of 2 keys not deleted"),
                                              HasSubstr("k1001"), HasSubstr("AccessDenied")));
  EXPECT_EQ(b->DeleteMany(std::vector<std::string>{"ok", "../bad"}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(S3BucketFaultTest, ServerSideEncryptionHeadersAreSentAndSigned) {
  ScriptedHttpServer server({Answer(200, kEmptyListing), Answer(200, "")});
  S3BucketOptions options = Options(server);
  options.sse_type = "SSE-KMS";
  options.sse_kms_key_id = "arn:aws:kms:us-east-1:1:key/k";
  options.sse_kms_encryption_context = R"({"app":"embers"})";
  absl::StatusOr<std::unique_ptr<S3Bucket>> b = S3Bucket::Open(options);
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_TRUE((*b)->Put("k", "v").ok());
  const std::string headers = server.request_headers(1);
  EXPECT_THAT(headers, AllOf(HasSubstr("x-amz-server-side-encryption: aws:kms"),
                             HasSubstr("x-amz-server-side-encryption-aws-kms-key-id: "
                                       "arn:aws:kms:us-east-1:1:key/k"),
                             HasSubstr("x-amz-server-side-encryption-context: "
                                       "eyJhcHAiOiJlbWJlcnMifQ==")));
  EXPECT_THAT(headers, HasSubstr("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-server-"
                                 "side-encryption;x-amz-server-side-encryption-aws-"
                                 "kms-key-id;x-amz-server-side-encryption-context"));
  // The listing probe carries none.
  EXPECT_THAT(server.request_headers(0), Not(HasSubstr("x-amz-server-side-encryption")));
  options.sse_type = "SSE-C";
  EXPECT_EQ(S3Bucket::Open(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.sse_type = "SSE-KMS";
  options.sse_kms_key_id = "";
  EXPECT_EQ(S3Bucket::Open(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(S3BucketFaultTest, ARangeTheStoreIgnoredIsCut) {
  ScriptedHttpServer server({Answer(200, kEmptyListing), Answer(200, "0123456789")});
  std::unique_ptr<S3Bucket> b = Open(server);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->GetRange("k", 2, 3).value(), "234");
  EXPECT_EQ(b->GetRange("k", 8, 5).value(), "89");
  EXPECT_EQ(b->GetRange("k", 11, 1).status().code(), absl::StatusCode::kOutOfRange);
}

TEST_F(S3BucketFaultTest, AnOverloadedStoreIsUnavailableAfterTheRetries) {
  ScriptedHttpServer server({Answer(200, kEmptyListing),
                             Answer(503,
                                    "<Error><Code>SlowDown</Code><Message>Reduce your request "
                                    "rate.</Message></Error>")});
  std::unique_ptr<S3Bucket> b = Open(server, 3);
  ASSERT_NE(b, nullptr);
  absl::StatusOr<std::string> got = b->Get("hot");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(got.status().message()),
              AllOf(HasSubstr("GetObject of \"hot\""), HasSubstr("HTTP 503 SlowDown")));
  EXPECT_EQ(server.requests().size(), 1u + 3u);
}

}  // namespace
}  // namespace embers::objstore::s3
