// EmbersApi against a scripted loopback HTTP server: the tenant and credential headers, retries
// of 5xx and 429, and server errors turned into one-line statuses with the right code.
#include "cmd/cli/embers_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "objstore/http/scripted_http_server.h"

namespace embers::cli {
namespace {

using objstore::http::Answer;
using objstore::http::ScriptedHttpServer;
using ::testing::HasSubstr;

std::unique_ptr<EmbersApi> Api(const ScriptedHttpServer& server, EmbersApiOptions o = {}) {
  std::string url = server.url("");
  o.url = url;
  o.timeout = absl::Seconds(20);
  auto api = EmbersApi::Create(std::move(o));
  EXPECT_TRUE(api.ok()) << api.status();
  return std::move(*api);
}

TEST(EmbersApi, SendsTenantAndBearerTokenAndRetriesOverload) {
  ScriptedHttpServer server({Answer(503, "busy"), Answer(429, "slow down"), Answer(200, "done")});
  auto api = Api(server, {.tenant_id = "team-a", .bearer_token = "tok3n"});
  std::string body;
  ASSERT_TRUE(api->Send("POST", "/ingest?name=x", "main 1", "text/plain", &body).ok());
  EXPECT_EQ(body, "done");
  ASSERT_EQ(server.requests().size(), 3u);
  const std::string headers = server.request_headers(2);
  EXPECT_THAT(headers, HasSubstr("X-Scope-OrgID: team-a"));
  EXPECT_THAT(headers, HasSubstr("Authorization: Bearer tok3n"));
  EXPECT_THAT(headers, HasSubstr("User-Agent: embers-cli/"));
}

TEST(EmbersApi, BasicAuth) {
  ScriptedHttpServer server({Answer(200, "")});
  auto api = Api(server, {.username = "alice", .password = "s3cret"});
  ASSERT_TRUE(api->Send("GET", "/ready", "", "", nullptr).ok());
  EXPECT_THAT(server.request_headers(0), HasSubstr("Authorization: Basic YWxpY2U6czNjcmV0"));
}

TEST(EmbersApi, ConnectErrorsKeepTheServersCodeAndMessage) {
  ScriptedHttpServer server(
      {Answer(400, R"({"code":"invalid_argument","message":"parse error at 14\nmore detail"})")});
  auto api = Api(server);
  absl::Status st = api->Send("POST", "/querier.v1.QuerierService/SelectSeries", "", "", nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(),
            "POST /querier.v1.QuerierService/SelectSeries: HTTP 400: parse error at 14");
}

TEST(EmbersApi, PlainTextErrorsMapByHttpStatus) {
  EXPECT_EQ(HttpErrorStatus("GET /x", 401, "no token\n").code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(HttpErrorStatus("GET /x", 413, "too big").code(), absl::StatusCode::kResourceExhausted);
  absl::Status st = HttpErrorStatus("GET /nope", 404, "no route for /nope");
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(st.message(), HasSubstr("is --url an embers server"));
}

TEST(EmbersApi, ValidatesTheUrlAndCredentials) {
  EXPECT_EQ(EmbersApi::Create({.url = "localhost:4040"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EmbersApi::Create({.url = "http://"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EmbersApi::Create({.url = "http://h:1", .username = "u", .bearer_token = "t"})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(EmbersApi, UrlEncode) {
  EXPECT_EQ(UrlEncode("api{env=prod, x}"), "api%7Benv%3Dprod%2C%20x%7D");
}

}  // namespace
}  // namespace embers::cli
