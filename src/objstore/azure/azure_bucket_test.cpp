// AzureBucket behaviour beyond the conformance suite: on a real azurite (which checks Shared Key
// signatures) block uploads, the start-up probe's errors, keys that need encoding, many listing
// pages; on a scripted server the faults azurite will not produce on demand.
#include "objstore/azure/azure_bucket.h"

#include <algorithm>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "base/strings.h"
#include "base/test_ports.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "objstore/azure/azurite_process.h"
#include "objstore/http/scripted_http_server.h"
#include "objstore/store_server_test.h"
#include "objstore/test_temp_dir.h"

namespace embers::objstore::azure {
namespace {

using ::embers::objstore::http::Answer;
using ::embers::objstore::http::ScriptedHttpServer;

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// One azurite for the whole test binary; each test gets its own container.
using AzureBucketTest = StoreServerTest<AzuriteProcess, AzureBucket>;

TEST_F(AzureBucketTest, NameSaysAccountContainerAndEndpoint) {
  std::unique_ptr<AzureBucket> b = Open(Options());
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->Name(), StrCat("azure://devstoreaccount1/", bucket_name_, " at http://",
                              server_->endpoint(), "/devstoreaccount1"));
}

TEST_F(AzureBucketTest, PutFileAbovePartSizeIsABlockUpload) {
  AzureBucketOptions options = Options();
  options.part_size = 1 << 20;
  std::unique_ptr<AzureBucket> b = Open(options);
  ASSERT_NE(b, nullptr);
  const std::string data = TestData((3 << 20) + 12345);  // four blocks, the last one short
  ASSERT_TRUE(b->PutFile("blocks/big", File(data)).ok());
  absl::StatusOr<std::string> got = b->Get("blocks/big");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == data);
  EXPECT_EQ(b->Size("blocks/big").value(), data.size());
  EXPECT_EQ(b->GetRange("blocks/big", (1 << 20) - 3, 6).value(), data.substr((1 << 20) - 3, 6));
  // Overwritten by a block upload of another size, then by a single Put Blob.
  const std::string second = TestData((2 << 20) + 1);
  ASSERT_TRUE(b->PutFile("blocks/big", File(second)).ok());
  EXPECT_TRUE(b->Get("blocks/big").value() == second);
  ASSERT_TRUE(b->PutFile("blocks/big", File("small")).ok());
  EXPECT_EQ(b->Get("blocks/big").value(), "small");
}

TEST_F(AzureBucketTest, OneByteRangesAndRangesOfEmptyBlobs) {
  std::unique_ptr<AzureBucket> b = Open(Options());
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->Put("r", "0123456789").ok());
  EXPECT_EQ(b->GetRange("r", 0, 1).value(), "0");
  EXPECT_EQ(b->GetRange("r", 9, 1).value(), "9");
  EXPECT_EQ(b->GetRange("r", 9, 100).value(), "9");
  EXPECT_EQ(b->GetRange("r", 10, 1).value(), "");
  EXPECT_EQ(b->GetRange("r", 11, 1).status().code(), absl::StatusCode::kOutOfRange);
  ASSERT_TRUE(b->Put("e", "").ok());
  EXPECT_EQ(b->GetRange("e", 0, 1).value(), "");
  EXPECT_EQ(b->GetRange("e", 1, 1).status().code(), absl::StatusCode::kOutOfRange);
}

TEST_F(AzureBucketTest, KeysThatNeedEncoding) {
  std::unique_ptr<AzureBucket> b = Open(Options());
  ASSERT_NE(b, nullptr);
  const std::vector<std::string> keys = {"a+b/c d",
                                         "a+b/c%20d",
                                         "q?x=1&y=2#f",
                                         "ü/ñ/€",
                                         "semi;colon,comma:@$!'()*",
                                         "tilde~/under_score",
                                         "Upper/lower"};
  for (const std::string& key : keys) ASSERT_TRUE(b->Put(key, key).ok()) << key;
  for (const std::string& key : keys) EXPECT_EQ(b->Get(key).value(), key) << key;
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(ListKeys(*b, "").value(), sorted);
  EXPECT_EQ(ListKeys(*b, "a+b/").value(), std::vector<std::string>({"a+b/c d", "a+b/c%20d"}));
  EXPECT_EQ(ListKeys(*b, "ü/").value(), std::vector<std::string>({"ü/ñ/€"}));
}

TEST_F(AzureBucketTest, NonAsciiKeysListInByteOrderOrFailLoudly) {
  std::unique_ptr<AzureBucket> b = Open(Options());
  ASSERT_NE(b, nullptr);
  // Characters below U+E000, and beyond U+FFFF on their own: UTF-16 order is byte order.
  const std::vector<std::string> keys = {
      "u/aZ", "u/a~", "u/a\u00e9", "u/a\u4e2d", "u/a\U0001F600", "u/a\U0001F600x", "u/b"};
  for (const std::string& key : keys) ASSERT_TRUE(b->Put(key, "v").ok()) << key;
  EXPECT_EQ(ListKeys(*b, "u/").value(), keys);
  // U+E000 and U+1F600 at the same position: azurite lists the emoji first (UTF-16 order). The
  // listing says so instead of handing out keys out of byte order.
  ASSERT_TRUE(b->Put("u/a\ue000", "v").ok());
  absl::StatusOr<std::vector<std::string>> listed = ListKeys(*b, "u/");
  EXPECT_EQ(listed.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(listed.status().message()), HasSubstr("UTF-16"));
  // Other prefixes are unaffected.
  EXPECT_EQ(ListKeys(*b, "u/a\U0001F600").value().size(), 2u);
}

TEST_F(AzureBucketTest, BackslashesAreRefusedRatherThanTurnedIntoSlashes) {
  std::unique_ptr<AzureBucket> b = Open(Options());
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->Put("x/y", "slash").ok());
  const std::string file = File("f");
  for (const absl::Status& s :
       {b->Put("x\\y", "backslash"), b->PutFile("x\\y", file), b->Get("x\\y").status(),
        b->GetRange("x\\y", 0, 1).status(), b->Size("x\\y").status(), b->Exists("x\\y").status(),
        b->Delete("x\\y"), b->List("x\\", [](std::string_view) { return absl::OkStatus(); })}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("'\\'"));
  }
  EXPECT_EQ(b->Get("x/y").value(), "slash");  // untouched
}

TEST_F(AzureBucketTest, TrailingDotsAreKept) {
  std::unique_ptr<AzureBucket> b = Open(Options());
  ASSERT_NE(b, nullptr);
  const std::vector<std::string> keys = {"d/a.", "d/a..", "d/a.b", "d/x./y"};
  for (const std::string& key : keys) ASSERT_TRUE(b->Put(key, key).ok()) << key;
  for (const std::string& key : keys) EXPECT_EQ(b->Get(key).value(), key) << key;
  EXPECT_EQ(ListKeys(*b, "d/").value(), keys);
}

TEST_F(AzureBucketTest, ListsManyPages) {
  AzureBucketOptions options = Options();
  options.list_page_size = 3;
  std::unique_ptr<AzureBucket> b = Open(options);
  ASSERT_NE(b, nullptr);
  std::vector<std::string> keys;
  for (int i = 0; i < 20; ++i) keys.push_back(StrCat("p/", 100 + i));
  for (const std::string& key : keys) ASSERT_TRUE(b->Put(key, "v").ok());
  ASSERT_TRUE(b->Put("q", "v").ok());
  EXPECT_EQ(ListKeys(*b, "p/").value(), keys);
  EXPECT_EQ(ListKeys(*b, "p/11").value().size(), 10u);
}

TEST_F(AzureBucketTest, VirtualHostStyle) {
  // https://<account>.blob.core.windows.net as Azure serves it: azurite takes the account from a
  // host name's first label, and libcurl resolves every *.localhost name to the loopback address.
  AzureBucketOptions options = Options();
  options.endpoint_url = StrCat("http://devstoreaccount1.blob.localhost",
                                server_->endpoint().substr(server_->endpoint().rfind(':')));
  std::unique_ptr<AzureBucket> b = Open(options);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->Put("v/h", "virtual host").ok());
  EXPECT_EQ(b->GetRange("v/h", 8, 4).value(), "host");
  // The same blob through the path-style endpoint: one account, one container.
  std::unique_ptr<AzureBucket> path_style = Open(Options());
  ASSERT_NE(path_style, nullptr);
  EXPECT_EQ(path_style->Get("v/h").value(), "virtual host");
  EXPECT_EQ(ListKeys(*b, "").value(), std::vector<std::string>{"v/h"});
}

TEST_F(AzureBucketTest, OpenFailsClearlyOnAWrongKey) {
  AzureBucketOptions options = Options();
  options.account_key = "d3Jvbmcga2V5IHdyb25nIGtleSB3cm9uZyBrZXk=";
  absl::StatusOr<std::unique_ptr<AzureBucket>> b = AzureBucket::Open(options);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kUnauthenticated) << b.status();
  // azurite calls it AuthorizationFailure, Azure AuthenticationFailed (azure_errors.cc).
  EXPECT_THAT(std::string(b.status().message()),
              AllOf(HasSubstr("opening Azure container azure://devstoreaccount1/"),
                    HasSubstr("failed to authenticate"), HasSubstr("-storage.azure.account-key")));
}

TEST_F(AzureBucketTest, OpenFailsClearlyOnAMissingContainer) {
  AzureBucketOptions options = Options();
  options.container = "no-such-container";
  absl::StatusOr<std::unique_ptr<AzureBucket>> b = AzureBucket::Open(options);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kFailedPrecondition) << b.status();
  EXPECT_THAT(std::string(b.status().message()),
              AllOf(HasSubstr("no-such-container"), HasSubstr("ContainerNotFound"),
                    HasSubstr("-storage.azure.container-name")));
}

TEST_F(AzureBucketTest, OpenFailsQuicklyOnAnUnreachableEndpoint) {
  AzureBucketOptions options = Options();
  options.endpoint_url =
      StrCat("http://127.0.0.1:", testing::FreeLoopbackPort(), "/devstoreaccount1");
  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<AzureBucket>> b = AzureBucket::Open(options);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kUnavailable) << b.status();
  EXPECT_THAT(std::string(b.status().message()), HasSubstr("opening Azure container"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST_F(AzureBucketTest, OptionsAreChecked) {
  const auto code = [&](auto change) {
    AzureBucketOptions options = Options();
    change(options);
    return AzureBucket::Open(options).status().code();
  };
  constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
  EXPECT_EQ(code([](AzureBucketOptions& o) { o.account_name = ""; }), kInvalid);
  EXPECT_EQ(code([](AzureBucketOptions& o) { o.account_key = ""; }), kInvalid);  // nor a SAS
  EXPECT_EQ(code([](AzureBucketOptions& o) { o.sas_token = "sv=1&sig=x"; }), kInvalid);  // both
  EXPECT_EQ(code([](AzureBucketOptions& o) {
              o.account_key = "";
              o.sas_token = "?sv=1&sig=x";
            }),
            kInvalid);
  EXPECT_EQ(code([](AzureBucketOptions& o) { o.container = ""; }), kInvalid);
  EXPECT_EQ(code([](AzureBucketOptions& o) { o.account_key = "not base64!"; }), kInvalid);
  EXPECT_EQ(code([](AzureBucketOptions& o) { o.endpoint_url = "127.0.0.1:10000"; }), kInvalid);
  EXPECT_EQ(code([](AzureBucketOptions& o) { o.endpoint_url = "ftp://host"; }), kInvalid);
  EXPECT_EQ(code([](AzureBucketOptions& o) { o.endpoint_url = "http:///"; }), kInvalid);
  EXPECT_EQ(code([](AzureBucketOptions& o) { o.endpoint_url += "?sv=1"; }), kInvalid);
  EXPECT_EQ(code([](AzureBucketOptions& o) { o.part_size = 1000; }), kInvalid);
  EXPECT_EQ(code([](AzureBucketOptions& o) { o.list_page_size = 5001; }), kInvalid);
}

// Answers no real store gives on demand, from a scripted server: the first answer is always the
// probe's listing.
class AzureBucketFaultTest : public ::testing::Test {
 protected:
  static constexpr std::string_view kEmptyListing =
      "<EnumerationResults><Blobs/><NextMarker/></EnumerationResults>";

  std::unique_ptr<AzureBucket> Open(ScriptedHttpServer& server, int max_attempts = 5) {
    AzureBucketOptions options;
    options.account_name = "acct";
    options.account_key = AzuriteProcess::kAccountKey;
    options.container = "c";
    options.endpoint_url = server.url("/acct");
    options.part_size = 1 << 20;
    options.http.max_attempts = max_attempts;
    options.http.initial_backoff = absl::Milliseconds(1);
    absl::StatusOr<std::unique_ptr<AzureBucket>> b = AzureBucket::Open(options);
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

  std::string File(size_t size) {
    const std::string path = dir_.path() + "/f";
    std::ofstream(path, std::ios::binary) << TestData(size);
    return path;
  }

  TempDir dir_;
};

TEST_F(AzureBucketFaultTest, AFailedBlockCommitsNothing) {
  ScriptedHttpServer server({Answer(200, kEmptyListing), Answer(201, ""),
                             Answer(403,
                                    "<Error><Code>AuthorizationPermissionMismatch</Code>"
                                    "<Message>no</Message></Error>")});
  std::unique_ptr<AzureBucket> b = Open(server);
  ASSERT_NE(b, nullptr);
  absl::Status s = b->PutFile("big", File((2 << 20) + 1));
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
  EXPECT_THAT(std::string(s.message()), AllOf(HasSubstr("PutBlock of \"big\""),
                                              HasSubstr("AuthorizationPermissionMismatch")));
  // Two blocks staged (the second refused), no Put Block List: the blob is untouched.
  const std::vector<std::string> lines = RequestLines(server);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[1], HasSubstr("PUT /acct/c/big?comp=block&blockid="));
  EXPECT_THAT(lines[2], HasSubstr("PUT /acct/c/big?comp=block&blockid="));
  EXPECT_NE(lines[1], lines[2]);
}

// The answer of a Blob Batch with one sub-response per (status, error code).
std::string BatchAnswer(const std::vector<std::pair<int, std::string>>& subs) {
  std::string body;
  for (size_t i = 0; i < subs.size(); ++i) {
    body += StrCat(
        "--batchresponse_1\r\nContent-Type: application/http\r\nContent-ID: ", i,
        "\r\n\r\nHTTP/1.1 ", subs[i].first, " X\r\nx-ms-request-id: r\r\n",
        subs[i].second.empty() ? "" : StrCat("x-ms-error-code: ", subs[i].second, "\r\n"), "\r\n");
  }
  body += "--batchresponse_1--";
  return StrCat(
      "HTTP/1.1 202 Accepted\r\nContent-Type: multipart/mixed; boundary=batchresponse_1"
      "\r\nContent-Length: ",
      body.size(), "\r\nConnection: close\r\n\r\n", body);
}

TEST_F(AzureBucketFaultTest, DeleteManySendsSignedBlobBatches) {
  ScriptedHttpServer server({Answer(200, kEmptyListing),
                             BatchAnswer({{202, ""}, {404, "BlobNotFound"}}),
                             BatchAnswer({{202, ""}, {403, "AuthorizationPermissionMismatch"}})});
  std::unique_ptr<AzureBucket> b = Open(server);
  ASSERT_NE(b, nullptr);
  // A key already gone counts as deleted.
  ASSERT_TRUE(b->DeleteMany(std::vector<std::string>{"a/1", "a 2"}).ok());
  const std::vector<std::string> requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_THAT(requests[1], HasSubstr("POST /acct/c?restype=container&comp=batch "));
  EXPECT_THAT(requests[1], HasSubstr("Content-ID: 0\r\n\r\nDELETE /acct/c/a/1 HTTP/1.1\r\n"));
  EXPECT_THAT(requests[1], HasSubstr("Content-ID: 1\r\n\r\nDELETE /acct/c/a%202 HTTP/1.1\r\n"));
  EXPECT_THAT(requests[1], HasSubstr("Authorization: SharedKey acct:"));
  EXPECT_THAT(server.request_headers(1),
              HasSubstr("Content-Type: multipart/mixed; boundary=batch_"));
  // A blob the store refused to delete fails the call and is named.
  absl::Status s = b->DeleteMany(std::vector<std::string>{"x", "y"});
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
  EXPECT_THAT(std::string(s.message()),
              AllOf(HasSubstr("1 of 2 blobs not deleted"), HasSubstr("blob \"y\""),
                    HasSubstr("AuthorizationPermissionMismatch")));
}

TEST_F(AzureBucketFaultTest, BlocksAreCommittedInOrderOnce) {
  ScriptedHttpServer server({Answer(200, kEmptyListing), Answer(201, ""), Answer(201, ""),
                             Answer(201, ""), Answer(201, "")});
  std::unique_ptr<AzureBucket> b = Open(server);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->PutFile("big", File((2 << 20) + 1)).ok());
  const std::vector<std::string> requests = server.requests();
  ASSERT_EQ(requests.size(), 5u);
  std::vector<std::string> ids;
  for (int i = 1; i <= 3; ++i) {
    const std::string line = requests[i].substr(0, requests[i].find(' ', 4));
    ids.push_back(line.substr(line.find("blockid=") + 8));
  }
  // Base64 ids of one length (Azure requires it), percent-encoded in the URL.
  EXPECT_EQ(ids[0].size(), ids[2].size());
  std::string list;
  for (const std::string& id : ids) {
    std::string decoded = id;
    for (size_t p; (p = decoded.find("%3D")) != std::string::npos;) decoded.replace(p, 3, "=");
    for (size_t p; (p = decoded.find("%2B")) != std::string::npos;) decoded.replace(p, 3, "+");
    for (size_t p; (p = decoded.find("%2F")) != std::string::npos;) decoded.replace(p, 3, "/");
    list += StrCat("<Latest>", decoded, "</Latest>");
  }
  EXPECT_EQ(requests[4], StrCat("PUT /acct/c/big?comp=blocklist <?xml version=\"1.0\" "
                                "encoding=\"utf-8\"?><BlockList>",
                                list, "</BlockList>"));
}

TEST_F(AzureBucketFaultTest, ServerBusyIsRetriedThenUnavailable) {
  ScriptedHttpServer server(
      {Answer(200, kEmptyListing),
       Answer(503,
              "<Error><Code>ServerBusy</Code><Message>Ingress is over the account limit."
              "</Message></Error>")});
  std::unique_ptr<AzureBucket> b = Open(server, 3);
  ASSERT_NE(b, nullptr);
  absl::StatusOr<std::string> got = b->Get("hot");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(got.status().message()),
              AllOf(HasSubstr("GetBlob of \"hot\""), HasSubstr("HTTP 503 ServerBusy")));
  EXPECT_EQ(server.requests().size(), 1u + 3u);
}

TEST_F(AzureBucketFaultTest, A5xxThenSuccessIsRetriedTransparently) {
  ScriptedHttpServer server({Answer(200, kEmptyListing),
                             Answer(500, "<Error><Code>InternalError</Code></Error>"),
                             Answer(200, "payload")});
  std::unique_ptr<AzureBucket> b = Open(server);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->Get("k").value(), "payload");
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST_F(AzureBucketFaultTest, ARangeTheStoreIgnoredIsCut) {
  ScriptedHttpServer server({Answer(200, kEmptyListing), Answer(200, "0123456789")});
  std::unique_ptr<AzureBucket> b = Open(server);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->GetRange("k", 2, 3).value(), "234");
  EXPECT_EQ(b->GetRange("k", 8, 5).value(), "89");
  EXPECT_EQ(b->GetRange("k", 11, 1).status().code(), absl::StatusCode::kOutOfRange);
}

TEST_F(AzureBucketFaultTest, AMissingContainerIsNeverAMissingBlob) {
  // Delete treats a missing blob as done; a missing container must not be.
  const std::string missing = StrCat(
      "HTTP/1.1 404 X\r\nx-ms-error-code: ContainerNotFound\r\nContent-Length: 0\r\n"
      "Connection: close\r\n\r\n");
  ScriptedHttpServer server({Answer(200, kEmptyListing), missing});
  std::unique_ptr<AzureBucket> b = Open(server);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->Delete("k").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(b->Exists("k").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(AzureBucketFaultTest, ASasTokenGoesWithEveryRequest) {
  ScriptedHttpServer server({Answer(200, kEmptyListing), Answer(201, ""), Answer(200, "v")});
  AzureBucketOptions options;
  options.sas_token = "sv=2021-08-06&ss=b&sig=a%2Bb%3D";
  options.container = "c";
  options.endpoint_url = server.url("");
  absl::StatusOr<std::unique_ptr<AzureBucket>> b = AzureBucket::Open(options);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_THAT((*b)->Name(), HasSubstr("azure://c at http://127.0.0.1:"));
  ASSERT_TRUE((*b)->Put("k", "v").ok());
  EXPECT_EQ((*b)->Get("k").value(), "v");
  EXPECT_THAT(
      RequestLines(server),
      ElementsAre("GET /c?restype=container&comp=list&maxresults=1&sv=2021-08-06&ss=b&sig=a%2Bb%3D",
                  "PUT /c/k?sv=2021-08-06&ss=b&sig=a%2Bb%3D",
                  "GET /c/k?sv=2021-08-06&ss=b&sig=a%2Bb%3D"));
}

TEST_F(AzureBucketFaultTest, TheProbeIsOneListingOfOneBlob) {
  ScriptedHttpServer server({Answer(200, kEmptyListing)});
  std::unique_ptr<AzureBucket> b = Open(server);
  ASSERT_NE(b, nullptr);
  EXPECT_THAT(RequestLines(server),
              ElementsAre("GET /acct/c?restype=container&comp=list&maxresults=1"));
}

}  // namespace
}  // namespace embers::objstore::azure
