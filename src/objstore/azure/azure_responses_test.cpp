// The Azure XML parsers on answers recorded from azurite and the Azure documentation.
#include "objstore/azure/azure_responses.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace embers::objstore::azure {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(AzureResponsesTest, ListBlobsPage) {
  // azurite 3.35, List Blobs with maxresults=2 (Properties trimmed).
  const std::string body =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
      "<EnumerationResults ServiceEndpoint=\"http://127.0.0.1:10000/devstoreaccount1\" "
      "ContainerName=\"embers\"><Prefix>seg</Prefix><MaxResults>2</MaxResults><Blobs>"
      "<Blob><Name>seg-other</Name><Properties><Content-Length>9</Content-Length></Properties>"
      "</Blob><Blob><Name>segments/1/a &amp; b/ü</Name><Properties/></Blob></Blobs>"
      "<NextMarker>segz</NextMarker></EnumerationResults>";
  absl::StatusOr<ListBlobsPage> page = ParseListBlobs(body);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(page->names, ElementsAre("seg-other", "segments/1/a & b/ü"));
  EXPECT_EQ(page->next_marker, "segz");
}

TEST(AzureResponsesTest, LastAndEmptyPages) {
  absl::StatusOr<ListBlobsPage> page =
      ParseListBlobs("<EnumerationResults><Blobs/><NextMarker/></EnumerationResults>");
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(page->names, IsEmpty());
  EXPECT_EQ(page->next_marker, "");
  page = ParseListBlobs(
      "<EnumerationResults><Blobs><Blob><Name>a</Name></Blob></Blobs>"
      "</EnumerationResults>");
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(page->names, ElementsAre("a"));
  EXPECT_EQ(page->next_marker, "");
}

TEST(AzureResponsesTest, MalformedListings) {
  EXPECT_FALSE(ParseListBlobs("").ok());
  EXPECT_FALSE(ParseListBlobs("<Error><Code>X</Code></Error>").ok());
  EXPECT_FALSE(ParseListBlobs("<EnumerationResults><Blobs><Blob><Properties/></Blob></Blobs>"
                              "</EnumerationResults>")
                   .ok());
  EXPECT_FALSE(ParseListBlobs("<EnumerationResults><Blobs>").ok());
}

TEST(AzureResponsesTest, ErrorDocument) {
  const std::optional<AzureErrorDocument> doc = ParseAzureError(
      "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthenticationFailed"
      "</Code><Message>Server failed to authenticate the request.\nRequestId:r-1\n"
      "Time:2026-12-06T22:41:19.000Z</Message><AuthenticationErrorDetail>The MAC signature found "
      "in the HTTP request 'x' is not the same as any computed signature."
      "</AuthenticationErrorDetail></Error>");
  // Azure starts its XML with a UTF-8 byte order mark.
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ(doc->code, "AuthenticationFailed");
  EXPECT_EQ(doc->message, "Server failed to authenticate the request.");
  EXPECT_EQ(doc->request_id, "r-1");
  EXPECT_THAT(doc->authentication_detail, ::testing::HasSubstr("MAC signature"));
}

TEST(AzureResponsesTest, NotAnErrorDocument) {
  EXPECT_FALSE(ParseAzureError("").has_value());
  EXPECT_FALSE(ParseAzureError("<html><body>Bad gateway</body></html>").has_value());
  const std::optional<AzureErrorDocument> doc =
      ParseAzureError("<Error><Code>BlobNotFound</Code><Message>gone</Message></Error>");
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ(doc->code, "BlobNotFound");
  EXPECT_EQ(doc->message, "gone");
}

TEST(AzureResponsesTest, BlockListBody) {
  EXPECT_EQ(BlockListBody({"QQ==", "Qg=="}),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><Latest>QQ==</Latest>"
            "<Latest>Qg==</Latest></BlockList>");
}

TEST(AzureResponsesTest, BlobBatchBodyAndAnswer) {
  const std::string body = BlobBatchBody(
      "batch_x", {{.method = "DELETE", .path = "/c/a", .headers = {{"x-ms-date", "d"}}},
                  {.method = "DELETE", .path = "/c/b", .headers = {}}});
  EXPECT_EQ(body,
            "--batch_x\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
            "Content-ID: 0\r\n\r\nDELETE /c/a HTTP/1.1\r\nx-ms-date: d\r\n\r\n"
            "--batch_x\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
            "Content-ID: 1\r\n\r\nDELETE /c/b HTTP/1.1\r\n\r\n--batch_x--\r\n");
  // As Azure answers: a 202 and a 404 with its error code.
  absl::StatusOr<std::vector<BatchSubResponse>> answers = ParseBlobBatchResponse(
      "multipart/mixed; boundary=batchresponse_66925647-d0cb-4109-b6d3-28efe3e1e5ed",
      "--batchresponse_66925647-d0cb-4109-b6d3-28efe3e1e5ed\r\nContent-Type: application/http\r\n"
      "Content-ID: 0\r\n\r\nHTTP/1.1 202 Accepted\r\nx-ms-delete-type-permanent: true\r\n"
      "x-ms-request-id: 7\r\nx-ms-version: 2021-08-06\r\n\r\n"
      "--batchresponse_66925647-d0cb-4109-b6d3-28efe3e1e5ed\r\nContent-Type: application/http\r\n"
      "Content-ID: 1\r\n\r\nHTTP/1.1 404 The specified blob does not exist.\r\n"
      "x-ms-error-code: BlobNotFound\r\nContent-Length: 216\r\n\r\n<?xml version=\"1.0\"?>"
      "<Error><Code>BlobNotFound</Code></Error>\r\n"
      "--batchresponse_66925647-d0cb-4109-b6d3-28efe3e1e5ed--");
  ASSERT_TRUE(answers.ok()) << answers.status();
  ASSERT_EQ(answers->size(), 2u);
  EXPECT_EQ((*answers)[0].content_id, 0);
  EXPECT_EQ((*answers)[0].status, 202);
  EXPECT_EQ((*answers)[1].status, 404);
  EXPECT_EQ((*answers)[1].error_code, "BlobNotFound");
  // Not a batch answer, no closing boundary, a part without a status line.
  EXPECT_FALSE(ParseBlobBatchResponse("application/xml", "<Error/>").ok());
  EXPECT_FALSE(ParseBlobBatchResponse("multipart/mixed; boundary=b",
                                      "--b\r\nContent-ID: 0\r\n\r\nHTTP/1.1 202 A\r\n")
                   .ok());
  EXPECT_FALSE(
      ParseBlobBatchResponse("multipart/mixed; boundary=b", "--b\r\nContent-ID: 0\r\n--b--").ok());
}

}  // namespace
}  // namespace embers::objstore::azure
