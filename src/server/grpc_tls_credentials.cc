#include "server/grpc_tls_credentials.h"

#include <algorithm>

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

namespace embers::server {
namespace {

std::shared_ptr<grpc::experimental::FileWatcherCertificateProvider> WatchFiles(
    const TlsConfig& config, absl::Duration refresh) {
  const auto seconds = static_cast<unsigned>(std::max<int64_t>(1, absl::ToInt64Seconds(refresh)));
  return std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      config.key_path, config.cert_path, config.ca_path, seconds);
}

}  // namespace

std::shared_ptr<grpc::ServerCredentials> GrpcServerCredentials(const TlsConfig& config,
                                                               TlsClientAuth client_auth,
                                                               absl::Duration refresh) {
  if (!config.enabled()) return grpc::InsecureServerCredentials();
  grpc::experimental::TlsServerCredentialsOptions options(WatchFiles(config, refresh));
  options.watch_identity_key_cert_pairs();
  if (!config.ca_path.empty()) options.watch_root_certs();
  switch (client_auth) {
    case TlsClientAuth::kNoClientCert:
      options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
      break;
    case TlsClientAuth::kVerifyClientCertIfGiven:
      options.set_cert_request_type(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
      break;
    case TlsClientAuth::kRequireAndVerifyClientCert:
      options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
      break;
  }
  return grpc::experimental::TlsServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> GrpcChannelCredentials(const TlsConfig& config,
                                                                 absl::Duration refresh) {
  if (!config.enabled()) return grpc::InsecureChannelCredentials();
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(WatchFiles(config, refresh));
  options.watch_identity_key_cert_pairs();
  options.watch_root_certs();
  options.set_verify_server_certs(true);
  return grpc::experimental::TlsCredentials(options);
}

}  // namespace embers::server
