#include "server/client_capabilities.h"

#include <gtest/gtest.h>

namespace embers::server {
namespace {

TEST(ClientCapabilities, Utf8LabelNamesFromAccept) {
  EXPECT_TRUE(AcceptAllowsUtf8LabelNames("application/json; allow-utf8-labelnames=true"));
  EXPECT_TRUE(
      AcceptAllowsUtf8LabelNames("*/*;q=0.8, application/proto;ALLOW-UTF8-LABELNAMES=\"true\""));
  EXPECT_TRUE(
      AcceptAllowsUtf8LabelNames("text/plain,application/json ;  allow-utf8-labelnames = true"));
  EXPECT_FALSE(AcceptAllowsUtf8LabelNames(""));
  EXPECT_FALSE(AcceptAllowsUtf8LabelNames("application/json"));
  EXPECT_FALSE(AcceptAllowsUtf8LabelNames("application/json; allow-utf8-labelnames=false"));
  EXPECT_FALSE(AcceptAllowsUtf8LabelNames("application/json; allow-utf8-labelnames=TRUE"));
  EXPECT_FALSE(
      AcceptAllowsUtf8LabelNames("allow-utf8-labelnames=true"));  // a media type, no parameter
  // Malformed parts ask for nothing and never fail.
  EXPECT_FALSE(AcceptAllowsUtf8LabelNames(";;;,,=,;=true,\"\""));
  EXPECT_FALSE(AcceptAllowsUtf8LabelNames("a/b; allow-utf8-labelnames=\""));
}

}  // namespace
}  // namespace embers::server
