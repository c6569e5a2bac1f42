#include "cmd/cli/embers_api.h"

#include <google/protobuf/message.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "base/status.h"
#include "base/strings.h"
#include "nlohmann/json.hpp"
#include "server/status_mapping.h"

namespace embers::cli {
namespace {

// Error messages are meant for one line on a terminal.
constexpr size_t kMaxErrorMessageBytes = 512;

std::string FirstLine(std::string_view text) {
  text = StripWhitespace(text);
  text = text.substr(0, text.find('\n'));
  if (text.size() > kMaxErrorMessageBytes) {
    return StrCat(text.substr(0, kMaxErrorMessageBytes), "…");
  }
  return std::string(text);
}

}  // namespace

absl::Status HttpErrorStatus(std::string_view request, int http_status, std::string_view body) {
  absl::StatusCode code = server::StatusCodeForHttpStatus(http_status);
  std::string message;
  // A Connect error: {"code":"invalid_argument","message":"…"}.
  auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_object()) {
    if (auto it = json.find("code"); it != json.end() && it->is_string()) {
      absl::StatusCode named = server::StatusCodeForConnectName(it->get<std::string>());
      if (named != absl::StatusCode::kUnknown) code = named;
    }
    if (auto it = json.find("message"); it != json.end() && it->is_string()) {
      message = FirstLine(it->get<std::string>());
    }
  }
  if (message.empty()) message = FirstLine(body);
  std::string text = StrCat(request, ": HTTP ", http_status);
  if (!message.empty()) text += StrCat(": ", message);
  if (http_status == 404 && message.starts_with("no route")) {
    text += StrCat(" (is --url an embers server that serves this API?)");
  }
  return absl::Status(code, text);
}

std::string UrlEncode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

absl::StatusOr<std::unique_ptr<EmbersApi>> EmbersApi::Create(EmbersApiOptions options) {
  std::string_view url = options.url;
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    return absl::InvalidArgumentError(
        StrCat("--url \"", url, "\" must start with http:// or https://"));
  }
  const size_t host_start = url.find("://") + 3;
  if (host_start >= url.size() || url[host_start] == '/' || url[host_start] == ':') {
    return absl::InvalidArgumentError(StrCat("--url \"", url, "\" names no host"));
  }
  while (options.url.ends_with("/")) options.url.pop_back();
  if (!options.bearer_token.empty() && !options.username.empty()) {
    return absl::InvalidArgumentError("give --bearer-token or --username/--password, not both");
  }
  objstore::http::HttpClientOptions http;
  http.max_connections = options.max_connections;
  http.connect_timeout = std::min(options.timeout, absl::Seconds(10));
  http.attempt_timeout = options.timeout;
  http.deadline = options.timeout;
  http.max_attempts = options.max_attempts;
  http.verify_tls = options.verify_tls;
  EMBERS_ASSIGN_OR_RETURN(auto client, objstore::http::HttpClient::Create(http));
  return std::unique_ptr<EmbersApi>(new EmbersApi(std::move(options), std::move(client)));
}

EmbersApi::EmbersApi(EmbersApiOptions options, std::unique_ptr<objstore::http::HttpClient> http)
    : options_(std::move(options)), http_(std::move(http)) {
  if (!options_.tenant_id.empty())
    common_headers_.emplace_back("X-Scope-OrgID", options_.tenant_id);
  if (!options_.bearer_token.empty()) {
    common_headers_.emplace_back("Authorization", StrCat("Bearer ", options_.bearer_token));
  } else if (!options_.username.empty()) {
    common_headers_.emplace_back(
        "Authorization",
        StrCat("Basic ", absl::Base64Escape(StrCat(options_.username, ":", options_.password))));
  }
  common_headers_.emplace_back("User-Agent", "embers-cli/" EMBERS_VERSION);
}

absl::Status EmbersApi::Send(std::string_view http_method, std::string_view path_and_query,
                             std::string_view body, std::string_view content_type,
                             std::string* response_body) {
  objstore::http::HttpRequest request;
  request.method = std::string(http_method);
  request.url = StrCat(options_.url, path_and_query);
  request.headers = common_headers_;
  if (!content_type.empty()) request.headers.emplace_back("Content-Type", content_type);
  request.body = body;
  const std::string what =
      StrCat(http_method, " ", path_and_query.substr(0, path_and_query.find('?')));
  absl::StatusOr<objstore::http::HttpResponse> response = http_->Send(request);
  // Transport errors already name the method and the URL.
  if (!response.ok()) return response.status();
  if (response->status < 200 || response->status >= 300) {
    return HttpErrorStatus(what, response->status, response->body);
  }
  if (response_body != nullptr) *response_body = std::move(response->body);
  return absl::OkStatus();
}

absl::Status EmbersApi::Call(std::string_view method, const google::protobuf::Message& request,
                             google::protobuf::Message* response) {
  std::string body;
  if (!request.SerializeToString(&body)) {
    return absl::InternalError(StrCat("cannot encode the ", method, " request"));
  }
  std::string answer;
  EMBERS_RETURN_IF_ERROR(Send("POST", StrCat("/", method), body, "application/proto", &answer));
  if (!response->ParseFromString(answer)) {
    return absl::InternalError(
        StrCat(method, ": the answer is not a ", response->GetTypeName(), " message"));
  }
  return absl::OkStatus();
}

}  // namespace embers::cli
