#include "server/auth_routes.h"

#include <memory>

#include "base/cluster_secret.h"
#include "base/strings.h"
#include "model/labels.h"
#include "model/tenant_id.h"
#include "nlohmann/json.hpp"
#include "server/status_mapping.h"

namespace embers::server {
namespace {

constexpr std::string_view kTokensPath = "/api/v1/auth/tokens";
constexpr size_t kMaxDescriptionBytes = 256;

nlohmann::json TokenJson(const ApiToken& t) {
  return {{"id", t.id},
          {"tenant", t.tenant},
          {"scopes", FormatScopes(t.scopes)},
          {"createdAt", t.created_ms},
          {"description", t.description}};
}

// OK when the request carries the admin token.
absl::Status CheckAdmin(const HttpRequest& http, const std::string& admin_token) {
  std::string_view auth = http.Header("authorization");
  if (!auth.starts_with("Bearer ") ||
      !ClusterSecretMatches(admin_token, StripWhitespace(auth.substr(7)))) {
    return absl::UnauthenticatedError(
        "the token admin API needs `Authorization: Bearer <-auth.admin-token>`");
  }
  return absl::OkStatus();
}

absl::StatusOr<uint8_t> ScopesFromJson(const nlohmann::json& v) {
  if (v.is_string()) return ParseScopes(v.get<std::string>());
  if (v.is_array()) {
    std::string joined;
    for (const auto& s : v) {
      if (!s.is_string()) break;
      joined += s.get<std::string>() + ",";
    }
    return ParseScopes(joined);
  }
  return absl::InvalidArgumentError("\"scopes\" must be \"read\", \"write\" or both");
}

}  // namespace

void RegisterAuthRoutes(const std::atomic<TokenAuthenticator*>* authenticator,
                        const std::string* admin_token, HttpRouter& router) {
  // Runs `then` with the authenticator when the caller is the admin; answers the error otherwise.
  auto admin = [authenticator, admin_token](HttpRequest& http, HttpResponder& responder,
                                            auto then) {
    if (absl::Status st = CheckAdmin(http, *admin_token); !st.ok()) {
      return responder.Send(ErrorResponse(st, false));
    }
    TokenAuthenticator* auth = authenticator->load();
    if (auth == nullptr) {
      return responder.Send(
          ErrorResponse(absl::UnavailableError("authentication is not running"), false));
    }
    then(auth);
  };

  router.Handle("POST", kTokensPath, [admin](HttpRequest& http, HttpResponder responder) {
    admin(http, responder, [&](TokenAuthenticator* auth) {
      auto fail = [&](absl::Status st) { responder.Send(ErrorResponse(st, false)); };
      nlohmann::json body = nlohmann::json::parse(http.body, nullptr, /*allow_exceptions=*/false);
      if (!body.is_object())
        return fail(absl::InvalidArgumentError("the body must be a JSON object"));
      const std::string tenant = body.value("tenant", "");
      if (absl::Status st = model::ValidateTenantId(tenant); !st.ok()) return fail(st);
      absl::StatusOr<uint8_t> scopes = ScopesFromJson(body.value("scopes", nlohmann::json()));
      if (!scopes.ok()) return fail(scopes.status());
      nlohmann::json description_json = body.value("description", nlohmann::json(""));
      if (!description_json.is_string()) {
        return fail(absl::InvalidArgumentError("\"description\" must be a string"));
      }
      std::string description = description_json.get<std::string>();
      if (description.size() > kMaxDescriptionBytes || !model::IsValidUtf8(description)) {
        return fail(absl::InvalidArgumentError(
            StrCat("\"description\" must be UTF-8 of at most ", kMaxDescriptionBytes, " bytes")));
      }
      auth->Create(tenant, *scopes, std::move(description),
                   [responder](absl::StatusOr<IssuedToken> issued) mutable {
                     if (!issued.ok()) return responder.Send(ErrorResponse(issued.status(), false));
                     nlohmann::json out = TokenJson(issued->record);
                     out["token"] = issued->token;
                     responder.Send(HttpResponse::Json(200, out.dump()));
                   });
    });
  });

  router.Handle("GET", kTokensPath, [admin](HttpRequest& http, HttpResponder responder) {
    admin(http, responder, [&](TokenAuthenticator* auth) {
      auth->List(std::string(http.Query("tenant")),
                 [responder](absl::StatusOr<std::vector<ApiToken>> tokens) mutable {
                   if (!tokens.ok()) return responder.Send(ErrorResponse(tokens.status(), false));
                   nlohmann::json list = nlohmann::json::array();
                   for (const ApiToken& t : *tokens) list.push_back(TokenJson(t));
                   responder.Send(HttpResponse::Json(200, nlohmann::json{{"tokens", list}}.dump()));
                 });
    });
  });

  router.HandlePrefix("DELETE", StrCat(kTokensPath, "/"),
                      [admin](HttpRequest& http, HttpResponder responder) {
                        admin(http, responder, [&](TokenAuthenticator* auth) {
                          std::string id = http.path.substr(kTokensPath.size() + 1);
                          auth->Revoke(std::move(id), [responder](absl::Status st) mutable {
                            if (!st.ok()) return responder.Send(ErrorResponse(st, false));
                            responder.Send(HttpResponse::Json(200, "{}"));
                          });
                        });
                      });
}

}  // namespace embers::server
