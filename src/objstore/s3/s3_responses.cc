#include "objstore/s3/s3_responses.h"

#include <utility>

#include "base/strings.h"
#include "objstore/http/xml_reader.h"

namespace embers::objstore::s3 {

using ::embers::objstore::http::ParseXml;
using ::embers::objstore::http::XmlElement;
using ::embers::objstore::http::XmlEscape;

std::optional<S3ErrorDocument> ParseS3Error(std::string_view body) {
  absl::StatusOr<XmlElement> root = ParseXml(body);
  if (!root.ok() || root->name != "Error") return std::nullopt;
  return S3ErrorDocument{.code = std::string(root->ChildText("Code")),
                         .message = std::string(root->ChildText("Message")),
                         .request_id = std::string(root->ChildText("RequestId"))};
}

absl::StatusOr<ListObjectsPage> ParseListObjectsV2(std::string_view body) {
  absl::StatusOr<XmlElement> root = ParseXml(body);
  if (!root.ok()) return root.status();
  if (root->name != "ListBucketResult") {
    return absl::InvalidArgumentError(
        StrCat("expected a ListBucketResult document, got <", root->name, ">"));
  }
  // Only the keys are URL-encoded, and only when the store says so: s3rver ignores the
  // encoding-type parameter and sends them as they are.
  const bool url_encoded = root->ChildText("EncodingType") == "url";
  ListObjectsPage page;
  for (const XmlElement& child : root->children) {
    if (child.name != "Contents") continue;
    const XmlElement* key = child.Child("Key");
    if (key == nullptr) return absl::InvalidArgumentError("a <Contents> element without <Key>");
    if (!url_encoded) {
      page.keys.push_back(key->text);
      continue;
    }
    absl::StatusOr<std::string> decoded = UrlDecodeKey(key->text);
    if (!decoded.ok()) return decoded.status();
    page.keys.push_back(std::move(*decoded));
  }
  page.is_truncated = root->ChildText("IsTruncated") == "true";
  if (page.is_truncated) {
    page.next_continuation_token = std::string(root->ChildText("NextContinuationToken"));
    if (page.next_continuation_token.empty()) {
      return absl::InvalidArgumentError("a truncated listing without NextContinuationToken");
    }
  }
  return page;
}

absl::StatusOr<std::string> ParseInitiateMultipartUpload(std::string_view body) {
  absl::StatusOr<XmlElement> root = ParseXml(body);
  if (!root.ok()) return root.status();
  if (root->name != "InitiateMultipartUploadResult") {
    return absl::InvalidArgumentError(
        StrCat("expected an InitiateMultipartUploadResult document, got <", root->name, ">"));
  }
  std::string_view id = root->ChildText("UploadId");
  if (id.empty())
    return absl::InvalidArgumentError("InitiateMultipartUploadResult without UploadId");
  return std::string(id);
}

std::string CompleteMultipartUploadBody(const std::vector<std::string>& etags) {
  std::string body = "<CompleteMultipartUpload>";
  for (size_t i = 0; i < etags.size(); ++i) {
    body += StrCat("<Part><PartNumber>", i + 1, "</PartNumber><ETag>", XmlEscape(etags[i]),
                   "</ETag></Part>");
  }
  body += "</CompleteMultipartUpload>";
  return body;
}

std::string DeleteObjectsBody(std::span<const std::string> keys) {
  std::string body = "<Delete><Quiet>true</Quiet>";
  for (const std::string& key : keys)
    body += StrCat("<Object><Key>", XmlEscape(key), "</Key></Object>");
  body += "</Delete>";
  return body;
}

absl::StatusOr<std::vector<DeleteObjectsError>> ParseDeleteResult(std::string_view body) {
  absl::StatusOr<XmlElement> root = ParseXml(body);
  if (!root.ok()) return root.status();
  if (root->name != "DeleteResult") {
    return absl::InvalidArgumentError(
        StrCat("expected a DeleteResult document, got <", root->name, ">"));
  }
  std::vector<DeleteObjectsError> errors;
  for (const XmlElement& child : root->children) {
    if (child.name != "Error") continue;
    errors.push_back({.key = std::string(child.ChildText("Key")),
                      .code = std::string(child.ChildText("Code")),
                      .message = std::string(child.ChildText("Message"))});
  }
  return errors;
}

absl::StatusOr<std::string> UrlDecodeKey(std::string_view encoded) {
  std::string out;
  out.reserve(encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    const char c = encoded[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c != '%') {
      out.push_back(c);
    } else {
      const int hi = i + 2 < encoded.size() ? HexDigitValue(encoded[i + 1]) : -1;
      const int lo = hi >= 0 ? HexDigitValue(encoded[i + 2]) : -1;
      if (lo < 0) {
        return absl::InvalidArgumentError(
            StrCat("malformed percent-escape in listed key \"", encoded, "\""));
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    }
  }
  return out;
}

}  // namespace embers::objstore::s3
