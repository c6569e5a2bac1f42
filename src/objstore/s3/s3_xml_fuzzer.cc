// libFuzzer entry point for the XML the S3 bucket reads from the network (xml_reader.h) and the
// S3 response parsers built on it (s3_responses.h).
//
// Properties: no crash, hang or leak on any input; the element-count and depth limits hold; and
// what ParseXml accepts survives a round trip: a document rebuilt from the tree (names, escaped
// text) parses back to the same tree.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "objstore/http/xml_reader.h"
#include "objstore/s3/s3_responses.h"

namespace {

using embers::objstore::http::XmlElement;

size_t Depth(const XmlElement& e) {
  size_t d = 0;
  for (const XmlElement& c : e.children) d = std::max(d, Depth(c));
  return d + 1;
}

// Text first, then children: the reader concatenates an element's text wherever it stands.
void Write(const XmlElement& e, std::string* out) {
  *out += "<" + e.name + ">" + embers::objstore::http::XmlEscape(e.text);
  for (const XmlElement& c : e.children) Write(c, out);
  *out += "</" + e.name + ">";
}

// Names the rebuilt document can carry as they are (a local name such as "!--", from "a:!--",
// would turn into a comment).
bool PlainNames(const XmlElement& e) {
  for (char c : e.name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      return false;
    }
  }
  for (const XmlElement& c : e.children) {
    if (!PlainNames(c)) return false;
  }
  return true;
}

bool Same(const XmlElement& a, const XmlElement& b) {
  if (a.name != b.name || a.text != b.text || a.children.size() != b.children.size()) return false;
  for (size_t i = 0; i < a.children.size(); ++i) {
    if (!Same(a.children[i], b.children[i])) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const embers::objstore::http::XmlLimits limits{.max_depth = 16, .max_elements = 10000};
  auto root = embers::objstore::http::ParseXml(input, limits);
  if (root.ok()) {
    if (Depth(*root) > limits.max_depth) std::abort();
    if (PlainNames(*root)) {
      std::string rebuilt;
      Write(*root, &rebuilt);
      auto again = embers::objstore::http::ParseXml(rebuilt, limits);
      if (!again.ok() || !Same(*root, *again)) std::abort();
    }
  }
  (void)embers::objstore::s3::ParseS3Error(input);
  (void)embers::objstore::s3::ParseListObjectsV2(input);
  (void)embers::objstore::s3::ParseInitiateMultipartUpload(input);
  (void)embers::objstore::s3::ParseDeleteResult(input);
  (void)embers::objstore::s3::UrlDecodeKey(input);
  return 0;
}
