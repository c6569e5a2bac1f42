// TokenAuthenticator: checks the API token of each public request (-auth.enabled) and manages the
// tokens (create, list, revoke) for the admin API (auth_routes.h).
//
// The token records live in the metastore (api_tokens.h); this process keeps a copy, reloaded
// every -auth.token-refresh-interval and at once after each change it makes, so a check is a hash
// and a map lookup with no call to the metastore on the request path. A token revoked through
// another process stops working here within one refresh interval. Until the first load succeeds
// the module is not ready and requests are answered 503. The copy holds at most
// TenantSettingsLimits::max_api_tokens records.
//
// Thread safety: every method may be called from any thread.
#ifndef EMBERS_SERVER_TOKEN_AUTHENTICATOR_H_
#define EMBERS_SERVER_TOKEN_AUTHENTICATOR_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "metastore/index_service.h"
#include "server/api_tokens.h"

namespace embers::server {

class TokenAuthenticator {
 public:
  TokenAuthenticator(metastore::IndexService* metastore, absl::Duration refresh_interval);
  ~TokenAuthenticator();
  TokenAuthenticator(const TokenAuthenticator&) = delete;
  TokenAuthenticator& operator=(const TokenAuthenticator&) = delete;

  void Start();
  void Stop();
  bool loaded() const { return shared_->loaded.load(); }

  // The tenant of the request's token. `authorization` is the Authorization header (gRPC
  // metadata "authorization"); `org_id` the X-Scope-OrgID header, which may only repeat the
  // token's tenant. Unauthenticated (401) without a valid token, PermissionDenied (403) when the
  // token lacks `needed` or names another tenant than X-Scope-OrgID, Unavailable (503) before
  // the tokens are loaded.
  absl::StatusOr<std::string> Authenticate(std::string_view authorization, std::string_view org_id,
                                           TokenScope needed) const;

  // Admin operations (they go through the metastore and reload the copy before answering).
  void Create(std::string tenant, uint8_t scopes, std::string description,
              std::function<void(absl::StatusOr<IssuedToken>)> done);
  // Every token, or a tenant's (empty: all), ordered by tenant then creation.
  void List(std::string tenant, std::function<void(absl::StatusOr<std::vector<ApiToken>>)> done);
  // NotFound when no such token exists.
  void Revoke(std::string id, std::function<void(absl::Status)> done);

 private:
  using Table = absl::flat_hash_map<std::string, ApiToken>;
  // What callbacks of metastore calls touch: shared, so that a late answer finds it alive.
  struct Shared {
    std::mutex mu;
    std::shared_ptr<const Table> table;  // guarded by mu (the pointer; a table is immutable)
    std::atomic<bool> loaded{false};
  };

  // Loads every record from the metastore; `done` runs after the copy is swapped.
  static void Reload(metastore::IndexService* metastore, std::shared_ptr<Shared> shared,
                     std::function<void(absl::Status)> done);
  void RefreshLoop();

  metastore::IndexService* const metastore_;
  const absl::Duration refresh_interval_;
  const std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
  std::mutex loop_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by loop_mu_
  std::thread refresher_;
};

}  // namespace embers::server

#endif  // EMBERS_SERVER_TOKEN_AUTHENTICATOR_H_
