#include "server/http2_connection.h"

#include <nghttp2/nghttp2.h>

#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstring>
#include <unordered_map>
#include <vector>

#include <boost/asio.hpp>

#include "base/logging.h"
#include "base/status.h"
#include "base/strings.h"

namespace embers::server {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
// Bytes gathered from nghttp2 before one socket write: large enough for many small responses per
// write (the ≥ 40k calls/s target), small enough that one slow client holds little memory.
constexpr size_t kWriteBatchBytes = 256 * 1024;
constexpr size_t kReadBufferBytes = 64 * 1024;
// Receive windows: a push of a few MiB should not stall on WINDOW_UPDATE round trips.
constexpr int32_t kStreamWindowBytes = 4 << 20;
constexpr int32_t kConnectionWindowBytes = 16 << 20;

// Headers that describe an HTTP/1.1 connection and are forbidden in HTTP/2 responses.
bool IsConnectionSpecific(std::string_view lower_name) {
  return lower_name == "connection" || lower_name == "keep-alive" ||
         lower_name == "proxy-connection" || lower_name == "transfer-encoding" ||
         lower_name == "upgrade";
}

nghttp2_nv MakeNv(std::string_view name, std::string_view value) {
  // nghttp2 copies names and values on submit (no NO_COPY flags), so views into temporaries are
  // fine for the duration of the call.
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP2_NV_FLAG_NONE};
}

// `Socket` is tcp::socket (h2c) or TlsStream (h2).
template <class Socket>
class Connection : public std::enable_shared_from_this<Connection<Socket>> {
 public:
  Connection(Socket socket, const Http2Options& options, Http2Dispatch dispatch,
             std::function<void()> on_close)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        options_(options),
        dispatch_(std::move(dispatch)),
        on_close_(std::move(on_close)) {
    boost::system::error_code ec;
    auto ep = LowestSocket(socket_).remote_endpoint(ec);
    if (!ec) remote_ = StrCat(ep.address().to_string(), ":", ep.port());
  }

  using std::enable_shared_from_this<Connection<Socket>>::shared_from_this;

  ~Connection() {
    if (session_ != nullptr) nghttp2_session_del(session_);
  }

  void Start(std::string received, std::optional<Http2Upgrade> upgrade) {
    if (!InitSession(upgrade)) return Close();
    last_activity_ = Clock::now();
    ArmTimer();
    if (!received.empty() && !Receive(received.data(), received.size())) return;
    if (upgrade) Dispatch(1);
    Flush();
    Read();
  }

 private:
  struct Stream {
    std::shared_ptr<HttpRequest> request;
    size_t header_bytes = 0;
    bool answered = false;  // a response was submitted (maybe before the request ended)
    std::string body;       // the response body, sent from `offset`
    size_t offset = 0;
    std::vector<std::pair<std::string, std::string>> trailers;
  };

  bool InitSession(const std::optional<Http2Upgrade>& upgrade) {
    nghttp2_session_callbacks* callbacks = nullptr;
    if (nghttp2_session_callbacks_new(&callbacks) != 0) return false;
    nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &OnBeginHeaders);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, &OnHeader);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &OnDataChunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &OnFrame);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &OnStreamClose);
    nghttp2_option* option = nullptr;
    nghttp2_option_new(&option);
    // Bounds what a peer can make us buffer (headers) and queue (control-frame floods are
    // already refused by nghttp2).
    nghttp2_option_set_max_send_header_block_length(option, 64 * 1024);
    const int rv = nghttp2_session_server_new2(&session_, callbacks, this, option);
    nghttp2_option_del(option);
    nghttp2_session_callbacks_del(callbacks);
    if (rv != 0) return false;
    if (upgrade) {
      auto stream = std::make_unique<Stream>();
      stream->request = upgrade->request;
      stream->request->http_version = 20;
      if (nghttp2_session_upgrade2(
              session_, reinterpret_cast<const uint8_t*>(upgrade->settings_payload.data()),
              upgrade->settings_payload.size(), upgrade->request->method == "HEAD", nullptr) != 0) {
        return false;
      }
      streams_.emplace(1, std::move(stream));
    }
    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, options_.max_concurrent_streams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<uint32_t>(kStreamWindowBytes)},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, options_.max_header_bytes},
    };
    if (nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings)) != 0)
      return false;
    return nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                                 kConnectionWindowBytes) == 0;
  }

  // ---- nghttp2 callbacks (on the strand, inside Receive or Flush) ----

  static Connection* Self(void* user_data) { return static_cast<Connection*>(user_data); }

  static int OnBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    Connection* self = Self(user_data);
    auto stream = std::make_unique<Stream>();
    stream->request = std::make_shared<HttpRequest>();
    stream->request->http_version = 20;
    stream->request->remote_address = self->remote_;
    self->streams_[frame->hd.stream_id] = std::move(stream);
    return 0;
  }

  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name_data,
                      size_t name_len, const uint8_t* value_data, size_t value_len, uint8_t,
                      void* user_data) {
    Connection* self = Self(user_data);
    Stream* stream = self->Find(frame->hd.stream_id);
    if (stream == nullptr || frame->hd.type != NGHTTP2_HEADERS) return 0;
    stream->header_bytes += name_len + value_len + 32;  // RFC 9113's accounting per field
    if (stream->header_bytes > self->options_.max_header_bytes) {
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // resets this stream only
    }
    // Request trailers (gRPC clients send none) are not part of what a handler sees.
    if (frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    std::string_view name(reinterpret_cast<const char*>(name_data), name_len);
    std::string_view value(reinterpret_cast<const char*>(value_data), value_len);
    HttpRequest& request = *stream->request;
    if (name == ":method") {
      request.method = std::string(value);
    } else if (name == ":path") {
      request.target = std::string(value);
      ParseRequestTarget(request.target, &request);
    } else if (name == ":authority") {
      request.headers.try_emplace("host", std::string(value));
    } else if (!name.empty() && name[0] != ':') {
      // HTTP/2 header names arrive lower-cased (nghttp2 rejects others).
      request.headers.try_emplace(std::string(name), std::string(value));
    }
    return 0;
  }

  static int OnDataChunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                         size_t len, void* user_data) {
    Connection* self = Self(user_data);
    Stream* stream = self->Find(stream_id);
    if (stream == nullptr || stream->answered) return 0;
    std::string& body = stream->request->body;
    if (static_cast<int64_t>(body.size() + len) > self->options_.max_request_body_bytes) {
      self->RejectTooLarge(stream_id, stream);
      return 0;
    }
    body.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }

  static int OnFrame(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    Connection* self = Self(user_data);
    const int32_t id = frame->hd.stream_id;
    Stream* stream = self->Find(id);
    if (stream == nullptr || stream->answered) return 0;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      // Refuse a declared oversized body before it is sent.
      int64_t declared = 0;
      std::string_view length = stream->request->Header("content-length");
      if (!length.empty() && ParseInt64(length, &declared) &&
          declared > self->options_.max_request_body_bytes) {
        self->RejectTooLarge(id, stream);
        return 0;
      }
    }
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
      self->ready_.push_back(id);
    }
    return 0;
  }

  static int OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t, void* user_data) {
    // A stream whose handler is still running is simply forgotten: the request lives on in the
    // dispatch closure, and its late answer finds no stream and is dropped.
    Self(user_data)->streams_.erase(stream_id);
    return 0;
  }

  static ssize_t ReadBody(nghttp2_session* session, int32_t stream_id, uint8_t* buf, size_t length,
                          uint32_t* data_flags, nghttp2_data_source*, void* user_data) {
    Connection* self = Self(user_data);
    Stream* stream = self->Find(stream_id);
    if (stream == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    const size_t n = std::min(length, stream->body.size() - stream->offset);
    std::memcpy(buf, stream->body.data() + stream->offset, n);
    stream->offset += n;
    if (stream->offset == stream->body.size()) {
      *data_flags |= NGHTTP2_DATA_FLAG_EOF;
      std::string().swap(stream->body);
      stream->offset = 0;
      if (!stream->trailers.empty()) {
        std::vector<nghttp2_nv> nva;
        nva.reserve(stream->trailers.size());
        for (const auto& [name, value] : stream->trailers) nva.push_back(MakeNv(name, value));
        if (nghttp2_submit_trailer(session, stream_id, nva.data(), nva.size()) == 0) {
          *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        }
      }
    }
    return static_cast<ssize_t>(n);
  }

  // ---- requests and responses ----

  Stream* Find(int32_t stream_id) {
    auto it = streams_.find(stream_id);
    return it == streams_.end() ? nullptr : it->second.get();
  }

  void RejectTooLarge(int32_t stream_id, Stream* stream) {
    std::string message =
        StrCat("request body exceeds the limit of ", options_.max_request_body_bytes, " bytes");
    HttpResponse response = HttpResponse::Text(413, std::move(message));
    stream->request->body.clear();
    Submit(stream_id, stream, std::move(response));
  }

  void Dispatch(int32_t stream_id) {
    Stream* stream = Find(stream_id);
    if (stream == nullptr || stream->answered) return;
    auto self = shared_from_this();
    auto executor = socket_.get_executor();
    dispatch_(stream->request, [self, executor, stream_id](HttpResponse response) {
      asio::post(executor, [self, stream_id, response = std::move(response)]() mutable {
        self->OnResponse(stream_id, std::move(response));
      });
    });
  }

  void OnResponse(int32_t stream_id, HttpResponse response) {
    if (closed_) return;
    Stream* stream = Find(stream_id);
    if (stream == nullptr || stream->answered) return;  // reset by the client meanwhile
    Submit(stream_id, stream, std::move(response));
    Flush();
  }

  void Submit(int32_t stream_id, Stream* stream, HttpResponse response) {
    stream->answered = true;
    const std::string status = std::to_string(response.status);
    std::vector<std::string> lower_names;
    lower_names.reserve(response.headers.size());
    for (const auto& header : response.headers) lower_names.push_back(AsciiLower(header.first));
    std::vector<nghttp2_nv> nva;
    nva.reserve(4 + response.headers.size());
    nva.push_back(MakeNv(":status", status));
    nva.push_back(MakeNv("content-type", response.content_type));
    std::string length;
    if (response.trailers.empty()) {
      length = std::to_string(response.body.size());
      nva.push_back(MakeNv("content-length", length));
    }
    for (size_t i = 0; i < response.headers.size(); ++i) {
      if (IsConnectionSpecific(lower_names[i]) || lower_names[i] == "content-length") continue;
      nva.push_back(MakeNv(lower_names[i], response.headers[i].second));
    }
    const bool has_data = !response.body.empty() || !response.trailers.empty();
    stream->body = std::move(response.body);
    stream->offset = 0;
    stream->trailers = std::move(response.trailers);
    nghttp2_data_provider provider{};
    provider.read_callback = &ReadBody;
    int rv = nghttp2_submit_response(session_, stream_id, nva.data(), nva.size(),
                                     has_data ? &provider : nullptr);
    if (rv != 0) {
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_INTERNAL_ERROR);
    }
  }

  // ---- I/O ----

  // Feeds received bytes to nghttp2 and dispatches the requests they completed. False when the
  // connection was closed (a protocol error: nghttp2 has queued a GOAWAY, sent best-effort).
  bool Receive(const char* data, size_t size) {
    const ssize_t rv =
        nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(data), size);
    if (rv < 0) {
      log::Debug("HTTP/2 connection closed on a protocol error",
                 {{"remote", remote_}, {"error", nghttp2_strerror(static_cast<int>(rv))}});
      Flush();
      Close();
      return false;
    }
    std::vector<int32_t> ready;
    ready.swap(ready_);
    for (int32_t id : ready) Dispatch(id);
    return true;
  }

  void Read() {
    if (closed_) return;
    socket_.async_read_some(
        asio::buffer(read_buffer_),
        [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
          if (self->closed_) return;
          if (ec) return self->Close();
          self->last_activity_ = Clock::now();
          if (!self->Receive(self->read_buffer_.data(), n)) return;
          self->Flush();
          if (!self->closed_) self->Read();
        });
  }

  void Flush() {
    while (!writing_ && !closed_) {
      write_buffer_.clear();
      while (write_buffer_.size() < kWriteBatchBytes) {
        const uint8_t* data = nullptr;
        const ssize_t n = nghttp2_session_mem_send(session_, &data);
        if (n < 0) return Close();
        if (n == 0) break;
        write_buffer_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
      }
      if (write_buffer_.empty()) {
        if (nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0) {
          Close();
        }
        return;
      }
      if constexpr (std::is_same_v<Socket, tcp::socket>) {
        // Write what the kernel takes now (the socket is non-blocking): responses go out
        // without a trip through the I/O queue, as on the HTTP/1.1 path. (Not through TLS,
        // whose records cannot be written in part.)
        boost::system::error_code ec;
        size_t written = 0;
        while (written < write_buffer_.size()) {
          written += socket_.write_some(
              asio::buffer(write_buffer_.data() + written, write_buffer_.size() - written), ec);
          if (ec) break;
        }
        if (written == write_buffer_.size()) continue;
        if (ec != asio::error::would_block && ec != asio::error::try_again) return Close();
        write_buffer_.erase(0, written);
      }
      writing_ = true;
      write_started_ = Clock::now();
      asio::async_write(socket_, asio::buffer(write_buffer_),
                        [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                          self->writing_ = false;
                          if (self->closed_) return;
                          if (ec) return self->Close();
                          self->Flush();
                        });
    }
  }

  // One timer per connection, every second: closes a connection whose client stopped reading
  // (write_timeout) or that has had no open stream for idle_timeout.
  void ArmTimer() {
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->closed_) return;
      const auto now = Clock::now();
      if (self->writing_ &&
          now - self->write_started_ > absl::ToChronoNanoseconds(self->options_.write_timeout)) {
        return self->Close();
      }
      if (self->streams_.empty() &&
          now - self->last_activity_ > absl::ToChronoNanoseconds(self->options_.idle_timeout)) {
        nghttp2_session_terminate_session(self->session_, NGHTTP2_NO_ERROR);
        self->Flush();
        return self->Close();
      }
      self->ArmTimer();
    });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    timer_.cancel();
    LowestSocket(socket_).shutdown(tcp::socket::shutdown_both, ec);
    LowestSocket(socket_).close(ec);
    if (on_close_) std::exchange(on_close_, nullptr)();
  }

  Socket socket_;
  asio::steady_timer timer_;
  Http2Options options_;
  Http2Dispatch dispatch_;
  std::function<void()> on_close_;
  std::string remote_;
  nghttp2_session* session_ = nullptr;
  // Open streams, at most SETTINGS_MAX_CONCURRENT_STREAMS (nghttp2 refuses more).
  std::unordered_map<int32_t, std::unique_ptr<Stream>> streams_;
  std::vector<int32_t> ready_;  // requests completed by the current Receive
  std::array<char, kReadBufferBytes> read_buffer_{};
  std::string write_buffer_;
  bool writing_ = false;
  bool closed_ = false;
  Clock::time_point last_activity_;
  Clock::time_point write_started_;
};

}  // namespace

std::string_view Http2ClientPreface() { return kPreface; }

void StartHttp2Connection(tcp::socket socket, std::string received,
                          std::optional<Http2Upgrade> upgrade, const Http2Options& options,
                          Http2Dispatch dispatch, std::function<void()> on_close) {
  auto connection = std::make_shared<Connection<tcp::socket>>(
      std::move(socket), options, std::move(dispatch), std::move(on_close));
  connection->Start(std::move(received), std::move(upgrade));
}

void StartHttp2Connection(TlsStream stream, std::string received, const Http2Options& options,
                          Http2Dispatch dispatch, std::function<void()> on_close) {
  auto connection = std::make_shared<Connection<TlsStream>>(
      std::move(stream), options, std::move(dispatch), std::move(on_close));
  connection->Start(std::move(received), std::nullopt);
}

}  // namespace embers::server
