// HttpRouter: maps (method, path) to a handler for the HTTP server.
//
// Paths match exactly, or by prefix for routes registered with HandlePrefix (the UI's static
// files). A path that exists with another method answers 405 with an Allow header; an unknown path
// 404. Connect routes are marked so that transport-level errors on them (body too large, bad
// encoding) are rendered as Connect error JSON like the errors of the methods themselves.
#ifndef EMBERS_SERVER_HTTP_ROUTER_H_
#define EMBERS_SERVER_HTTP_ROUTER_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "server/http_message.h"

namespace embers::server {

struct RouteOptions {
  // Transport-level errors on this route are rendered as Connect error JSON.
  bool connect = false;
  // The handler does CPU work before it answers (decoding pushed profiles): the server runs it
  // on its handler pool so that the I/O threads keep reading requests and writing responses.
  bool cpu_bound = false;
};

class HttpRouter {
 public:
  void Handle(std::string_view method, std::string_view path, HttpHandler handler,
              RouteOptions options = {});
  void HandlePrefix(std::string_view method, std::string_view prefix, HttpHandler handler);

  struct Match {
    const HttpHandler* handler = nullptr;  // null: see status
    int status = 200;                      // 404 or 405 when handler is null
    std::string route;                     // the registered pattern, for metrics labels
    std::string allow;                     // for 405
    bool connect = false;
    bool cpu_bound = false;
  };
  Match Find(std::string_view method, std::string_view path) const;
  bool IsConnectRoute(std::string_view path) const;

 private:
  struct Route {
    std::map<std::string, HttpHandler, std::less<>> by_method;
    bool connect = false;
    bool cpu_bound = false;
  };
  std::map<std::string, Route, std::less<>> exact_;
  std::vector<std::pair<std::string, Route>> prefixes_;  // longest first
};

}  // namespace embers::server

#endif  // EMBERS_SERVER_HTTP_ROUTER_H_
