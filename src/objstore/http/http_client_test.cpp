// HttpClient against a scripted loopback HTTP server: retries, give-ups, streamed file bodies and
// answers whose body is not wanted.
#include "objstore/http/http_client.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "base/strings.h"
#include "base/test_ports.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "objstore/http/scripted_http_server.h"
#include "objstore/test_temp_dir.h"

namespace embers::objstore::http {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::unique_ptr<HttpClient> Client(int max_attempts = 4) {
  return HttpClient::Create({.max_connections = 2,
                             .connect_timeout = absl::Seconds(2),
                             .attempt_timeout = absl::Seconds(10),
                             .deadline = absl::Seconds(20),
                             .max_attempts = max_attempts,
                             .initial_backoff = absl::Milliseconds(1),
                             .max_backoff = absl::Milliseconds(5)})
      .value();
}

TEST(HttpClientTest, RetriesServerErrorsThenSucceeds) {
  ScriptedHttpServer server({Answer(503, "slow down"), Answer(500, ""), Answer(200, "ok")});
  absl::StatusOr<HttpResponse> r = Client()->Send({.url = server.url()});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");
  EXPECT_EQ(r->Header("content-length").value_or(""), "2");
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(HttpClientTest, GivesUpAfterMaxAttemptsWithTheLastAnswer) {
  ScriptedHttpServer server({Answer(429, "busy")});
  absl::StatusOr<HttpResponse> r = Client(3)->Send({.url = server.url()});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->body, "busy");
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(HttpClientTest, ClientErrorsAreNotRetried) {
  ScriptedHttpServer server({Answer(404, "<Error/>"), Answer(200, "")});
  absl::StatusOr<HttpResponse> r = Client()->Send({.method = "DELETE", .url = server.url()});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 404);
  EXPECT_THAT(server.requests(), ElementsAre("DELETE /x "));
}

TEST(HttpClientTest, RetriesADroppedConnection) {
  ScriptedHttpServer server({"", Answer(200, "second")});
  absl::StatusOr<HttpResponse> r = Client()->Send({.url = server.url()});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "second");
}

TEST(HttpClientTest, ConnectionRefusedIsUnavailableAfterTheAttempts) {
  const int port = testing::FreeLoopbackPort();  // nothing listens there
  absl::StatusOr<HttpResponse> r =
      Client(2)->Send({.url = StrCat("http://127.0.0.1:", port, "/x")});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(
      std::string(r.status().message()),
      ::testing::AllOf(HasSubstr(StrCat("127.0.0.1:", port)), HasSubstr("after 2 attempts")));
}

TEST(HttpClientTest, StreamsAFileRangeAndRewindsItOnARetry) {
  TempDir dir;
  const std::string path = dir.path() + "/body";
  std::ofstream(path) << "0123456789abcdefghij";
  const int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ScriptedHttpServer server({Answer(503, ""), Answer(200, "")});
  absl::StatusOr<HttpResponse> r =
      Client()->Send({.method = "PUT",
                      .url = server.url(),
                      .file_body = FileBody{.fd = fd, .offset = 3, .size = 10}});
  ::close(fd);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(server.requests(), ElementsAre("PUT /x 3456789abc", "PUT /x 3456789abc"));
}

TEST(HttpClientTest, MemoryBodiesAndMethods) {
  ScriptedHttpServer server({Answer(200, "")});
  std::unique_ptr<HttpClient> client = Client();
  ASSERT_TRUE(
      client->Send({.method = "POST", .url = server.url("/p?uploads="), .body = "<x/>"}).ok());
  ASSERT_TRUE(client->Send({.method = "PUT", .url = server.url("/e")}).ok());
  EXPECT_THAT(server.requests(), ElementsAre("POST /p?uploads= <x/>", "PUT /e "));
}

TEST(HttpClientTest, AnUnwantedBodyIsNotWaitedFor) {
  // Promises 5 bytes and sends none, holding the connection open for 3 s.
  ScriptedHttpServer server(
      {"HTTP/1.1 206 X\r\nContent-Range: bytes 0-0/0\r\nContent-Length: 5\r\nX-Hold: 1\r\n\r\n"});
  const absl::Time start = absl::Now();
  absl::StatusOr<HttpResponse> r = Client()->Send(
      {.url = server.url(), .want_body = [](const HttpResponse& h) { return h.status != 206; }});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 206);
  EXPECT_TRUE(r->body_skipped);
  EXPECT_EQ(r->Header("content-range").value_or(""), "bytes 0-0/0");
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST(HttpClientTest, ConcurrentCallersShareTheBoundedPool) {
  ScriptedHttpServer server({Answer(200, "")});
  std::unique_ptr<HttpClient> client = Client();  // two connections
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if (client->Send({.url = server.url()}).ok()) ++ok;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(server.requests().size(), 8u);
}

}  // namespace
}  // namespace embers::objstore::http
