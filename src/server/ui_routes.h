// The built-in web UI's HTTP routes: GET / (the page) and GET /ui/... (its hashed scripts and
// styles), served from the assets embedded at build time (ui_assets.h) so the binary works
// offline. Registered by the query-frontend module, so all-in-one and query-frontend processes
// serve the UI; it talks to the same process through the public querier.v1 Connect API.
#ifndef EMBERS_SERVER_UI_ROUTES_H_
#define EMBERS_SERVER_UI_ROUTES_H_

#include <string_view>

#include "server/http_message.h"
#include "server/http_router.h"
#include "server/ui_assets.h"

namespace embers::server {

void RegisterUiRoutes(HttpRouter& router);

// The answer to GET `asset`: 304 when If-None-Match names its ETag, the gzip copy when
// Accept-Encoding allows it. Exposed for tests.
HttpResponse UiAssetResponse(const UiAsset& asset, const HttpRequest& request);

// Whether an Accept-Encoding header value accepts gzip (a "gzip" or "*" token whose q is not 0).
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace embers::server

#endif  // EMBERS_SERVER_UI_ROUTES_H_
