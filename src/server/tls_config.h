// TlsConfig: the certificate files of one listener (-server.http-tls-*, -server.grpc-tls-*,
// -server.internal-grpc-tls-*), checked once at start so that a typo fails the start with the flag
// named rather than every handshake later.
//
// The files are PEM, named by path and read again when they change (certificate rotation without
// a restart): by HttpTlsContext for the HTTP listener and by gRPC's file watcher for the gRPC
// listeners and the internal clients (grpc_tls_credentials.h). Flag names and client-auth values
// are those of Pyroscope's server (dskit), so existing configurations carry over.
#ifndef EMBERS_SERVER_TLS_CONFIG_H_
#define EMBERS_SERVER_TLS_CONFIG_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace boost::asio::ssl {
class context;
}

namespace embers::server {

// Which client certificates the listener asks for (Go's tls.ClientAuthType names).
enum class TlsClientAuth {
  kNoClientCert,                // none asked for
  kVerifyClientCertIfGiven,     // asked for, verified against the CA when sent
  kRequireAndVerifyClientCert,  // a certificate signed by the CA is required (mutual TLS)
};

struct TlsConfig {
  std::string cert_path;  // certificate chain, leaf first
  std::string key_path;   // its private key
  std::string ca_path;    // CA bundle that client (or, for clients, server) certificates chain to
  std::string client_auth = "NoClientCert";

  bool enabled() const { return !cert_path.empty() || !key_path.empty(); }
};

// Checks the settings of the flags named `flag_prefix` + "-cert-path" etc. (e.g.
// "-server.http-tls"): certificate and key both given, loadable and matching each other, a known
// client-auth value, and a CA for any client-auth other than NoClientCert. InvalidArgument names
// the flag.
absl::StatusOr<TlsClientAuth> ValidateTlsConfig(const TlsConfig& config,
                                                std::string_view flag_prefix);

// An OpenSSL server context loaded from the files: TLS 1.2 or later, client certificates asked
// for as `client_auth` says, and ALPN that picks "h2" when the client offers it, else
// "http/1.1" (gRPC clients require h2 by ALPN; browsers and curl offer both). InvalidArgument
// names the file that failed.
absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> LoadServerTlsContext(
    const TlsConfig& config, TlsClientAuth client_auth);

}  // namespace embers::server

#endif  // EMBERS_SERVER_TLS_CONFIG_H_
