// The S3 response documents, as AWS and s3rver write them.
#include "objstore/s3/s3_responses.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "objstore/http/xml_reader.h"

namespace embers::objstore::s3 {

using ::embers::objstore::http::ParseXml;
using ::embers::objstore::http::XmlElement;
namespace {

using ::testing::ElementsAre;

TEST(S3ResponsesTest, ErrorDocument) {
  // AWS's form.
  std::optional<S3ErrorDocument> e = ParseS3Error(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The "
      "specified key does not exist.</Message><Key>a/b</Key><RequestId>4442587FB7D0A2F9</"
      "RequestId><HostId>x</HostId></Error>");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "NoSuchKey");
  EXPECT_EQ(e->message, "The specified key does not exist.");
  EXPECT_EQ(e->request_id, "4442587FB7D0A2F9");
  EXPECT_FALSE(ParseS3Error("").has_value());  // a HEAD answer
  EXPECT_FALSE(ParseS3Error("<html><body>502 Bad Gateway</body></html>").has_value());
  EXPECT_FALSE(ParseS3Error("<ListBucketResult/>").has_value());
}

TEST(S3ResponsesTest, ListObjectsV2UrlEncoded) {
  // AWS with encoding-type=url: keys encoded, '+' for a space, %2B for '+'.
  absl::StatusOr<ListObjectsPage> page = ParseListObjectsV2(
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name>"
      "<Prefix>p</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>"
      "<EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>"
      "<Contents><Key>p/with+space/%C3%BC%2B1</Key><Size>1</Size></Contents>"
      "<Contents><Key>p/a%26b</Key><Size>1</Size></Contents>"
      "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</"
      "NextContinuationToken></ListBucketResult>");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(page->keys, ElementsAre("p/with space/\xC3\xBC+1", "p/a&b"));
  EXPECT_TRUE(page->is_truncated);
  EXPECT_EQ(page->next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

TEST(S3ResponsesTest, ListObjectsV2Plain) {
  // s3rver ignores encoding-type: keys as they are, entities decoded by the XML reader.
  absl::StatusOr<ListObjectsPage> page = ParseListObjectsV2(
      "<ListBucketResult><Name>b</Name><Prefix></Prefix><KeyCount>1</KeyCount>"
      "<IsTruncated>false</IsTruncated><Contents><Key>a+b &amp; 100%</Key><ETag>&quot;x&quot;"
      "</ETag></Contents></ListBucketResult>");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(page->keys, ElementsAre("a+b & 100%"));
  EXPECT_FALSE(page->is_truncated);
  ASSERT_TRUE(ParseListObjectsV2("<ListBucketResult><IsTruncated>false</IsTruncated>"
                                 "</ListBucketResult>")
                  .ok());
}

TEST(S3ResponsesTest, ListObjectsV2Errors) {
  EXPECT_FALSE(ParseListObjectsV2("<Error><Code>x</Code></Error>").ok());
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><Contents/></ListBucketResult>").ok());
  // Truncated without a token would list the first page forever.
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated>"
                                  "</ListBucketResult>")
                   .ok());
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><EncodingType>url</EncodingType><Contents>"
                                  "<Key>bad%2</Key></Contents></ListBucketResult>")
                   .ok());
}

TEST(S3ResponsesTest, InitiateMultipartUpload) {
  absl::StatusOr<std::string> id = ParseInitiateMultipartUpload(
      "<?xml version=\"1.0\"?><InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
      "<UploadId>VXBsb2FkIElE</UploadId></InitiateMultipartUploadResult>");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, "VXBsb2FkIElE");
  EXPECT_FALSE(ParseInitiateMultipartUpload("<InitiateMultipartUploadResult/>").ok());
  EXPECT_FALSE(ParseInitiateMultipartUpload("<Error/>").ok());
}

TEST(S3ResponsesTest, CompleteMultipartUploadBody) {
  const std::string body = CompleteMultipartUploadBody({"\"e1\"", "\"e&2\""});
  EXPECT_EQ(body,
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;e1&quot;</ETag>"
            "</Part><Part><PartNumber>2</PartNumber><ETag>&quot;e&amp;2&quot;</ETag></Part>"
            "</CompleteMultipartUpload>");
  absl::StatusOr<XmlElement> parsed = ParseXml(body);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->children[1].ChildText("ETag"), "\"e&2\"");
}

TEST(S3ResponsesTest, DeleteObjectsBodyAndResult) {
  const std::vector<std::string> keys = {"a/b", "x&y<z"};
  EXPECT_EQ(DeleteObjectsBody(keys),
            "<Delete><Quiet>true</Quiet><Object><Key>a/b</Key></Object>"
            "<Object><Key>x&amp;y&lt;z</Key></Object></Delete>");
  // AWS's answer in quiet mode: only the failures.
  absl::StatusOr<std::vector<DeleteObjectsError>> errors = ParseDeleteResult(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><DeleteResult "
      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Error><Key>x&amp;y</Key>"
      "<Code>AccessDenied</Code><Message>Access Denied</Message></Error></DeleteResult>");
  ASSERT_TRUE(errors.ok()) << errors.status();
  ASSERT_EQ(errors->size(), 1u);
  EXPECT_EQ((*errors)[0].key, "x&y");
  EXPECT_EQ((*errors)[0].code, "AccessDenied");
  EXPECT_EQ((*errors)[0].message, "Access Denied");
  // Non-quiet stores also list what they deleted: no failure.
  errors = ParseDeleteResult("<DeleteResult><Deleted><Key>a</Key></Deleted></DeleteResult>");
  ASSERT_TRUE(errors.ok());
  EXPECT_TRUE(errors->empty());
  EXPECT_FALSE(ParseDeleteResult("<Error><Code>NoSuchBucket</Code></Error>").ok());
  EXPECT_FALSE(ParseDeleteResult("not xml").ok());
}

TEST(S3ResponsesTest, UrlDecodeKey) {
  EXPECT_EQ(UrlDecodeKey("a%2Fb+c%2bd").value(), "a/b c+d");
  EXPECT_EQ(UrlDecodeKey("").value(), "");
  for (std::string_view bad : {"%", "%2", "%zz", "a%g0"}) {
    EXPECT_FALSE(UrlDecodeKey(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace embers::objstore::s3
