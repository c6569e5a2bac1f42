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

std::string BlobBatchBody(std::string_view boundary, const std::vector<BatchSubRequest>& requests) {
  std::string body;
  for (size_t i = 0; i < requests.size(); ++i) {
    const BatchSubRequest& r = requests[i];
    body += StrCat("--", boundary,
                   "\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
                   "Content-ID: ",
                   i, "\r\n\r\n", r.method, " ", r.path, " HTTP/1.1\r\n");
    for (const auto& [name, value] : r.headers) body += StrCat(name, ": ", value, "\r\n");
    body += "\r\n";
  }
  body += StrCat("--", boundary, "--\r\n");
  return body;
}

absl::StatusOr<std::vector<BatchSubResponse>> ParseBlobBatchResponse(std::string_view content_type,
                                                                     std::string_view body) {
  const size_t at = content_type.find("boundary=");
  if (content_type.substr(0, 15) != "multipart/mixed" || at == std::string_view::npos) {
    return absl::InvalidArgumentError(
        StrCat("a Blob Batch answer of Content-Type \"", content_type, "\""));
  }
  std::string_view boundary = content_type.substr(at + 9);
  boundary = boundary.substr(0, boundary.find(';'));
  if (boundary.size() >= 2 && boundary.front() == '"' && boundary.back() == '"') {
    boundary = boundary.substr(1, boundary.size() - 2);
  }
  if (boundary.empty() || boundary.size() > 200) {
    return absl::InvalidArgumentError("a Blob Batch answer without a usable boundary");
  }
  const std::string delimiter = StrCat("--", boundary);
  std::vector<BatchSubResponse> out;
  size_t pos = body.find(delimiter);
  while (pos != std::string_view::npos) {
    pos += delimiter.size();
    if (body.substr(pos, 2) == "--") return out;  // the closing delimiter
    const size_t next = body.find(delimiter, pos);
    const std::string_view part =
        body.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos);
    BatchSubResponse response;
    bool in_http = false;  // past the part's own headers, in the embedded answer
    for (std::string_view line : Split(part, '\n')) {
      line = StripWhitespace(line);
      if (!in_http) {
        if (EqualsIgnoreCase(line.substr(0, 11), "content-id:")) {
          int id = -1;
          if (ParseInt(StripWhitespace(line.substr(11)), &id)) response.content_id = id;
        } else if (line.substr(0, 5) == "HTTP/") {
          in_http = true;
          const std::vector<std::string_view> words = Split(line, ' ', true);
          if (words.size() < 2 || !ParseInt(words[1], &response.status)) {
            return absl::InvalidArgumentError(StrCat("a Blob Batch status line \"", line, "\""));
          }
        }
      } else if (EqualsIgnoreCase(line.substr(0, 16), "x-ms-error-code:")) {
        response.error_code = std::string(StripWhitespace(line.substr(16)));
      }
    }
    if (!in_http) return absl::InvalidArgumentError("a Blob Batch part without an HTTP answer");
    out.push_back(std::move(response));
    if (out.size() > 10000) return absl::InvalidArgumentError("a Blob Batch answer too long");
    pos = next;
  }
  return absl::InvalidArgumentError("a Blob Batch answer without its closing boundary");
}

}  // namespace embers::objstore::azure
