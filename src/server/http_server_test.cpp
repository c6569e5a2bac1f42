#include "server/http_server.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <pthread.h>
#include <future>
#include "base/metrics.h"
#include "base/strings.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

#include "base/compression.h"

namespace embers::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

class HttpServerTest : public testing::Test {
 protected:
  void SetUp() override {
    router_.Handle("GET", "/hello", [](HttpRequest& req, HttpResponder r) {
      r.Send(HttpResponse::Text(200, "hello " + std::string(req.Query("name"))));
    });
    router_.Handle("POST", "/echo", [](HttpRequest& req, HttpResponder r) {
      r.Send(HttpResponse::Text(200, req.body));
    });
    router_.Handle("POST", "/later", [](HttpRequest& req, HttpResponder r) {
      // Answer from another thread after the handler returned, as the write path does.
      std::thread([r, body = req.body] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        r.Send(HttpResponse::Text(202, "later " + body));
      }).detach();
    });
    router_.Handle("GET", "/dropped", [](HttpRequest&, HttpResponder) {});
    router_.Handle("POST", "/pkg.Service/Method",
                   [](HttpRequest&, HttpResponder r) { r.Send(HttpResponse::Text(200, "ok")); },
                   {.connect = true});
    HttpServerOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    options.max_request_body_bytes = 1024;
    server_ = std::make_unique<HttpServer>(options, &router_, nullptr);
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override { server_->Stop(absl::Seconds(1)); }

  struct Client {
    asio::io_context ioc;
    beast::tcp_stream stream{ioc};
    beast::flat_buffer buffer;
    explicit Client(int port) {
      stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    }
    http::response<http::string_body> Do(http::request<http::string_body> req) {
      req.version(11);
      req.set(http::field::host, "localhost");
      req.prepare_payload();
      http::write(stream, req);
      http::response<http::string_body> res;
      http::read(stream, buffer, res);
      return res;
    }
  };

  http::request<http::string_body> Req(http::verb verb, std::string target, std::string body = "") {
    http::request<http::string_body> req{verb, target, 11};
    req.body() = std::move(body);
    return req;
  }

  HttpRouter router_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  Client c(server_->port());
  for (int i = 0; i < 5; ++i) {
    auto res = c.Do(Req(http::verb::get, "/hello?name=w%20orld&x=1"));
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(), "hello w orld\n");
    EXPECT_TRUE(res.keep_alive());
  }
}

TEST_F(HttpServerTest, UnknownRouteIs404AndWrongMethodIs405) {
  Client c(server_->port());
  EXPECT_EQ(c.Do(Req(http::verb::get, "/nope")).result_int(), 404);
  auto res = c.Do(Req(http::verb::delete_, "/hello"));
  EXPECT_EQ(res.result_int(), 405);
  EXPECT_EQ(res[http::field::allow], "GET");
}

TEST_F(HttpServerTest, DeferredResponseFromAnotherThread) {
  Client c(server_->port());
  auto res = c.Do(Req(http::verb::post, "/later", "x"));
  EXPECT_EQ(res.result_int(), 202);
  EXPECT_EQ(res.body(), "later x\n");
  // The connection is still usable afterwards.
  EXPECT_EQ(c.Do(Req(http::verb::get, "/hello")).result_int(), 200);
}

TEST_F(HttpServerTest, DroppedResponderAnswers500) {
  Client c(server_->port());
  EXPECT_EQ(c.Do(Req(http::verb::get, "/dropped")).result_int(), 500);
}

TEST_F(HttpServerTest, BodyOverTheLimitIs413) {
  Client c(server_->port());
  auto res = c.Do(Req(http::verb::post, "/echo", std::string(2048, 'a')));
  EXPECT_EQ(res.result_int(), 413);
  // Connect routes get a Connect error body.
  Client c2(server_->port());
  auto connect = c2.Do(Req(http::verb::post, "/pkg.Service/Method", std::string(4096, 'a')));
  EXPECT_EQ(connect.result_int(), 413);
  EXPECT_NE(connect.body().find("\"code\":\"resource_exhausted\""), std::string::npos)
      << connect.body();
}

TEST_F(HttpServerTest, ChunkedBodyOverTheLimitIs413) {
  Client c(server_->port());
  http::request<http::string_body> req{http::verb::post, "/echo", 11};
  req.set(http::field::host, "localhost");
  req.chunked(true);
  req.body() = std::string(4096, 'b');
  http::write(c.stream, req);
  http::response<http::string_body> res;
  http::read(c.stream, c.buffer, res);
  EXPECT_EQ(res.result_int(), 413);
}

TEST_F(HttpServerTest, GzipBodiesAreDecompressedWithinTheLimit) {
  Client c(server_->port());
  auto req = Req(http::verb::post, "/echo", Gzip("compressed hello"));
  req.set(http::field::content_encoding, "gzip");
  auto res = c.Do(req);
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "compressed hello\n");

  // 512 KiB of zeros compresses to ~0.5 KiB but inflates far past the 1 KiB limit.
  Client c2(server_->port());
  auto bomb = Req(http::verb::post, "/echo", Gzip(std::string(512 << 10, '\0'), 9));
  ASSERT_LT(bomb.body().size(), 1024u);
  bomb.set(http::field::content_encoding, "gzip");
  EXPECT_EQ(c2.Do(bomb).result_int(), 413);

  Client c3(server_->port());
  auto corrupt = Req(http::verb::post, "/echo", "not gzip at all");
  corrupt.set(http::field::content_encoding, "gzip");
  EXPECT_EQ(c3.Do(corrupt).result_int(), 400);

  Client c4(server_->port());
  auto br = Req(http::verb::post, "/echo", "x");
  br.set(http::field::content_encoding, "br");
  EXPECT_EQ(c4.Do(br).result_int(), 415);
}

TEST_F(HttpServerTest, MalformedRequestIs400) {
  asio::io_context ioc;
  asio::ip::tcp::socket s(ioc);
  s.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
  std::string garbage = "THIS IS NOT HTTP\r\n\r\n";
  asio::write(s, asio::buffer(garbage));
  std::string reply(128, '\0');
  boost::system::error_code ec;
  size_t n = s.read_some(asio::buffer(reply), ec);
  EXPECT_NE(reply.substr(0, n).find(" 400 "), std::string::npos) << reply;
}

// CPU-bound routes run on the handler pool; bodies waiting for it are bounded, and a request
// beyond the bound is answered 429 at once while the queued ones are still served.
TEST(HttpServerHandlerPool, RunsOnTheHandlerThreadsAndBoundsTheQueue) {
  HttpRouter router;
  std::promise<void> started_promise, gate_promise;
  std::shared_future<void> gate = gate_promise.get_future().share();
  std::atomic<bool> first{true};
  router.Handle("POST", "/decode",
                [&](HttpRequest& req, HttpResponder r) {
                  if (first.exchange(false)) {
                    started_promise.set_value();
                    gate.wait();
                  }
                  char name[16] = {};
                  pthread_getname_np(pthread_self(), name, sizeof(name));
                  r.Send(HttpResponse::Text(200, StrCat(name, " ", req.body.size())));
                },
                {.cpu_bound = true});
  HttpServerOptions options;
  options.address = "127.0.0.1";
  options.port = 0;
  options.handler_threads = 1;
  options.max_handler_queue_bytes = 1000;
  HttpServer server(options, &router, nullptr);
  ASSERT_TRUE(server.Start().ok());
  bool gate_open = false;
  auto open_gate = [&] {
    if (!std::exchange(gate_open, true)) gate_promise.set_value();
  };
  // However the test ends, the handler thread must be let go, or stopping the server hangs.
  struct OpenAtExit {
    std::function<void()> open;
    ~OpenAtExit() { open(); }
  } open_at_exit{open_gate};
  auto send = [&](beast::tcp_stream& stream, size_t bytes) {
    http::request<http::string_body> req{http::verb::post, "/decode", 11};
    req.set(http::field::host, "localhost");
    req.body() = std::string(bytes, 'b');
    req.prepare_payload();
    http::write(stream, req);
  };
  auto receive = [](beast::tcp_stream& stream) {
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    return res;
  };
  auto queued_bytes = [] {
    std::string text = metrics::Registry::Global().Render();
    size_t at = text.find("\nembers_http_handler_queue_bytes ");
    return at == std::string::npos ? std::string()
                                   : text.substr(at + 33, text.find('\n', at + 1) - at - 33);
  };
  asio::io_context ioc;
  auto endpoint = asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port());
  beast::tcp_stream a(ioc), b(ioc), c(ioc), d(ioc);
  for (auto* s : {&a, &b, &c, &d}) s->connect(endpoint);

  send(a, 600);  // taken by the only handler thread, which then waits at the gate
  started_promise.get_future().wait();
  send(b, 600);  // waits in the queue
  for (int i = 0; i < 1000 && queued_bytes() != "600"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(queued_bytes(), "600");
  send(c, 600);  // 600 + 600 > 1000
  // Were the bound not applied, c would wait at the gate: fail after 10 s instead of hanging.
  pollfd answered{.fd = c.socket().native_handle(), .events = POLLIN, .revents = 0};
  ASSERT_EQ(poll(&answered, 1, 10000), 1) << "no answer: the queue bound was not applied";
  auto refused = receive(c);
  EXPECT_EQ(refused.result_int(), 429);
  EXPECT_NE(refused.body().find("overloaded"), std::string::npos) << refused.body();

  open_gate();
  auto ra = receive(a), rb = receive(b);
  EXPECT_EQ(ra.result_int(), 200);
  EXPECT_EQ(ra.body(), "http-handler 600\n");
  EXPECT_EQ(rb.result_int(), 200);
  send(d, 600);  // the queue has drained
  EXPECT_EQ(receive(d).result_int(), 200);
  server.Stop(absl::Seconds(1));
}

}  // namespace
}  // namespace embers::server
