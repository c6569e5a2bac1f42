// Serves the embedded web UI. See ui_routes.h.
#include "server/ui_routes.h"

#include <optional>
#include <string>
#include <vector>

#include <cstdlib>

namespace embers::server {
namespace {

// The items of a comma- (or semicolon-) separated header value, without surrounding blanks.
std::vector<std::string_view> SplitTrimmed(std::string_view value, char separator) {
  std::vector<std::string_view> items;
  while (true) {
    size_t end = value.find(separator);
    std::string_view item = value.substr(0, end);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    items.push_back(item);
    if (end == std::string_view::npos) return items;
    value.remove_prefix(end + 1);
  }
}

bool EqualsLower(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

// Whether an If-None-Match value (a list of entity tags, or "*") names `etag`. Weak comparison,
// as RFC 9110 asks for If-None-Match: a "W/" prefix is ignored.
bool MatchesEtag(std::string_view if_none_match, std::string_view etag) {
  for (std::string_view tag : SplitTrimmed(if_none_match, ',')) {
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
  }
  return false;
}

}  // namespace

bool AcceptsGzip(std::string_view accept_encoding) {
  std::optional<bool> gzip, any;
  for (std::string_view item : SplitTrimmed(accept_encoding, ',')) {
    std::vector<std::string_view> parts = SplitTrimmed(item, ';');
    bool allowed = true;
    for (size_t i = 1; i < parts.size(); ++i) {
      std::string_view param = parts[i];
      if (!param.starts_with("q=") && !param.starts_with("Q=")) continue;
      // A weight is 0 to 1 with at most three decimals (RFC 9110 §12.4.2); anything unreadable
      // counts as "not acceptable", since the identity body is always safe.
      std::string weight(param.substr(2));
      char* end = nullptr;
      double q = std::strtod(weight.c_str(), &end);
      allowed = !weight.empty() && end == weight.c_str() + weight.size() && q > 0;
    }
    if (EqualsLower(parts[0], "gzip") || EqualsLower(parts[0], "x-gzip")) gzip = allowed;
    if (parts[0] == "*") any = allowed;
  }
  return gzip.value_or(any.value_or(false));
}

HttpResponse UiAssetResponse(const UiAsset& asset, const HttpRequest& request) {
  HttpResponse response;
  response.content_type = std::string(asset.content_type);
  response.headers.emplace_back("ETag", std::string(asset.etag));
  // Hashed names never change content; the page itself is revalidated on every load so that a
  // new binary's UI is picked up at once (a 304 when nothing changed).
  response.headers.emplace_back(
      "Cache-Control", asset.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  response.headers.emplace_back("Vary", "Accept-Encoding");
  if (asset.path == "/") {
    // The page only talks to this origin; say so, so an injected script could not call out.
    response.headers.emplace_back(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
        "connect-src 'self'; frame-ancestors 'none'");
    response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  }
  if (MatchesEtag(request.Header("if-none-match"), asset.etag)) {
    response.status = 304;
    return response;
  }
  if (!asset.gzip_body.empty() && asset.gzip_body.size() < asset.body.size() &&
      AcceptsGzip(request.Header("accept-encoding"))) {
    response.headers.emplace_back("Content-Encoding", "gzip");
    response.body = std::string(asset.gzip_body);
  } else {
    response.body = std::string(asset.body);
  }
  return response;
}

void RegisterUiRoutes(HttpRouter& router) {
  for (const UiAsset& asset : UiAssets()) {
    const UiAsset* served = &asset;
    router.Handle("GET", asset.path, [served](HttpRequest& request, HttpResponder responder) {
      responder.Send(UiAssetResponse(*served, request));
    });
  }
}

}  // namespace embers::server
