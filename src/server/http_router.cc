#include "server/http_router.h"
#include "base/strings.h"

#include <algorithm>

namespace embers::server {

void HttpRouter::Handle(std::string_view method, std::string_view path, HttpHandler handler,
                        RouteOptions options) {
  Route& route = exact_[std::string(path)];
  route.by_method[std::string(method)] = std::move(handler);
  route.connect = route.connect || options.connect;
  route.cpu_bound = route.cpu_bound || options.cpu_bound;
}

void HttpRouter::HandlePrefix(std::string_view method, std::string_view prefix,
                              HttpHandler handler) {
  auto it = std::find_if(prefixes_.begin(), prefixes_.end(),
                         [&](const auto& p) { return p.first == prefix; });
  if (it == prefixes_.end()) {
    prefixes_.emplace_back(std::string(prefix), Route{});
    it = prefixes_.end() - 1;
  }
  it->second.by_method[std::string(method)] = std::move(handler);
  std::sort(prefixes_.begin(), prefixes_.end(),
            [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

HttpRouter::Match HttpRouter::Find(std::string_view method, std::string_view path) const {
  Match match;
  const Route* route = nullptr;
  if (auto it = exact_.find(path); it != exact_.end()) {
    route = &it->second;
    match.route = it->first;
  } else {
    for (const auto& [prefix, r] : prefixes_) {
      if (path.starts_with(prefix)) {
        route = &r;
        match.route = prefix + "*";
        break;
      }
    }
  }
  if (route == nullptr) {
    match.status = 404;
    match.route = "unmatched";
    return match;
  }
  match.connect = route->connect;
  match.cpu_bound = route->cpu_bound;
  auto h = route->by_method.find(method);
  if (h == route->by_method.end() && method == "HEAD") h = route->by_method.find("GET");
  if (h == route->by_method.end()) {
    match.status = 405;
    std::vector<std::string> methods;
    for (const auto& [m, _] : route->by_method) methods.push_back(m);
    match.allow = Join(methods, ", ");
    return match;
  }
  match.handler = &h->second;
  return match;
}

bool HttpRouter::IsConnectRoute(std::string_view path) const {
  auto it = exact_.find(path);
  return it != exact_.end() && it->second.connect;
}

}  // namespace embers::server
