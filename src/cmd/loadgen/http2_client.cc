#include "cmd/loadgen/http2_client.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "base/strings.h"

namespace embers::loadgen {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// Bytes gathered from nghttp2 before one socket write: the requests of many streams go out in one
// write when they are submitted together (as the server batches its responses).
constexpr size_t kWriteBatchBytes = 256 * 1024;
// How often deadlines are checked: a tenth of a second is plenty against a 30 s timeout and costs
// nothing with tens of connections.
constexpr auto kTick = std::chrono::milliseconds(100);

nghttp2_nv MakeNv(std::string_view name, std::string_view value) {
  // nghttp2 copies names and values on submit (no NO_COPY flags), so views into temporaries are
  // fine for the duration of the call.
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP2_NV_FLAG_NONE};
}

std::string Seconds(absl::Duration d) { return absl::FormatDuration(d); }

}  // namespace

struct Http2Client::Callbacks {
  static Http2Client* Self(void* user_data) { return static_cast<Http2Client*>(user_data); }

  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t name_len, const uint8_t* value, size_t value_len, uint8_t,
                      void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    Stream* stream = Self(user_data)->Find(frame->hd.stream_id);
    if (stream == nullptr) return 0;
    // Only :status matters; a 1xx is followed by the final status, which overwrites it. Trailers
    // carry no :status.
    if (std::string_view(reinterpret_cast<const char*>(name), name_len) == ":status") {
      int64_t status = 0;
      if (ParseInt64(std::string_view(reinterpret_cast<const char*>(value), value_len), &status)) {
        stream->response.status = static_cast<int>(status);
      }
    }
    return 0;
  }

  static int OnDataChunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                         size_t len, void* user_data) {
    Http2Client* self = Self(user_data);
    Stream* stream = self->Find(stream_id);
    if (stream == nullptr) return 0;
    std::string& body = stream->response.body;
    const size_t room = self->options_.max_response_body_bytes - body.size();
    body.append(reinterpret_cast<const char*>(data), std::min(len, room));
    return 0;
  }

  static int OnFrame(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    Http2Client* self = Self(user_data);
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      // nghttp2 closes our streams above last_stream_id (REFUSED_STREAM) and refuses new ones;
      // the streams below it may still be answered.
      self->goaway_received_ = true;
      self->goaway_error_ = frame->goaway.error_code;
      if (self->state_ == State::kOpen) self->state_ = State::kDraining;
      return 0;
    }
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
      Stream* stream = self->Find(frame->hd.stream_id);
      if (stream != nullptr && stream->response.status >= 200) stream->complete = true;
    }
    return 0;
  }

  // A request whose HEADERS could not be sent (e.g. queued when a GOAWAY arrived) never opens a
  // stream, so it gets no close callback: it ends here.
  static int OnFrameNotSent(nghttp2_session*, const nghttp2_frame* frame, int lib_error,
                            void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    Http2Client* self = Self(user_data);
    auto it = self->streams_.find(frame->hd.stream_id);
    if (it == self->streams_.end()) return 0;
    Stream stream = std::move(it->second);
    self->streams_.erase(it);
    // A queued request cancelled by the timeout ends here too.
    self->Finish(std::move(stream.done),
                 stream.timed_out ? self->TimeoutError()
                                  : absl::UnavailableError(
                                        StrCat("request not sent: ", nghttp2_strerror(lib_error),
                                               self->goaway_received_ ? " (after GOAWAY)" : "")));
    return 0;
  }

  static int OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                           void* user_data) {
    Http2Client* self = Self(user_data);
    auto it = self->streams_.find(stream_id);
    if (it == self->streams_.end()) return 0;
    Stream stream = std::move(it->second);
    self->streams_.erase(it);
    absl::StatusOr<Http2Response> result;
    if (stream.complete) {
      // Complete even if the server then reset the stream (RST_STREAM NO_ERROR after an early
      // answer, as for a 413 before the body was read).
      result = std::move(stream.response);
    } else if (stream.timed_out) {
      result = self->TimeoutError();
    } else if (self->goaway_received_ && error_code == NGHTTP2_REFUSED_STREAM) {
      result = absl::UnavailableError(
          StrCat("stream refused by GOAWAY (", nghttp2_http2_strerror(self->goaway_error_), ")"));
    } else if (error_code != NGHTTP2_NO_ERROR) {
      result = absl::UnavailableError(
          StrCat("stream reset (RST_STREAM ", nghttp2_http2_strerror(error_code), ")"));
    } else {
      result = absl::UnavailableError("stream ended without a complete response");
    }
    self->Finish(std::move(stream.done), std::move(result));
    return 0;
  }

  static ssize_t ReadBody(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length,
                          uint32_t* data_flags, nghttp2_data_source*, void* user_data) {
    Stream* stream = Self(user_data)->Find(stream_id);
    if (stream == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    const std::string& body = stream->request.body;
    const size_t n = std::min(length, body.size() - stream->offset);
    std::memcpy(buf, body.data() + stream->offset, n);
    stream->offset += n;
    if (stream->offset == body.size()) {
      *data_flags |= NGHTTP2_DATA_FLAG_EOF;
      std::string().swap(stream->request.body);  // the push may be large; the stream lives on
      stream->offset = 0;
    }
    return static_cast<ssize_t>(n);
  }
};

std::shared_ptr<Http2Client> Http2Client::Create(asio::any_io_executor executor,
                                                 Http2ClientOptions options) {
  return std::shared_ptr<Http2Client>(new Http2Client(std::move(executor), std::move(options)));
}

Http2Client::Http2Client(asio::any_io_executor executor, Http2ClientOptions options)
    : executor_(std::move(executor)),
      options_(std::move(options)),
      socket_(executor_),
      timer_(executor_) {}

Http2Client::~Http2Client() {
  if (session_ != nullptr) nghttp2_session_del(session_);
}

uint32_t Http2Client::peer_max_concurrent_streams() const {
  if (session_ == nullptr) return 0;
  return nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
}

Http2Client::Stream* Http2Client::Find(int32_t stream_id) {
  auto it = streams_.find(stream_id);
  return it == streams_.end() ? nullptr : &it->second;
}

void Http2Client::Finish(Done done, absl::StatusOr<Http2Response> result) {
  // Posted: the caller may be inside an nghttp2 callback, where the continuation must not submit.
  asio::post(executor_, [done = std::move(done), result = std::move(result)]() mutable {
    done(std::move(result));
  });
}

absl::Status Http2Client::TimeoutError() const {
  return absl::DeadlineExceededError(
      StrCat("no response within ", Seconds(options_.timeout), " (stream cancelled)"));
}

void Http2Client::Connect(const Endpoints& endpoints, ConnectDone done) {
  switch (state_) {
    case State::kIdle:
      break;
    case State::kConnecting:
      connect_waiters_.push_back(std::move(done));
      return;
    case State::kOpen:
      asio::post(executor_, [done = std::move(done)] { done(absl::OkStatus()); });
      return;
    case State::kDraining:
    case State::kClosed:
      asio::post(executor_, [done = std::move(done)] {
        done(absl::FailedPreconditionError("connection draining or closed"));
      });
      return;
  }
  state_ = State::kConnecting;
  connect_waiters_.push_back(std::move(done));
  connect_started_ = Clock::now();
  ArmTimer();
  asio::async_connect(socket_, endpoints,
                      [self = shared_from_this()](const boost::system::error_code& ec,
                                                  const tcp::endpoint&) { self->OnConnected(ec); });
}

void Http2Client::OnConnected(const boost::system::error_code& ec) {
  if (state_ != State::kConnecting) return;  // closed meanwhile (its waiters were told)
  if (ec) {
    // The timer closes the socket of a connect that takes too long; say so rather than "aborted".
    const bool timed_out =
        Clock::now() - connect_started_ >= absl::ToChronoNanoseconds(options_.timeout);
    Fail(timed_out ? absl::DeadlineExceededError(
                         StrCat("connect: no connection within ", Seconds(options_.timeout)))
                   : absl::UnavailableError(StrCat("connect: ", ec.message())));
    return;
  }
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  // Writes are tried at once (see Flush), so the socket must not block.
  socket_.non_blocking(true, ignored);
  if (absl::Status st = InitSession(); !st.ok()) return Fail(st);
  state_ = State::kOpen;
  last_read_ = Clock::now();
  std::vector<ConnectDone> waiters;
  waiters.swap(connect_waiters_);
  for (ConnectDone& done : waiters) {
    asio::post(executor_, [done = std::move(done)] { done(absl::OkStatus()); });
  }
  Flush();  // the client preface and our SETTINGS
  Read();
}

absl::Status Http2Client::InitSession() {
  nghttp2_session_callbacks* callbacks = nullptr;
  if (nghttp2_session_callbacks_new(&callbacks) != 0) {
    return absl::ResourceExhaustedError("nghttp2_session_callbacks_new");
  }
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &Callbacks::OnHeader);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &Callbacks::OnDataChunk);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &Callbacks::OnFrame);
  nghttp2_session_callbacks_set_on_frame_not_send_callback(callbacks, &Callbacks::OnFrameNotSent);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &Callbacks::OnStreamClose);
  // The client connection preface (the 24-byte magic) is sent by nghttp2 itself, first.
  const int rv = nghttp2_session_client_new(&session_, callbacks, this);
  nghttp2_session_callbacks_del(callbacks);
  if (rv != 0) {
    return absl::InternalError(StrCat("nghttp2_session_client_new: ", nghttp2_strerror(rv)));
  }
  // The server pushes nothing; responses are small, so the default 64 KiB windows suffice.
  const nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
  if (const int r = nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, 1); r != 0) {
    return absl::InternalError(StrCat("nghttp2_submit_settings: ", nghttp2_strerror(r)));
  }
  return absl::OkStatus();
}

void Http2Client::Submit(Http2Request request, Done done) {
  if (state_ != State::kOpen) {
    Finish(std::move(done),
           absl::UnavailableError(state_ == State::kDraining ? "connection draining after GOAWAY"
                                                             : "connection not open"));
    return;
  }
  const std::string length = std::to_string(request.body.size());
  std::vector<std::string> names;  // lower-cased, alive until nghttp2 has copied them
  names.reserve(request.headers.size());
  for (const auto& header : request.headers) names.push_back(AsciiLower(header.first));
  std::vector<nghttp2_nv> nva;
  nva.reserve(5 + request.headers.size());
  nva.push_back(MakeNv(":method", request.method));
  nva.push_back(MakeNv(":scheme", "http"));
  nva.push_back(MakeNv(":authority", options_.authority));
  nva.push_back(MakeNv(":path", request.path));
  for (size_t i = 0; i < names.size(); ++i)
    nva.push_back(MakeNv(names[i], request.headers[i].second));
  const bool has_body = !request.body.empty();
  if (has_body) nva.push_back(MakeNv("content-length", length));
  nghttp2_data_provider provider{};
  provider.read_callback = &Callbacks::ReadBody;
  const int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(),
                                            has_body ? &provider : nullptr, nullptr);
  if (id < 0) {
    // Out of stream IDs (2^30 requests) is the only likely one: let the owner reconnect.
    if (id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE) state_ = State::kDraining;
    Finish(std::move(done),
           absl::UnavailableError(StrCat("nghttp2_submit_request: ", nghttp2_strerror(id))));
    return;
  }
  Stream& stream = streams_[id];
  stream.request = std::move(request);
  stream.done = std::move(done);
  stream.deadline = Clock::now() + absl::ToChronoNanoseconds(options_.timeout);
  ScheduleFlush();
}

void Http2Client::Close() {
  if (state_ == State::kClosed) return;
  if (session_ != nullptr && socket_.is_open() && !writing_) {
    // A polite GOAWAY, written only if the socket takes it now: this is the end of the run.
    nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR);
    const uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session_, &data);
    boost::system::error_code ignored;
    if (n > 0) socket_.write_some(asio::buffer(data, static_cast<size_t>(n)), ignored);
  }
  Fail(absl::CancelledError("connection closed by the load generator"));
}

void Http2Client::Fail(const absl::Status& reason) {
  state_ = State::kClosed;
  boost::system::error_code ignored;
  timer_.cancel();
  socket_.close(ignored);
  std::vector<ConnectDone> waiters;
  waiters.swap(connect_waiters_);
  for (ConnectDone& done : waiters) {
    asio::post(executor_, [done = std::move(done), reason] { done(reason); });
  }
  std::unordered_map<int32_t, Stream> streams;
  streams.swap(streams_);
  for (auto& [id, stream] : streams) Finish(std::move(stream.done), reason);
}

void Http2Client::Read() {
  socket_.async_read_some(
      asio::buffer(read_buffer_),
      [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
        if (self->state_ == State::kClosed) return;
        if (ec) {
          return self->Fail(absl::UnavailableError(
              ec == asio::error::eof ? std::string("connection closed by the server")
                                     : StrCat("connection lost: ", ec.message())));
        }
        self->last_read_ = Clock::now();
        const ssize_t rv = nghttp2_session_mem_recv(
            self->session_, reinterpret_cast<const uint8_t*>(self->read_buffer_.data()), n);
        if (rv < 0) {
          // nghttp2 has queued a GOAWAY saying why; send it before closing.
          self->Flush();
          return self->Fail(absl::UnavailableError(
              StrCat("HTTP/2 protocol error: ", nghttp2_strerror(static_cast<int>(rv)))));
        }
        self->Flush();  // WINDOW_UPDATEs, SETTINGS and PING acknowledgements
        if (self->state_ != State::kClosed) self->Read();
      });
}

void Http2Client::ScheduleFlush() {
  // Deferred to the end of this turn of the strand, so that the requests submitted by the
  // completions already queued share one write.
  if (flush_posted_) return;
  flush_posted_ = true;
  asio::post(executor_, [self = shared_from_this()] {
    self->flush_posted_ = false;
    self->Flush();
  });
}

void Http2Client::Flush() {
  while (!writing_ && (state_ == State::kOpen || state_ == State::kDraining)) {
    write_buffer_.clear();
    while (write_buffer_.size() < kWriteBatchBytes) {
      const uint8_t* data = nullptr;
      const ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) {
        return Fail(absl::InternalError(
            StrCat("nghttp2_session_mem_send: ", nghttp2_strerror(static_cast<int>(n)))));
      }
      if (n == 0) break;
      write_buffer_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
    if (write_buffer_.empty()) {
      // After a GOAWAY, once the last accepted stream has ended there is nothing left to do.
      if (state_ == State::kDraining && streams_.empty()) {
        Fail(absl::UnavailableError("connection closed after GOAWAY"));
      }
      return;
    }
    // Write what the kernel takes now, as the server does; only the rest waits for the socket.
    boost::system::error_code ec;
    size_t written = 0;
    while (written < write_buffer_.size() && !ec) {
      written += socket_.write_some(
          asio::buffer(write_buffer_.data() + written, write_buffer_.size() - written), ec);
    }
    if (written == write_buffer_.size()) continue;
    if (ec != asio::error::would_block && ec != asio::error::try_again) {
      return Fail(absl::UnavailableError(StrCat("connection lost: ", ec.message())));
    }
    writing_ = true;
    write_buffer_.erase(0, written);
    asio::async_write(
        socket_, asio::buffer(write_buffer_),
        [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
          self->writing_ = false;
          if (self->state_ == State::kClosed) return;
          if (ec) {
            return self->Fail(absl::UnavailableError(StrCat("connection lost: ", ec.message())));
          }
          self->Flush();
        });
  }
}

void Http2Client::ArmTimer() {
  timer_.expires_after(kTick);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->state_ == State::kClosed) return;
    self->OnTick();
    if (self->state_ != State::kClosed) self->ArmTimer();
  });
}

void Http2Client::OnTick() {
  const Clock::time_point now = Clock::now();
  const auto timeout = absl::ToChronoNanoseconds(options_.timeout);
  if (state_ == State::kConnecting) {
    // Closing the socket aborts the connect; OnConnected reports the timeout.
    if (now - connect_started_ >= timeout) {
      boost::system::error_code ignored;
      socket_.close(ignored);
    }
    return;
  }
  if (streams_.empty()) return;
  if (now - last_read_ >= timeout) {
    // Not one byte for a whole timeout, not even the answer to a PING, with requests outstanding:
    // the connection is dead (or the server hung), not just one slow stream.
    return Fail(absl::DeadlineExceededError(
        StrCat("nothing received on the connection for ", Seconds(options_.timeout))));
  }
  bool submitted = false;
  // A quiet connection may just be waiting for slow answers: a PING tells it from a dead one.
  if (now - last_read_ >= timeout / 2 && now - last_ping_ >= timeout / 2) {
    submitted |= nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, nullptr) == 0;
    last_ping_ = now;
  }
  for (auto& [id, stream] : streams_) {
    if (stream.timed_out || now < stream.deadline) continue;
    stream.timed_out = true;
    submitted |= nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL) == 0;
  }
  if (submitted) Flush();
}

}  // namespace embers::loadgen
