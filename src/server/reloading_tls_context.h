// ReloadingTlsContext: the HTTP listener's TLS context, loaded again when its certificate, key or
// CA file changes, so that a rotated certificate (cert-manager, an ACME client) is served without
// a restart.
//
// HttpServer asks for Current() once per accepted connection; the files' modification times and
// sizes are looked at no more often than the recheck interval. A reload that fails (a rotation
// caught half-written: the new certificate beside the old key) keeps the previous context and is
// retried when the files change again. Connections keep the context they were accepted with.
#ifndef EMBERS_SERVER_RELOADING_TLS_CONTEXT_H_
#define EMBERS_SERVER_RELOADING_TLS_CONTEXT_H_

#include <array>
#include <memory>
#include <mutex>

#include <boost/asio/ssl/context.hpp>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/tls_config.h"

namespace embers::server {

class ReloadingTlsContext {
 public:
  // Loads the files (InvalidArgument when they do not load).
  static absl::StatusOr<std::unique_ptr<ReloadingTlsContext>> Create(
      TlsConfig config, TlsClientAuth client_auth, absl::Duration recheck_interval);

  // The context for a new connection. Thread-safe.
  std::shared_ptr<boost::asio::ssl::context> Current();

 private:
  // Modification time and size of the certificate, key and CA files (0 for a missing one).
  using FileStamps = std::array<int64_t, 6>;

  ReloadingTlsContext(TlsConfig config, TlsClientAuth client_auth, absl::Duration recheck_interval,
                      std::shared_ptr<boost::asio::ssl::context> context);
  FileStamps Stamps() const;

  const TlsConfig config_;
  const TlsClientAuth client_auth_;
  const absl::Duration recheck_interval_;
  std::mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> context_;  // guarded by mu_
  FileStamps stamps_{};                                 // guarded by mu_
  absl::Time last_check_;                               // guarded by mu_
};

}  // namespace embers::server

#endif  // EMBERS_SERVER_RELOADING_TLS_CONTEXT_H_
