// gRPC credentials from a TlsConfig: for the gRPC listeners (public and internal) and for the
// clients the components of a cluster call each other with (metastore client, remote
// segment-writers, remote query-backends).
//
// Both watch the files through gRPC's file watcher, re-reading them every `refresh` so that a
// rotated certificate takes effect without a restart, as on the HTTP listener. App builds them
// from the -server.*-tls-* flags after ValidateTlsConfig.
#ifndef EMBERS_SERVER_GRPC_TLS_CREDENTIALS_H_
#define EMBERS_SERVER_GRPC_TLS_CREDENTIALS_H_

#include <memory>

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include "absl/time/time.h"
#include "server/tls_config.h"

namespace embers::server {

// Insecure credentials when `config` has no certificate; otherwise TLS asking for client
// certificates as `client_auth` says.
std::shared_ptr<grpc::ServerCredentials> GrpcServerCredentials(const TlsConfig& config,
                                                               TlsClientAuth client_auth,
                                                               absl::Duration refresh);

// Insecure credentials when `config` has no certificate; otherwise mutual TLS: servers are
// verified against the CA (and their certificate must name the host dialled), and the
// certificate and key are presented as this process's client certificate.
std::shared_ptr<grpc::ChannelCredentials> GrpcChannelCredentials(const TlsConfig& config,
                                                                 absl::Duration refresh);

}  // namespace embers::server

#endif  // EMBERS_SERVER_GRPC_TLS_CREDENTIALS_H_
