// HttpRequest, HttpResponse and HttpResponder: what an HTTP route handler sees and answers with.
//
// Handlers are registered on the HttpRouter and called on an I/O thread. A handler must not block:
// it either answers at once or keeps the HttpResponder and calls Send() later from any thread (the
// write path answers a push only after its segment is flushed). The responder is the only way back
// to the connection; if every copy is dropped without Send(), the client gets a 500 rather than a
// hung connection.
#ifndef EMBERS_SERVER_HTTP_MESSAGE_H_
#define EMBERS_SERVER_HTTP_MESSAGE_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <map>

namespace embers::server {

struct HttpRequest {
  std::string method;  // "GET", "POST", …
  std::string path;    // decoded path without the query string
  std::string target;  // raw request target
  // Query parameters, percent-decoded; the first occurrence wins.
  std::map<std::string, std::string, std::less<>> query;
  // Header names lower-cased.
  std::map<std::string, std::string, std::less<>> headers;
  std::string body;  // already decompressed when the request had Content-Encoding
  std::string remote_address;
  // 11 for HTTP/1.1 (and 1.0), 20 for HTTP/2.
  int http_version = 11;

  std::string_view Header(std::string_view lower_name) const;
  std::string_view Query(std::string_view name) const;
};

// Sets `path` (percent-decoded) and `query` (first occurrence wins) from a request target.
void ParseRequestTarget(std::string_view target, HttpRequest* request);

// `method` if it is a standard HTTP method (RFC 9110's and PATCH), else "other": what metrics
// label a request with. A client may send any token as its method, and every new label value would
// be a new series kept for the life of the process.
std::string_view MethodLabel(std::string_view method);

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Sent after the body on HTTP/2 (gRPC's status); HTTP/1.1 connections never carry them, which
  // is why rpc_adapters refuses gRPC over HTTP/1.1.
  std::vector<std::pair<std::string, std::string>> trailers;

  static HttpResponse Text(int status, std::string body);
  static HttpResponse Json(int status, std::string body);
};

// Completes one request. Copyable; Send() is thread-safe and only the first call counts.
class HttpResponder {
 public:
  using SendFn = std::function<void(HttpResponse)>;
  explicit HttpResponder(SendFn send);
  void Send(HttpResponse response) const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

using HttpHandler = std::function<void(HttpRequest& request, HttpResponder responder)>;

}  // namespace embers::server

#endif  // EMBERS_SERVER_HTTP_MESSAGE_H_
