#include "cmd/loadgen/http2_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>

#include "server/http_router.h"
#include "server/http_server.h"

namespace embers::loadgen {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Runs `ioc` until `done()` or 10 s; false on the timeout.
bool RunUntil(asio::io_context& ioc, const std::function<bool()>& done) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    if (ioc.stopped()) ioc.restart();
    ioc.run_one_for(std::chrono::milliseconds(50));
  }
  return true;
}

Http2Client::Endpoints Resolve(asio::io_context& ioc, int port) {
  return tcp::resolver(ioc).resolve("127.0.0.1", std::to_string(port));
}

// The client against the server's own h2c implementation (server/http2_connection.h).
class Http2ClientTest : public testing::Test {
 protected:
  void SetUp() override {
    router_.Handle("POST", "/later", [](server::HttpRequest& req, server::HttpResponder r) {
      // Answered from another thread after a while, as the write path acknowledges pushes.
      std::thread([r, body = req.body] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        r.Send(server::HttpResponse::Text(200, "later " + body));
      }).detach();
    });
    router_.Handle("GET", "/slow", [](server::HttpRequest&, server::HttpResponder r) {
      std::thread([r] {
        std::this_thread::sleep_for(std::chrono::milliseconds(900));
        r.Send(server::HttpResponse::Text(200, "slow"));
      }).detach();
    });
    router_.Handle("GET", "/ready", [](server::HttpRequest&, server::HttpResponder r) {
      r.Send(server::HttpResponse::Text(200, "ready"));
    });
    server::HttpServerOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    options.max_request_body_bytes = 1024;
    server_ = std::make_unique<server::HttpServer>(options, &router_, nullptr);
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override { server_->Stop(absl::Seconds(2)); }

  std::shared_ptr<Http2Client> Connected(absl::Duration timeout = absl::Seconds(10)) {
    auto client =
        Http2Client::Create(ioc_.get_executor(), {.authority = "127.0.0.1", .timeout = timeout});
    std::optional<absl::Status> connected;
    client->Connect(Resolve(ioc_, server_->port()),
                    [&connected](absl::Status st) { connected = st; });
    EXPECT_TRUE(RunUntil(ioc_, [&] { return connected.has_value(); }));
    EXPECT_TRUE(connected.has_value() && connected->ok()) << *connected;
    return client;
  }

  // Submits `request` and waits for its result.
  absl::StatusOr<Http2Response> Do(Http2Client& client, Http2Request request) {
    std::optional<absl::StatusOr<Http2Response>> result;
    client.Submit(std::move(request),
                  [&result](absl::StatusOr<Http2Response> r) { result = std::move(r); });
    EXPECT_TRUE(RunUntil(ioc_, [&] { return result.has_value(); }));
    return result.value_or(absl::InternalError("no result"));
  }

  asio::io_context ioc_;
  server::HttpRouter router_;
  std::unique_ptr<server::HttpServer> server_;
};

TEST_F(Http2ClientTest, ManyConcurrentStreamsOnOneConnection) {
  auto client = Connected();
  // More than the server's 256 concurrent streams: nghttp2 holds the rest until streams end.
  constexpr int kRequests = 300;
  std::vector<std::optional<absl::StatusOr<Http2Response>>> results(kRequests);
  int finished = 0;
  for (int i = 0; i < kRequests; ++i) {
    client->Submit(
        {.path = "/later", .headers = {{"Content-Type", "text/plain"}}, .body = std::to_string(i)},
        [&results, &finished, i](absl::StatusOr<Http2Response> r) {
          results[i] = std::move(r);
          ++finished;
        });
  }
  EXPECT_EQ(client->open_streams(), static_cast<size_t>(kRequests));
  ASSERT_TRUE(RunUntil(ioc_, [&] { return finished == kRequests; }));
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_TRUE(results[i]->ok()) << i << ": " << results[i]->status();
    EXPECT_EQ((*results[i])->status, 200);
    EXPECT_EQ((*results[i])->body, "later " + std::to_string(i) + "\n");  // Text() adds it
  }
  EXPECT_EQ(client->peer_max_concurrent_streams(), 256u);
  EXPECT_TRUE(client->open());
  client->Close();
}

TEST_F(Http2ClientTest, NonSuccessStatusesAreResponses) {
  auto client = Connected();
  absl::StatusOr<Http2Response> missing = Do(*client, {.method = "GET", .path = "/nope"});
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_EQ(missing->status, 404);
  // Over the server's 1 KiB body limit: answered 413 before the body is read, then reset.
  absl::StatusOr<Http2Response> large =
      Do(*client, {.path = "/later", .body = std::string(64 * 1024, 'x')});
  ASSERT_TRUE(large.ok()) << large.status();
  EXPECT_EQ(large->status, 413);
  EXPECT_TRUE(client->open());
  client->Close();
}

TEST_F(Http2ClientTest, SlowStreamTimesOutAndTheConnectionStays) {
  auto client = Connected(absl::Milliseconds(400));
  absl::StatusOr<Http2Response> slow = Do(*client, {.method = "GET", .path = "/slow"});
  EXPECT_EQ(slow.status().code(), absl::StatusCode::kDeadlineExceeded) << slow.status();
  // The server answered the PING, so only the stream was cancelled.
  ASSERT_TRUE(client->open());
  absl::StatusOr<Http2Response> ready = Do(*client, {.method = "GET", .path = "/ready"});
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_EQ(ready->status, 200);
  client->Close();
}

TEST(Http2Client, ConnectRefusedIsAnErrorNotAHang) {
  asio::io_context ioc;
  int port = 0;
  {
    tcp::acceptor probe(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = probe.local_endpoint().port();
  }  // closed: nothing listens there now
  auto client = Http2Client::Create(ioc.get_executor(), {.authority = "127.0.0.1"});
  std::optional<absl::Status> connected;
  client->Connect(Resolve(ioc, port), [&connected](absl::Status st) { connected = st; });
  ASSERT_TRUE(RunUntil(ioc, [&] { return connected.has_value(); }));
  EXPECT_EQ(connected->code(), absl::StatusCode::kUnavailable) << *connected;
  EXPECT_NE(connected->message().find("connect: "), std::string_view::npos) << *connected;
  EXPECT_FALSE(client->usable());
  std::optional<absl::StatusOr<Http2Response>> result;
  client->Submit({.path = "/x"},
                 [&result](absl::StatusOr<Http2Response> r) { result = std::move(r); });
  ASSERT_TRUE(RunUntil(ioc, [&] { return result.has_value(); }));
  EXPECT_EQ(result->status().code(), absl::StatusCode::kUnavailable);
}

// A scripted HTTP/2 server on one connection: it reads the client's preface and frames up to the
// first HEADERS, sends an empty SETTINGS and then `script`, and keeps reading until the client
// goes (or closes at once when `then_close`).
class ScriptedPeer {
 public:
  ScriptedPeer(std::string script, bool then_close)
      : acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this, script = std::move(script), then_close] {
      boost::system::error_code ec;
      tcp::socket socket(ioc_);
      acceptor_.accept(socket, ec);
      if (ec) return;
      std::string preface(24, '\0');
      asio::read(socket, asio::buffer(preface), ec);
      for (bool headers = false; !headers && !ec;) {
        unsigned char hd[9];
        asio::read(socket, asio::buffer(hd), ec);
        if (ec) return;
        std::string payload((hd[0] << 16) | (hd[1] << 8) | hd[2], '\0');
        asio::read(socket, asio::buffer(payload), ec);
        headers = hd[3] == 0x1;
      }
      asio::write(socket, asio::buffer(Frame(0x4, 0, 0, "") + script), ec);
      if (then_close) return;
      char buf[4096];
      while (!ec) socket.read_some(asio::buffer(buf), ec);
    });
  }
  ~ScriptedPeer() {
    thread_.join();  // ends when the client closes its side
  }

  int port() const { return port_; }

  static std::string Frame(uint8_t type, uint8_t flags, uint32_t stream, std::string payload) {
    std::string f;
    const size_t n = payload.size();
    f.push_back(static_cast<char>(n >> 16));
    f.push_back(static_cast<char>(n >> 8));
    f.push_back(static_cast<char>(n));
    f.push_back(static_cast<char>(type));
    f.push_back(static_cast<char>(flags));
    for (int shift = 24; shift >= 0; shift -= 8) f.push_back(static_cast<char>(stream >> shift));
    return f + payload;
  }
  static std::string U32(uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
            static_cast<char>(v)};
  }

 private:
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  int port_ = 0;
  std::thread thread_;
};

// One GET against `peer`; the client is closed afterwards, which ends the peer.
absl::StatusOr<Http2Response> GetFrom(ScriptedPeer& peer, absl::Duration timeout, bool* usable) {
  asio::io_context ioc;
  auto client =
      Http2Client::Create(ioc.get_executor(), {.authority = "127.0.0.1", .timeout = timeout});
  std::optional<absl::Status> connected;
  client->Connect(Resolve(ioc, peer.port()), [&connected](absl::Status st) { connected = st; });
  EXPECT_TRUE(RunUntil(ioc, [&] { return connected.has_value(); }));
  EXPECT_TRUE(connected->ok()) << *connected;
  std::optional<absl::StatusOr<Http2Response>> result;
  client->Submit({.method = "GET", .path = "/x"},
                 [&result](absl::StatusOr<Http2Response> r) { result = std::move(r); });
  EXPECT_TRUE(RunUntil(ioc, [&] { return result.has_value(); }));
  *usable = client->usable();
  client->Close();
  return result.value_or(absl::InternalError("no result"));
}

TEST(Http2Client, ResetStreamIsAnError) {
  constexpr uint32_t kInternalError = 0x2;
  ScriptedPeer peer(ScriptedPeer::Frame(0x3, 0, 1, ScriptedPeer::U32(kInternalError)), false);
  bool usable = false;
  absl::StatusOr<Http2Response> r = GetFrom(peer, absl::Seconds(10), &usable);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("RST_STREAM INTERNAL_ERROR"), std::string_view::npos)
      << r.status();
  EXPECT_TRUE(usable);  // one stream failed, not the connection
}

TEST(Http2Client, GoawayRefusesTheStreamAndEndsTheConnection) {
  constexpr uint32_t kEnhanceYourCalm = 0xb;
  ScriptedPeer peer(
      ScriptedPeer::Frame(0x7, 0, 0, ScriptedPeer::U32(0) + ScriptedPeer::U32(kEnhanceYourCalm)),
      false);
  bool usable = true;
  absl::StatusOr<Http2Response> r = GetFrom(peer, absl::Seconds(10), &usable);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("GOAWAY (ENHANCE_YOUR_CALM)"), std::string_view::npos)
      << r.status();
  EXPECT_FALSE(usable);
}

TEST(Http2Client, LostConnectionFailsTheStream) {
  ScriptedPeer peer("", true);
  bool usable = true;
  absl::StatusOr<Http2Response> r = GetFrom(peer, absl::Seconds(10), &usable);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_FALSE(usable);
}

TEST(Http2Client, SilentPeerTimesOut) {
  ScriptedPeer peer("", false);
  bool usable = true;
  // The stream's deadline or the connection's (no answer even to the PING), whichever comes first.
  absl::StatusOr<Http2Response> r = GetFrom(peer, absl::Milliseconds(300), &usable);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
}

}  // namespace
}  // namespace embers::loadgen
