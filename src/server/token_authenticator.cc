#include "server/token_authenticator.h"

#include <algorithm>
#include <future>

#include "base/cluster_secret.h"
#include "base/logging.h"
#include "base/sha256.h"
#include "base/strings.h"
#include "metastore/tenant_settings.h"

namespace embers::server {

namespace {

// A call on the reserved token table, with the objects it needs kept alive until it answers.
template <class Request, class Response>
struct TokensCall {
  TokensCall() {
    request.set_tenant_id(std::string(metastore::kApiTokensTenant));
    context.tenant = std::string(metastore::kApiTokensTenant);
    context.deadline = absl::Now() + absl::Seconds(10);
  }
  CallContext context;
  Request request;
  Response response;
};

}  // namespace

TokenAuthenticator::TokenAuthenticator(metastore::IndexService* metastore,
                                       absl::Duration refresh_interval)
    : metastore_(metastore), refresh_interval_(refresh_interval) {}

TokenAuthenticator::~TokenAuthenticator() { Stop(); }

void TokenAuthenticator::Start() {
  std::lock_guard<std::mutex> lock(loop_mu_);
  if (refresher_.joinable()) return;
  stopping_ = false;
  refresher_ = std::thread([this] { RefreshLoop(); });
}

void TokenAuthenticator::Stop() {
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (refresher_.joinable()) refresher_.join();
}

void TokenAuthenticator::RefreshLoop() {
  absl::Duration wait = absl::ZeroDuration();
  while (true) {
    {
      std::unique_lock<std::mutex> lock(loop_mu_);
      wake_.wait_for(lock, absl::ToChronoMilliseconds(wait), [this] { return stopping_; });
      if (stopping_) return;
    }
    auto result = std::make_shared<std::promise<absl::Status>>();
    std::future<absl::Status> loaded = result->get_future();
    Reload(metastore_, shared_, [result](absl::Status st) { result->set_value(std::move(st)); });
    absl::Status st = loaded.get();
    if (!st.ok()) {
      log::Warn("loading API tokens failed", {{"error", std::string(st.message())}});
    }
    // Until the first load, retry soon: requests are refused meanwhile.
    wait = st.ok() || shared_->loaded.load() ? refresh_interval_
                                             : std::min(refresh_interval_, absl::Milliseconds(200));
  }
}

void TokenAuthenticator::Reload(metastore::IndexService* metastore, std::shared_ptr<Shared> shared,
                                std::function<void(absl::Status)> done) {
  auto call = std::make_shared<TokensCall<metastore::v1::GetTenantSettingsRequest,
                                          metastore::v1::GetTenantSettingsResponse>>();
  metastore->GetTenantSettings(
      call->context, call->request, &call->response,
      [call, shared = std::move(shared), done = std::move(done)](absl::Status st) {
        if (!st.ok()) return done(st);
        auto table = std::make_shared<Table>();
        for (const metastore::v1::TenantSetting& s : call->response.settings()) {
          absl::StatusOr<ApiToken> token = DecodeTokenRecord(s.name(), s.value());
          if (!token.ok()) {
            // One bad record must not lock every tenant out.
            log::Error("skipping a malformed API token record",
                       {{"error", std::string(token.status().message())}});
            continue;
          }
          table->emplace(token->id, std::move(*token));
        }
        {
          std::lock_guard<std::mutex> lock(shared->mu);
          shared->table = std::move(table);
        }
        shared->loaded.store(true);
        done(absl::OkStatus());
      });
}

absl::StatusOr<std::string> TokenAuthenticator::Authenticate(std::string_view authorization,
                                                             std::string_view org_id,
                                                             TokenScope needed) const {
  absl::StatusOr<std::string> token = TokenFromAuthorization(authorization);
  if (!token.ok()) return token.status();
  std::optional<PresentedToken> presented = ParseToken(*token);
  if (!presented) return absl::UnauthenticatedError("the credentials are not an Embers API token");
  std::shared_ptr<const Table> table;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    table = shared_->table;
  }
  if (table == nullptr) {
    return absl::UnavailableError("API tokens are not loaded yet from the metastore");
  }
  auto it = table->find(std::string(presented->id));
  // The same answer for an unknown id and a wrong secret: which ids exist is not told.
  if (it == table->end() ||
      !ClusterSecretMatches(it->second.secret_sha256, Sha256Hex(presented->secret))) {
    return absl::UnauthenticatedError("invalid or revoked API token");
  }
  const ApiToken& t = it->second;
  if ((t.scopes & needed) == 0) {
    return absl::PermissionDeniedError(StrCat("this token may ", FormatScopes(t.scopes),
                                              " only; the request needs ",
                                              FormatScopes(static_cast<uint8_t>(needed))));
  }
  if (!org_id.empty() && org_id != t.tenant) {
    return absl::PermissionDeniedError(StrCat(
        "X-Scope-OrgID \"", org_id, "\" does not match the token's tenant \"", t.tenant, "\""));
  }
  return t.tenant;
}

namespace {

void SetRecord(metastore::IndexService* metastore, std::string id, std::string value,
               std::function<void(absl::Status)> done) {
  auto call = std::make_shared<TokensCall<metastore::v1::SetTenantSettingRequest,
                                          metastore::v1::SetTenantSettingResponse>>();
  call->request.mutable_setting()->set_name(std::move(id));
  call->request.mutable_setting()->set_value(std::move(value));
  metastore->SetTenantSetting(call->context, call->request, &call->response,
                              [call, done = std::move(done)](absl::Status st) { done(st); });
}

}  // namespace

void TokenAuthenticator::Create(std::string tenant, uint8_t scopes, std::string description,
                                std::function<void(absl::StatusOr<IssuedToken>)> done) {
  auto issued = std::make_shared<IssuedToken>(IssueToken(
      std::move(tenant), scopes, std::move(description), absl::ToUnixMillis(absl::Now())));
  SetRecord(metastore_, issued->record.id, EncodeTokenRecord(issued->record),
            [metastore = metastore_, shared = shared_, issued,
             done = std::move(done)](absl::Status st) mutable {
              if (!st.ok()) return done(st);
              // Usable here as soon as the answer arrives.
              Reload(metastore, shared, [issued, done = std::move(done)](absl::Status) mutable {
                done(std::move(*issued));
              });
            });
}

void TokenAuthenticator::List(std::string tenant,
                              std::function<void(absl::StatusOr<std::vector<ApiToken>>)> done) {
  Reload(metastore_, shared_,
         [shared = shared_, tenant = std::move(tenant), done = std::move(done)](absl::Status st) {
           if (!st.ok()) return done(st);
           std::shared_ptr<const Table> table;
           {
             std::lock_guard<std::mutex> lock(shared->mu);
             table = shared->table;
           }
           std::vector<ApiToken> out;
           for (const auto& [id, t] : *table) {
             if (tenant.empty() || t.tenant == tenant) out.push_back(t);
           }
           std::sort(out.begin(), out.end(), [](const ApiToken& a, const ApiToken& b) {
             return std::tie(a.tenant, a.created_ms, a.id) < std::tie(b.tenant, b.created_ms, b.id);
           });
           done(std::move(out));
         });
}

void TokenAuthenticator::Revoke(std::string id, std::function<void(absl::Status)> done) {
  // Checked against a fresh copy: the token may have been made through another process.
  Reload(metastore_, shared_,
         [metastore = metastore_, shared = shared_, id = std::move(id),
          done = std::move(done)](absl::Status st) mutable {
           if (!st.ok()) return done(st);
           bool known = false;
           {
             std::lock_guard<std::mutex> lock(shared->mu);
             known = shared->table->contains(id);
           }
           if (!known) return done(absl::NotFoundError(StrCat("no API token with id ", id)));
           SetRecord(metastore, std::move(id), "",
                     [metastore, shared, done = std::move(done)](absl::Status st) mutable {
                       if (!st.ok()) return done(st);
                       Reload(metastore, shared, [done = std::move(done)](absl::Status) mutable {
                         done(absl::OkStatus());
                       });
                     });
         });
}

}  // namespace embers::server
