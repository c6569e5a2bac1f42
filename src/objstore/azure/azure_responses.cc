#include "objstore/azure/azure_responses.h"

#include <utility>

#include "base/strings.h"
#include "objstore/http/xml_reader.h"

namespace embers::objstore::azure {

using ::embers::objstore::http::ParseXml;
using ::embers::objstore::http::XmlElement;
using ::embers::objstore::http::XmlEscape;

std::optional<AzureErrorDocument> ParseAzureError(std::string_view body) {
  absl::StatusOr<XmlElement> root = ParseXml(body);
  if (!root.ok() || root->name != "Error") return std::nullopt;
  AzureErrorDocument doc{.code = std::string(StripWhitespace(root->ChildText("Code")))};
  for (std::string_view line : Split(root->ChildText("Message"), '\n', true)) {
    line = StripWhitespace(line);
    if (line.empty() || line.substr(0, 5) == "Time:") continue;
    if (line.substr(0, 10) == "RequestId:") {
      doc.request_id = std::string(line.substr(10));
      continue;
    }
    if (!doc.message.empty()) doc.message += "; ";
    doc.message += line;
  }
  doc.authentication_detail =
      std::string(StripWhitespace(root->ChildText("AuthenticationErrorDetail")));
  return doc;
}

absl::StatusOr<ListBlobsPage> ParseListBlobs(std::string_view body) {
  absl::StatusOr<XmlElement> root = ParseXml(body);
  if (!root.ok()) return root.status();
  if (root->name != "EnumerationResults") {
    return absl::InvalidArgumentError(
        StrCat("expected an EnumerationResults document, got <", root->name, ">"));
  }
  ListBlobsPage page;
  if (const XmlElement* blobs = root->Child("Blobs"); blobs != nullptr) {
    for (const XmlElement& blob : blobs->children) {
      if (blob.name != "Blob") continue;  // BlobPrefix only comes with a delimiter
      const XmlElement* name = blob.Child("Name");
      if (name == nullptr || name->text.empty()) {
        return absl::InvalidArgumentError("a <Blob> element without <Name>");
      }
      page.names.push_back(name->text);
    }
  }
  page.next_marker = std::string(root->ChildText("NextMarker"));
  return page;
}

std::string BlockListBody(const std::vector<std::string>& block_ids) {
  std::string body = R"(<?xml version="1.0" encoding="utf-8"?><BlockList>)";
  for (const std::string& id : block_ids) body += StrCat("<Latest>", XmlEscape(id), "</Latest>");
  body += "</BlockList>";
  return body;
}

}  // namespace embers::objstore::azure
