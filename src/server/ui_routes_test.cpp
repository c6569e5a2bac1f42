// Tests of the web UI's routes (ui_routes.h) over the assets embedded by this build: the page and
// its hashed assets exist, conditional requests, and which Accept-Encoding values get gzip.
#include "server/ui_routes.h"

#include <algorithm>
#include <string>

#include <gtest/gtest.h>

namespace embers::server {
namespace {

const UiAsset* FindAsset(std::string_view path) {
  for (const UiAsset& asset : UiAssets())
    if (asset.path == path) return &asset;
  return nullptr;
}

std::string HeaderOf(const HttpResponse& response, std::string_view name) {
  for (const auto& [n, v] : response.headers)
    if (n == name) return v;
  return "";
}

TEST(UiRoutes, EmbedsThePageAndTheHashedScriptItLoads) {
  const UiAsset* page = FindAsset("/");
  ASSERT_NE(page, nullptr);
  EXPECT_FALSE(page->immutable);
  EXPECT_EQ(page->content_type, "text/html; charset=utf-8");
  int scripts = 0;
  for (const UiAsset& asset : UiAssets()) {
    if (asset.path == "/") continue;
    EXPECT_TRUE(asset.immutable) << asset.path;
    EXPECT_NE(page->body.find(asset.path), std::string_view::npos)
        << asset.path << " not in the page";
    if (asset.path.ends_with(".js")) ++scripts;
  }
  EXPECT_EQ(scripts, 1);
}

TEST(UiRoutes, AnswersGzipOnlyWhenAccepted) {
  const UiAsset* page = FindAsset("/");
  ASSERT_NE(page, nullptr);
  HttpRequest request;
  request.headers["accept-encoding"] = "gzip, deflate, br";
  HttpResponse gzip = UiAssetResponse(*page, request);
  EXPECT_EQ(gzip.status, 200);
  EXPECT_EQ(HeaderOf(gzip, "Content-Encoding"), "gzip");
  EXPECT_EQ(gzip.body, page->gzip_body);
  EXPECT_EQ(HeaderOf(gzip, "Cache-Control"), "no-cache");
  EXPECT_EQ(HeaderOf(gzip, "ETag"), page->etag);

  request.headers.clear();
  HttpResponse identity = UiAssetResponse(*page, request);
  EXPECT_EQ(HeaderOf(identity, "Content-Encoding"), "");
  EXPECT_EQ(identity.body, page->body);
}

TEST(UiRoutes, IfNoneMatchGives304) {
  const UiAsset* page = FindAsset("/");
  ASSERT_NE(page, nullptr);
  HttpRequest request;
  request.headers["if-none-match"] = "\"other\", W/" + std::string(page->etag);
  HttpResponse response = UiAssetResponse(*page, request);
  EXPECT_EQ(response.status, 304);
  EXPECT_TRUE(response.body.empty());
  request.headers["if-none-match"] = "\"other\"";
  EXPECT_EQ(UiAssetResponse(*page, request).status, 200);
}

TEST(UiRoutes, AcceptEncodingWeights) {
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("deflate, GZIP;q=0.5"));
  EXPECT_TRUE(AcceptsGzip("*"));
  EXPECT_TRUE(AcceptsGzip("x-gzip"));
  EXPECT_FALSE(AcceptsGzip(""));
  EXPECT_FALSE(AcceptsGzip("br, deflate"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0, *"));  // an explicit refusal wins over the wildcard
  EXPECT_FALSE(AcceptsGzip("*;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=abc"));
}

}  // namespace
}  // namespace embers::server
