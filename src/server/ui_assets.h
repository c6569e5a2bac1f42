// UiAsset: one file of the built-in web UI (ui/), embedded in the binary at build time.
//
// ui/embed.mjs writes ui_assets.cc (in the build directory) from the esbuild bundle: every file
// with its Content-Type, a strong ETag (a hash of its bytes) and a gzip copy compressed at build
// time, so serving costs no CPU. ui_routes.cc serves them; nothing else uses this header.
#ifndef EMBERS_SERVER_UI_ASSETS_H_
#define EMBERS_SERVER_UI_ASSETS_H_

#include <span>
#include <string_view>

namespace embers::server {

struct UiAsset {
  std::string_view path;  // URL path: "/" for the page, "/ui/<name>-<hash>.<ext>" for the rest
  std::string_view content_type;
  std::string_view etag;  // quoted, as sent in the ETag header
  std::string_view body;
  std::string_view gzip_body;  // the same bytes gzip-compressed
  // The name carries a content hash: clients may keep it forever. Only the page itself ("/")
  // has a fixed name and must be revalidated.
  bool immutable = false;
};

// Every embedded file, in no particular order.
std::span<const UiAsset> UiAssets();

}  // namespace embers::server

#endif  // EMBERS_SERVER_UI_ASSETS_H_
