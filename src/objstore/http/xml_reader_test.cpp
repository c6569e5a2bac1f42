// ParseXml on the shapes S3 answers take, and on malformed or hostile input.
#include "objstore/http/xml_reader.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace embers::objstore::http {
namespace {

using ::testing::HasSubstr;

TEST(XmlReaderTest, ElementsTextAndChildren) {
  absl::StatusOr<XmlElement> root = ParseXml(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<!-- a comment -->\n"
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Name>b</Name><Contents><Key>a/b</Key><Size>3</Size></Contents>"
      "<Contents><Key>c</Key></Contents><Empty/><Spaced  a = 'x' ></Spaced ></ListBucketResult>\n");
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(root->name, "ListBucketResult");
  EXPECT_EQ(root->ChildText("Name"), "b");
  ASSERT_EQ(root->children.size(), 5u);
  EXPECT_EQ(root->children[1].ChildText("Key"), "a/b");
  EXPECT_EQ(root->children[2].ChildText("Key"), "c");
  EXPECT_EQ(root->Child("Empty")->text, "");
  EXPECT_NE(root->Child("Spaced"), nullptr);
  EXPECT_EQ(root->Child("Missing"), nullptr);
  EXPECT_EQ(root->ChildText("Missing"), "");
}

TEST(XmlReaderTest, ReferencesCdataAndNamespacePrefixes) {
  absl::StatusOr<XmlElement> root = ParseXml(
      "\xEF\xBB\xBF<s3:Error xmlns:s3=\"x\"><s3:Message>a &amp; b &lt;c&gt; &quot;d&quot; "
      "&apos;e&apos; &#65;&#x42;&#xE9;&#x1F600;</s3:Message><Raw><![CDATA[<not>&amp;]]></Raw>"
      "</s3:Error>");
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(root->name, "Error");
  EXPECT_EQ(root->ChildText("Message"), "a & b <c> \"d\" 'e' AB\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(root->ChildText("Raw"), "<not>&amp;");
}

TEST(XmlReaderTest, SelfClosingRootAndDoctype) {
  absl::StatusOr<XmlElement> root = ParseXml("<!DOCTYPE x><Root/>  ");
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(root->name, "Root");
}

TEST(XmlReaderTest, RejectsMalformedDocuments) {
  for (std::string_view doc : {"",
                               "   ",
                               "text",
                               "<a>",
                               "<a></b>",
                               "</a>",
                               "<a></a><b/>",
                               "<a/>trailing",
                               "<a>&unknown;</a>",
                               "<a>&#0;</a>",
                               "<a>&#xD800;</a>",
                               "<a>&#x110000;</a>",
                               "<a>&amp</a>",
                               "<a b></a>",
                               "<a b=c></a>",
                               "<a b=\"<\"></a>",
                               "<a b=\"x></a>",
                               "<a",
                               "<>",
                               "<a><!--",
                               "<a><![CDATA[x</a>",
                               "<?xml",
                               "<!DOCTYPE x [<!ENTITY e \"v\">]><a/>",
                               "<:/>",
                               "<a></a>text",
                               "<a><b></a></b>"}) {
    absl::StatusOr<XmlElement> root = ParseXml(doc);
    EXPECT_EQ(root.status().code(), absl::StatusCode::kInvalidArgument) << doc;
  }
}

TEST(XmlReaderTest, DepthAndElementLimits) {
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "<a>";
  for (int i = 0; i < 40; ++i) deep += "</a>";
  absl::StatusOr<XmlElement> root = ParseXml(deep);
  EXPECT_EQ(root.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(root.status().message()), HasSubstr("deeper than 32"));
  EXPECT_TRUE(ParseXml(deep, {.max_depth = 64}).ok());

  std::string many = "<r>";
  for (int i = 0; i < 100; ++i) many += "<k/>";
  many += "</r>";
  EXPECT_TRUE(ParseXml(many).ok());
  EXPECT_FALSE(ParseXml(many, {.max_elements = 50}).ok());
}

TEST(XmlReaderTest, Escape) {
  EXPECT_EQ(XmlEscape("\"etag\" & <x>"), "&quot;etag&quot; &amp; &lt;x&gt;");
  absl::StatusOr<XmlElement> back = ParseXml("<e>" + XmlEscape("\"a&b<c>\"") + "</e>");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->text, "\"a&b<c>\"");
}

}  // namespace
}  // namespace embers::objstore::http
