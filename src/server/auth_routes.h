// The admin API for API tokens (-auth.enabled with -auth.admin-token), on the HTTP port:
//
//   POST   /api/v1/auth/tokens        {"tenant", "scopes": "read,write", "description"}
//                                    → {"id", "token", "tenant", "scopes", "createdAt", …}
//   GET    /api/v1/auth/tokens[?tenant=t]  → {"tokens": [{"id", "tenant", "scopes", …}]}
//   DELETE /api/v1/auth/tokens/<id>  → 200, or 404 for an unknown id
//
// Every call needs `Authorization: Bearer <-auth.admin-token>` (401 otherwise). The token itself
// is shown once, in the answer to POST; the metastore keeps only its hash.
#ifndef EMBERS_SERVER_AUTH_ROUTES_H_
#define EMBERS_SERVER_AUTH_ROUTES_H_

#include <atomic>
#include <string>

#include "server/http_router.h"
#include "server/token_authenticator.h"

namespace embers::server {

// `authenticator` (null while it does not run: 503) and `admin_token` outlive the routes.
void RegisterAuthRoutes(const std::atomic<TokenAuthenticator*>* authenticator,
                        const std::string* admin_token, HttpRouter& router);

}  // namespace embers::server

#endif  // EMBERS_SERVER_AUTH_ROUTES_H_
