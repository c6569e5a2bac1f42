#include "server/tls_config.h"

#include <openssl/ssl.h>

#include <fstream>

#include <boost/asio/ssl/context.hpp>

#include "base/strings.h"

namespace embers::server {
namespace {

namespace ssl = boost::asio::ssl;

absl::Status Readable(const std::string& path, std::string_view flag) {
  std::ifstream file(path);
  if (!file) return absl::InvalidArgumentError(StrCat(flag, "=", path, ": cannot be read"));
  return absl::OkStatus();
}

// ALPN: h2 when offered (gRPC and HTTP/2 clients), else http/1.1; a client offering neither goes
// on without ALPN and is served by sniffing, as on the cleartext port.
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in,
               unsigned int in_len, void*) {
  static constexpr unsigned char kPreferred[] = {2,   'h', '2', 8,   'h', 't',
                                                 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_len, kPreferred, sizeof(kPreferred), in, in_len) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

absl::StatusOr<std::shared_ptr<ssl::context>> LoadServerTlsContext(const TlsConfig& config,
                                                                   TlsClientAuth client_auth) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                       ec);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  context->use_certificate_chain_file(config.cert_path, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        StrCat("TLS certificate ", config.cert_path, ": ", ec.message()));
  }
  context->use_private_key_file(config.key_path, ssl::context::pem, ec);
  if (ec) {
    return absl::InvalidArgumentError(StrCat("TLS key ", config.key_path, ": ", ec.message()));
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return absl::InvalidArgumentError(StrCat(
        "TLS key ", config.key_path, " does not belong to the certificate ", config.cert_path));
  }
  if (!config.ca_path.empty()) {
    context->load_verify_file(config.ca_path, ec);
    if (ec)
      return absl::InvalidArgumentError(StrCat("TLS CA ", config.ca_path, ": ", ec.message()));
    // Tells clients which CAs their certificate must chain to.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.ca_path.c_str())) {
      SSL_CTX_set_client_CA_list(native, names);
    }
  }
  switch (client_auth) {
    case TlsClientAuth::kNoClientCert:
      context->set_verify_mode(ssl::verify_none);
      break;
    case TlsClientAuth::kVerifyClientCertIfGiven:
      context->set_verify_mode(ssl::verify_peer);
      break;
    case TlsClientAuth::kRequireAndVerifyClientCert:
      context->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
      break;
  }
  // Session resumption with client certificates needs an id context; without one OpenSSL
  // refuses resumed sessions once a peer was verified.
  static constexpr unsigned char kSessionContext[] = "embers";
  SSL_CTX_set_session_id_context(native, kSessionContext, sizeof(kSessionContext) - 1);
  SSL_CTX_set_alpn_select_cb(native, &SelectAlpn, nullptr);
  // Read and write buffers (~34 KiB each) are freed while a connection is idle: keep-alive
  // connections that wait between pushes then cost a few KiB instead of ~80.
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  return context;
}

absl::StatusOr<TlsClientAuth> ValidateTlsConfig(const TlsConfig& config,
                                                std::string_view flag_prefix) {
  const std::string cert_flag = StrCat(flag_prefix, "-cert-path");
  const std::string key_flag = StrCat(flag_prefix, "-key-path");
  const std::string ca_flag = StrCat(flag_prefix, "-ca-path");
  const std::string auth_flag = StrCat(flag_prefix, "-client-auth");
  if (config.cert_path.empty() != config.key_path.empty()) {
    return absl::InvalidArgumentError(
        StrCat("set both ", cert_flag, " and ", key_flag, " to serve TLS, or neither"));
  }
  TlsClientAuth auth;
  if (config.client_auth.empty() || config.client_auth == "NoClientCert") {
    auth = TlsClientAuth::kNoClientCert;
  } else if (config.client_auth == "VerifyClientCertIfGiven") {
    auth = TlsClientAuth::kVerifyClientCertIfGiven;
  } else if (config.client_auth == "RequireAndVerifyClientCert") {
    auth = TlsClientAuth::kRequireAndVerifyClientCert;
  } else {
    return absl::InvalidArgumentError(
        StrCat(auth_flag, "=", config.client_auth,
               ": not one of NoClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert"));
  }
  if (!config.enabled()) {
    if (auth != TlsClientAuth::kNoClientCert || !config.ca_path.empty()) {
      return absl::InvalidArgumentError(
          StrCat(auth_flag, " and ", ca_flag, " need ", cert_flag, " and ", key_flag));
    }
    return auth;
  }
  if (auth != TlsClientAuth::kNoClientCert && config.ca_path.empty()) {
    return absl::InvalidArgumentError(
        StrCat(auth_flag, "=", config.client_auth, " needs ", ca_flag,
               " (the CA that client certificates are verified against)"));
  }
  if (absl::Status st = Readable(config.cert_path, cert_flag); !st.ok()) return st;
  if (absl::Status st = Readable(config.key_path, key_flag); !st.ok()) return st;
  if (!config.ca_path.empty()) {
    if (absl::Status st = Readable(config.ca_path, ca_flag); !st.ok()) return st;
  }
  // Loading them is the check that they are PEM and that key and certificate match.
  absl::StatusOr<std::shared_ptr<ssl::context>> loaded = LoadServerTlsContext(config, auth);
  if (!loaded.ok()) {
    return absl::InvalidArgumentError(StrCat(flag_prefix, "-*: ", loaded.status().message()));
  }
  return auth;
}

}  // namespace embers::server
