// Http2Client: one cleartext HTTP/2 connection of embers-loadgen (h2c with prior knowledge, as
// gRPC clients and Connect's HTTP/2 transports connect), carrying many concurrent requests as
// streams. With -http2 the push runner (runner.h) sends its pushes through these instead of one
// HTTP/1.1 connection per request in flight, so the server's HTTP/2 path is measured with the
// same requests and the same accounting.
//
// The framing is libnghttp2's client session (flow control, HPACK, stream limits, protocol
// checks); this class only moves bytes between it and the socket and turns the end of each stream
// into one result. Everything runs on the executor it is created with, which must be a strand
// when the io_context has several threads: every method must be called on it, and completion
// callbacks run on it too, always posted (never inside the call that submitted), so a callback
// may submit the next request.
//
// A connection goes idle → connecting → open → draining (the server sent GOAWAY: the streams it
// accepted may still finish, new requests are refused) → closed. It never reconnects: the owner
// makes a new Http2Client once usable() is false (runner.cc does, per group of streams).
//
// Each request ends in exactly one result: the response (any status; non-2xx is the caller's
// business), or an error when its stream ended without a complete response — reset by the
// server (RST_STREAM), refused by a GOAWAY, cut by the loss of the connection, or not answered
// within the timeout (the stream is then cancelled; if nothing at all arrived on the connection
// for that long, not even the answer to a PING, the connection is closed).
#ifndef EMBERS_CMD_LOADGEN_HTTP2_CLIENT_H_
#define EMBERS_CMD_LOADGEN_HTTP2_CLIENT_H_

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

struct nghttp2_session;

namespace embers::loadgen {

struct Http2Request {
  std::string method = "POST";
  std::string path;
  // Sent as given except that names are lower-cased (HTTP/2 requires it); content-length is added
  // for a request with a body.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct Http2Response {
  int status = 0;
  std::string body;  // at most Http2ClientOptions::max_response_body_bytes of it
};

struct Http2ClientOptions {
  std::string authority;  // :authority, "host:port"
  // Bounds the TCP connect, and each request from Submit to the end of its response.
  absl::Duration timeout = absl::Seconds(30);
  // Only error messages are read from bodies; the rest of a larger body is dropped.
  size_t max_response_body_bytes = 64 * 1024;
};

class Http2Client : public std::enable_shared_from_this<Http2Client> {
 public:
  using Endpoints = boost::asio::ip::tcp::resolver::results_type;
  using ConnectDone = std::function<void(absl::Status)>;
  using Done = std::function<void(absl::StatusOr<Http2Response>)>;

  static std::shared_ptr<Http2Client> Create(boost::asio::any_io_executor executor,
                                             Http2ClientOptions options);
  ~Http2Client();
  Http2Client(const Http2Client&) = delete;
  Http2Client& operator=(const Http2Client&) = delete;

  // Opens the connection (TCP, then the client preface and SETTINGS) if that has not started, and
  // calls `done` once it is open (OK) or failed (Unavailable, DeadlineExceeded); at once when it
  // already is open, with FailedPrecondition when it is draining or closed.
  void Connect(const Endpoints& endpoints, ConnectDone done);
  // Sends `request` on a new stream and calls `done` with its response or error. Unavailable at
  // once unless open().
  void Submit(Http2Request request, Done done);
  // Fails every pending request and connect with Cancelled, sends GOAWAY (best effort) and closes
  // the socket. Call it when done with a connection that may still be open.
  void Close();

  bool open() const { return state_ == State::kOpen; }
  // Idle, connecting or open: still worth waiting for. False once draining or closed.
  bool usable() const { return state_ <= State::kOpen; }
  size_t open_streams() const { return streams_.size(); }
  // The server's SETTINGS_MAX_CONCURRENT_STREAMS (nghttp2 queues the requests beyond it until
  // streams end): unlimited (2^32 - 1) until its SETTINGS arrive, 0 before the connection opens.
  uint32_t peer_max_concurrent_streams() const;

 private:
  enum class State { kIdle, kConnecting, kOpen, kDraining, kClosed };
  struct Stream {
    Http2Request request;
    size_t offset = 0;  // of request.body already handed to nghttp2
    Done done;
    std::chrono::steady_clock::time_point deadline;
    Http2Response response;
    bool complete = false;   // END_STREAM received after a final status
    bool timed_out = false;  // cancelled by us after the timeout
  };

  Http2Client(boost::asio::any_io_executor executor, Http2ClientOptions options);

  // The nghttp2 callbacks (http2_client.cc); user_data is the Http2Client.
  struct Callbacks;

  Stream* Find(int32_t stream_id);
  void OnConnected(const boost::system::error_code& ec);
  absl::Status InitSession();
  void Read();
  void ScheduleFlush();
  void Flush();
  void ArmTimer();
  void OnTick();
  // Ends the connection: every pending request and connect fails with `reason`.
  void Fail(const absl::Status& reason);
  void Finish(Done done, absl::StatusOr<Http2Response> result);
  absl::Status TimeoutError() const;

  boost::asio::any_io_executor executor_;
  Http2ClientOptions options_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  nghttp2_session* session_ = nullptr;
  State state_ = State::kIdle;
  std::chrono::steady_clock::time_point connect_started_;
  std::chrono::steady_clock::time_point last_read_;
  std::chrono::steady_clock::time_point last_ping_;
  std::vector<ConnectDone> connect_waiters_;
  std::unordered_map<int32_t, Stream> streams_;
  uint32_t goaway_error_ = 0;
  bool goaway_received_ = false;
  bool flush_posted_ = false;
  bool writing_ = false;
  std::string write_buffer_;
  std::array<char, 64 * 1024> read_buffer_;
};

// Coroutine forms: `co_await AsyncConnect(*client, endpoints, asio::use_awaitable)` yields the
// absl::Status, `co_await AsyncSubmit(...)` the absl::StatusOr<Http2Response>. Asio handlers may
// be move-only while std::function must be copyable, hence the shared_ptr.
template <typename Token>
auto AsyncConnect(Http2Client& client, const Http2Client::Endpoints& endpoints, Token&& token) {
  return boost::asio::async_initiate<Token, void(absl::Status)>(
      [&client, &endpoints](auto handler) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        client.Connect(endpoints, [h](absl::Status status) { (*h)(std::move(status)); });
      },
      token);
}

template <typename Token>
auto AsyncSubmit(Http2Client& client, Http2Request request, Token&& token) {
  return boost::asio::async_initiate<Token, void(absl::StatusOr<Http2Response>)>(
      [&client](auto handler, Http2Request request) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        client.Submit(std::move(request),
                      [h](absl::StatusOr<Http2Response> result) { (*h)(std::move(result)); });
      },
      token, std::move(request));
}

}  // namespace embers::loadgen

#endif  // EMBERS_CMD_LOADGEN_HTTP2_CLIENT_H_
