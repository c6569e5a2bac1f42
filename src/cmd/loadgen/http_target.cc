#include "cmd/loadgen/http_target.h"

#include "base/strings.h"

namespace embers::loadgen {

std::string HttpTarget::HostHeader() const { return StrCat(host, ":", port); }

std::string HttpTarget::Path(std::string_view method) const { return StrCat(base_path, method); }

absl::StatusOr<HttpTarget> ParseHttpUrl(std::string_view url) {
  HttpTarget t;
  if (url.substr(0, 8) == "https://") {
    t.tls = true;
    url.remove_prefix(8);
  } else if (url.substr(0, 7) == "http://") {
    url.remove_prefix(7);
  } else {
    return absl::InvalidArgumentError(StrCat("-url ", url, ": not an http:// or https:// URL"));
  }
  const size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  std::string_view base = slash == url.npos ? "" : url.substr(slash);
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  const size_t colon = authority.rfind(':');
  t.host = std::string(authority.substr(0, colon));
  t.port =
      colon == authority.npos ? (t.tls ? "443" : "80") : std::string(authority.substr(colon + 1));
  t.base_path = std::string(base);
  if (t.host.empty()) return absl::InvalidArgumentError(StrCat("-url ", url, ": no host"));
  return t;
}

std::string ConnectErrorMessage(const std::string& body) {
  constexpr std::string_view kKey = "\"message\":\"";
  const size_t at = body.find(kKey);
  if (at == body.npos) return body.substr(0, 300);
  std::string out;
  for (size_t i = at + kKey.size(); i < body.size() && body[i] != '"'; ++i) {
    if (body[i] == '\\' && i + 1 < body.size()) ++i;
    out.push_back(body[i]);
  }
  return out;
}

}  // namespace embers::loadgen
