// HttpTarget: where embers-loadgen sends its requests, parsed from -url, and how it reads the
// Connect error bodies that come back. Shared by the push runner (runner.h) and the query timer
// (query_timer.h), which both speak Connect over HTTP/1.1 (the push runner also over TLS).
#ifndef EMBERS_CMD_LOADGEN_HTTP_TARGET_H_
#define EMBERS_CMD_LOADGEN_HTTP_TARGET_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace embers::loadgen {

struct HttpTarget {
  std::string host;
  std::string port;
  std::string base_path;  // path prefix of the URL without a trailing '/', often empty
  bool tls = false;       // https://

  // "host:port", for the Host header.
  std::string HostHeader() const;
  // base_path + method, e.g. "/push.v1.PusherService/Push".
  std::string Path(std::string_view method) const;
};

// Parses "http[s]://host[:port][/base]".
absl::StatusOr<HttpTarget> ParseHttpUrl(std::string_view url);

// The "message" of a Connect error body ({"code":"...","message":"..."}), or the start of the body
// when it is not one.
std::string ConnectErrorMessage(const std::string& body);

}  // namespace embers::loadgen

#endif  // EMBERS_CMD_LOADGEN_HTTP_TARGET_H_
