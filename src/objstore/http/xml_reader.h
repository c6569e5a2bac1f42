// ParseXml: a small XML reader, enough for the documents S3-compatible stores and Azure Blob answer
// with (ListBucketResult, InitiateMultipartUploadResult, CompleteMultipartUploadResult, Error).
//
// Used by the cloud buckets' response parsers (s3_responses.cc). It builds a tree of elements with
// their character data and skips what those documents may carry but we never read: the XML
// declaration, processing instructions, comments, a DOCTYPE without an internal subset, attributes
// (xmlns) and namespace prefixes. Entity and character references are decoded, CDATA sections kept
// as text. It checks well-formedness only as far as the structure goes (tags balance, one root
// element); the input comes from the network, so depth, size and element count are bounded and
// every malformed document is an InvalidArgument error, never a crash (s3_xml_fuzzer.cc).
#ifndef EMBERS_OBJSTORE_HTTP_XML_READER_H_
#define EMBERS_OBJSTORE_HTTP_XML_READER_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace embers::objstore::http {

struct XmlElement {
  std::string name;  // local name: "ns:Key" is "Key"
  std::string text;  // the character data directly inside, decoded, whitespace kept
  std::vector<XmlElement> children;

  // The first child named `name`, or nullptr.
  const XmlElement* Child(std::string_view name) const;
  // The text of the first child named `name`, or "" when there is none.
  std::string_view ChildText(std::string_view name) const;
};

struct XmlLimits {
  size_t max_depth = 32;
  size_t max_elements = 1'000'000;
};

// The root element of `document`. InvalidArgument, with the byte offset, when it is not
// well-formed or exceeds `limits`.
absl::StatusOr<XmlElement> ParseXml(std::string_view document, const XmlLimits& limits = {});

// `text` with & < > " escaped, for character data and attribute values we write.
std::string XmlEscape(std::string_view text);

}  // namespace embers::objstore::http

#endif  // EMBERS_OBJSTORE_HTTP_XML_READER_H_
