// HttpClient against a scripted loopback HTTP server: retries, give-ups, streamed file bodies and
// answers whose body is not wanted.
#include "objstore/s3/http_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "base/strings.h"
#include "base/test_ports.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "objstore/test_temp_dir.h"

namespace embers::objstore::s3 {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Answers the n-th request with the n-th scripted answer (the last one repeats) and records
// what each request carried. An empty answer closes the connection without a word.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<std::string> answers) : answers_(std::move(answers)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(listener_, 16), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedServer() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }

  std::string url(std::string_view path = "/x") const {
    return StrCat("http://127.0.0.1:", port_, path);
  }
  // "METHOD /path body" per request received.
  std::vector<std::string> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) continue;
      std::string in;
      char buf[65536];
      size_t header_end = std::string::npos;
      size_t body_size = 0;
      while (header_end == std::string::npos || in.size() < header_end + 4 + body_size) {
        const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
        if (header_end == std::string::npos && (header_end = in.find("\r\n\r\n")) != in.npos) {
          for (std::string_view line : Split(std::string_view(in).substr(0, header_end), '\n')) {
            if (EqualsIgnoreCase(line.substr(0, 15), "content-length:")) {
              int64_t v = 0;
              ParseInt64(StripWhitespace(line.substr(15)), &v);
              body_size = static_cast<size_t>(v);
            }
          }
        }
      }
      std::string answer;
      {
        absl::MutexLock lock(&mu_);
        const std::string_view first_line = std::string_view(in).substr(0, in.find(" HTTP/"));
        requests_.push_back(StrCat(
            first_line, " ", header_end == std::string::npos ? "" : in.substr(header_end + 4)));
        answer = answers_[std::min(requests_.size(), answers_.size()) - 1];
      }
      if (!answer.empty()) ::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
      // An answer promising more body than it has: keep the connection open a while, as a
      // server that never sends the rest would.
      if (answer.find("X-Hold: 1") != std::string::npos) ::usleep(3'000'000);
      ::close(fd);
    }
  }

  std::vector<std::string> answers_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  absl::Mutex mu_;
  std::vector<std::string> requests_ ABSL_GUARDED_BY(mu_);
};

std::string Answer(int status, std::string_view body) {
  return StrCat("HTTP/1.1 ", status, " X\r\nContent-Length: ", body.size(),
                "\r\nConnection: close\r\n\r\n", body);
}

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
  ScriptedServer server({Answer(503, "slow down"), Answer(500, ""), Answer(200, "ok")});
  absl::StatusOr<HttpResponse> r = Client()->Send({.url = server.url()});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");
  EXPECT_EQ(r->Header("content-length").value_or(""), "2");
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(HttpClientTest, GivesUpAfterMaxAttemptsWithTheLastAnswer) {
  ScriptedServer server({Answer(429, "busy")});
  absl::StatusOr<HttpResponse> r = Client(3)->Send({.url = server.url()});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->body, "busy");
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(HttpClientTest, ClientErrorsAreNotRetried) {
  ScriptedServer server({Answer(404, "<Error/>"), Answer(200, "")});
  absl::StatusOr<HttpResponse> r = Client()->Send({.method = "DELETE", .url = server.url()});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 404);
  EXPECT_THAT(server.requests(), ElementsAre("DELETE /x "));
}

TEST(HttpClientTest, RetriesADroppedConnection) {
  ScriptedServer server({"", Answer(200, "second")});
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
  ScriptedServer server({Answer(503, ""), Answer(200, "")});
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
  ScriptedServer server({Answer(200, "")});
  std::unique_ptr<HttpClient> client = Client();
  ASSERT_TRUE(
      client->Send({.method = "POST", .url = server.url("/p?uploads="), .body = "<x/>"}).ok());
  ASSERT_TRUE(client->Send({.method = "PUT", .url = server.url("/e")}).ok());
  EXPECT_THAT(server.requests(), ElementsAre("POST /p?uploads= <x/>", "PUT /e "));
}

TEST(HttpClientTest, AnUnwantedBodyIsNotWaitedFor) {
  // Promises 5 bytes and sends none, holding the connection open for 3 s.
  ScriptedServer server(
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
  ScriptedServer server({Answer(200, "")});
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
}  // namespace embers::objstore::s3
