#include "server/http_message.h"

#include <atomic>

namespace embers::server {

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
