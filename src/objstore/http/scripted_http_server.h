// ScriptedHttpServer: a loopback HTTP/1.1 server that answers requests from a script, for tests
// of the S3 HTTP client and bucket that need answers a real store will not give on demand
// (5xx, dropped connections, a failing upload part). Test-only.
#ifndef EMBERS_OBJSTORE_HTTP_SCRIPTED_HTTP_SERVER_H_
#define EMBERS_OBJSTORE_HTTP_SCRIPTED_HTTP_SERVER_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "base/strings.h"
#include "gtest/gtest.h"

namespace embers::objstore::http {

// Answers the n-th request with the n-th scripted answer (the last one repeats) and records
// what each request carried. An empty answer closes the connection without a word.
class ScriptedHttpServer {
 public:
  explicit ScriptedHttpServer(std::vector<std::string> answers) : answers_(std::move(answers)) {
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
  ~ScriptedHttpServer() {
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
  // The request line and header lines of request `i` (0-based), as received.
  std::string request_headers(size_t i) {
    absl::MutexLock lock(&mu_);
    return i < headers_.size() ? headers_[i] : "";
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
        headers_.push_back(in.substr(0, std::min(header_end, in.size())));
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
  std::vector<std::string> headers_ ABSL_GUARDED_BY(mu_);
};

// A complete answer with `body` (and Connection: close).
inline std::string Answer(int status, std::string_view body) {
  return StrCat("HTTP/1.1 ", status, " X\r\nContent-Length: ", body.size(),
                "\r\nConnection: close\r\n\r\n", body);
}

}  // namespace embers::objstore::http

#endif  // EMBERS_OBJSTORE_HTTP_SCRIPTED_HTTP_SERVER_H_
