// What a client says it can handle, from its Accept header (gRPC metadata "accept").
//
// Pyroscope clients announce capabilities as media-type parameters, e.g.
//   Accept: application/json; allow-utf8-labelnames=true
// Today there is one: allow-utf8-labelnames (label names outside [a-zA-Z_.][a-zA-Z0-9_.]* may be
// pushed and are listed). The Connect and gRPC adapters (rpc_adapters.cc) call this for every call
// and set CallContext::allow_utf8_label_names when the server allows the capability too.
#ifndef EMBERS_SERVER_CLIENT_CAPABILITIES_H_
#define EMBERS_SERVER_CLIENT_CAPABILITIES_H_

#include <string_view>

namespace embers::server {

// Whether any media range of `accept` carries allow-utf8-labelnames=true (parameter names are
// case-insensitive, the value may be quoted). Malformed parts are skipped rather than refused: an
// Accept header never makes a call fail.
bool AcceptAllowsUtf8LabelNames(std::string_view accept);

}  // namespace embers::server

#endif  // EMBERS_SERVER_CLIENT_CAPABILITIES_H_
