#include "server/reloading_tls_context.h"

#include <sys/stat.h>

#include "base/logging.h"

namespace embers::server {

absl::StatusOr<std::unique_ptr<ReloadingTlsContext>> ReloadingTlsContext::Create(
    TlsConfig config, TlsClientAuth client_auth, absl::Duration recheck_interval) {
  absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> context =
      LoadServerTlsContext(config, client_auth);
  if (!context.ok()) return context.status();
  return std::unique_ptr<ReloadingTlsContext>(new ReloadingTlsContext(
      std::move(config), client_auth, recheck_interval, std::move(*context)));
}

ReloadingTlsContext::ReloadingTlsContext(TlsConfig config, TlsClientAuth client_auth,
                                         absl::Duration recheck_interval,
                                         std::shared_ptr<boost::asio::ssl::context> context)
    : config_(std::move(config)),
      client_auth_(client_auth),
      recheck_interval_(recheck_interval),
      context_(std::move(context)),
      stamps_(Stamps()),
      last_check_(absl::Now()) {}

ReloadingTlsContext::FileStamps ReloadingTlsContext::Stamps() const {
  FileStamps stamps{};
  const std::string* paths[] = {&config_.cert_path, &config_.key_path, &config_.ca_path};
  for (size_t i = 0; i < 3; ++i) {
    struct stat st;
    if (paths[i]->empty() || ::stat(paths[i]->c_str(), &st) != 0) continue;
    stamps[2 * i] = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    stamps[2 * i + 1] = static_cast<int64_t>(st.st_size);
  }
  return stamps;
}

std::shared_ptr<boost::asio::ssl::context> ReloadingTlsContext::Current() {
  std::lock_guard<std::mutex> lock(mu_);
  const absl::Time now = absl::Now();
  if (now - last_check_ < recheck_interval_) return context_;
  last_check_ = now;
  FileStamps stamps = Stamps();
  if (stamps == stamps_) return context_;
  stamps_ = stamps;
  absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> reloaded =
      LoadServerTlsContext(config_, client_auth_);
  if (!reloaded.ok()) {
    log::Warn("TLS files changed but do not load; still serving the previous certificate",
              {{"cert", config_.cert_path}, {"error", std::string(reloaded.status().message())}});
    return context_;
  }
  log::Info("TLS certificate reloaded", {{"cert", config_.cert_path}});
  context_ = std::move(*reloaded);
  return context_;
}

}  // namespace embers::server
