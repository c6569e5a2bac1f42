// EmbersApi: the public HTTP API of an embers server as embers-cli calls it — Connect unary calls
// in the binary protobuf encoding (querier.v1, push.v1, ...) and plain HTTP routes (/ingest,
// /ready, the status pages). Adds the tenant (X-Scope-OrgID) and credentials to every request.
//
// Transport: objstore::http::HttpClient (libcurl, keep-alive pool): connection failures, 429 and
// 5xx answers are retried with jittered exponential backoff within the request's deadline. Every
// other answer is turned into an absl::Status with the server's own message, so the CLI can print
// one clear line: "POST /ingest: 400 Bad Request: unknown format \"xyz\"".
//
// Thread-safe: upload calls it from several threads (at most `max_connections` requests at once).
#ifndef EMBERS_CMD_CLI_EMBERS_API_H_
#define EMBERS_CMD_CLI_EMBERS_API_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "objstore/http/http_client.h"

namespace google::protobuf {
class Message;
}

namespace embers::cli {

struct EmbersApiOptions {
  std::string url;  // scheme://host[:port][/prefix]
  std::string tenant_id;
  std::string username;
  std::string password;
  std::string bearer_token;
  absl::Duration timeout = absl::Seconds(60);
  int max_connections = 16;
  int max_attempts = 5;
  bool verify_tls = true;
};

class EmbersApi {
 public:
  // InvalidArgument for a URL that is not http(s)://host[:port][/path].
  static absl::StatusOr<std::unique_ptr<EmbersApi>> Create(EmbersApiOptions options);

  // A Connect unary call, e.g. Call("querier.v1.QuerierService/LabelNames", req, &resp).
  absl::Status Call(std::string_view method, const google::protobuf::Message& request,
                    google::protobuf::Message* response);

  // Any request to `path_and_query` (already percent-encoded). Non-2xx answers become errors
  // carrying the server's message; `response_body` (optional) receives a 2xx answer's body.
  absl::Status Send(std::string_view http_method, std::string_view path_and_query,
                    std::string_view body, std::string_view content_type,
                    std::string* response_body);

  const EmbersApiOptions& options() const { return options_; }

 private:
  EmbersApi(EmbersApiOptions options, std::unique_ptr<objstore::http::HttpClient> http);

  EmbersApiOptions options_;
  std::vector<std::pair<std::string, std::string>> common_headers_;
  std::unique_ptr<objstore::http::HttpClient> http_;
};

// The absl::Status for a non-2xx HTTP answer: the code Connect/gRPC would give it, and a message
// with the request, the status line and the server's message (a Connect error's "message", else
// the body's first line).
absl::Status HttpErrorStatus(std::string_view request, int http_status, std::string_view body);

// Percent-encodes a query parameter value.
std::string UrlEncode(std::string_view value);

}  // namespace embers::cli

#endif  // EMBERS_CMD_CLI_EMBERS_API_H_
