#include "server/http_message.h"

#include <atomic>

#include "base/strings.h"

namespace embers::server {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%' && i + 2 < in.size()) {
      int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

}  // namespace

std::string_view MethodLabel(std::string_view method) {
  static constexpr std::string_view kMethods[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                                  "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  for (std::string_view m : kMethods) {
    if (method == m) return m;
  }
  return "other";
}

void ParseRequestTarget(std::string_view target, HttpRequest* req) {
  size_t q = target.find('?');
  req->path = PercentDecode(target.substr(0, q), false);
  if (q == std::string_view::npos) return;
  for (std::string_view pair : Split(target.substr(q + 1), '&', /*skip_empty=*/true)) {
    size_t eq = pair.find('=');
    std::string key = PercentDecode(pair.substr(0, eq), true);
    std::string value =
        eq == std::string_view::npos ? std::string() : PercentDecode(pair.substr(eq + 1), true);
    req->query.try_emplace(std::move(key), std::move(value));
  }
}

std::string_view HttpRequest::Header(std::string_view lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string_view() : std::string_view(it->second);
}

std::string_view HttpRequest::Query(std::string_view name) const {
  auto it = query.find(name);
  return it == query.end() ? std::string_view() : std::string_view(it->second);
}

HttpResponse HttpResponse::Text(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  if (!r.body.empty() && r.body.back() != '\n') r.body.push_back('\n');
  return r;
}

HttpResponse HttpResponse::Json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

struct HttpResponder::State {
  explicit State(SendFn fn) : send(std::move(fn)) {}
  ~State() {
    // Every copy is gone and nobody answered: fail the request instead of leaving it hanging.
    if (!sent.exchange(true)) {
      send(HttpResponse::Text(500, "internal error: the handler dropped the request"));
    }
  }
  SendFn send;
  std::atomic<bool> sent{false};
};

HttpResponder::HttpResponder(SendFn send) : state_(std::make_shared<State>(std::move(send))) {}

void HttpResponder::Send(HttpResponse response) const {
  if (state_->sent.exchange(true)) return;
  state_->send(std::move(response));
}

}  // namespace embers::server
