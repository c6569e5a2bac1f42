// The shared cluster secret that authenticates Embers components to one another on the internal
// gRPC listener (-server.cluster-secret).
//
// Clients of internal services (metastore client, remote segment-writers, remote query-backends)
// send it as gRPC metadata on every call; the internal listener's RPC adapter
// (server/rpc_adapters.cc) refuses calls that lack it or carry another value. An empty secret means
// none is sent or checked (the loopback-only default of a single process).
#ifndef EMBERS_BASE_CLUSTER_SECRET_H_
#define EMBERS_BASE_CLUSTER_SECRET_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace embers {

// gRPC metadata key the secret travels in (lower case, as HTTP/2 requires).
inline constexpr std::string_view kClusterSecretMetadataKey = "x-embers-cluster-secret";

// Compares in time that depends only on the lengths, so that a caller cannot learn the secret a
// byte at a time from response times.
bool ClusterSecretMatches(std::string_view expected, std::string_view presented);

// What an internal service answered (code and message), as this process reports it to its own
// caller, prefixed with `peer` ("segment-writer 10.0.0.5:9096"). UNAUTHENTICATED means the two
// processes were given different secrets: the operator's mistake, not the client's credentials,
// so it becomes Internal (HTTP 500) with a message that says so.
absl::Status InternalCallStatus(absl::StatusCode code, std::string_view peer,
                                std::string_view message);

// Adds the secret (when set) to an outgoing call's metadata. `ClientContext` is
// grpc::ClientContext; a template so that base does not depend on gRPC.
template <class ClientContext>
void AttachClusterSecret(ClientContext* context, const std::string& secret) {
  if (!secret.empty()) context->AddMetadata(std::string(kClusterSecretMetadataKey), secret);
}

}  // namespace embers

#endif  // EMBERS_BASE_CLUSTER_SECRET_H_
