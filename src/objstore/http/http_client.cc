#include "objstore/http/http_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <random>

#include "base/strings.h"

namespace embers::objstore::http {
namespace {

// Error answers are small XML documents; a misbehaving endpoint must not make us buffer more.
constexpr size_t kMaxErrorBodyBytes = 1 << 20;

// curl_global_init is not thread-safe: the first client initialises libcurl for the process.
absl::Status InitCurlOnce() {
  static CURLcode rc = [] { return curl_global_init(CURL_GLOBAL_DEFAULT); }();
  if (rc != CURLE_OK) {
    return absl::InternalError(StrCat("curl_global_init failed: ", curl_easy_strerror(rc)));
  }
  return absl::OkStatus();
}

// Transport failures another attempt may cure: the network, the server going away, timeouts.
bool IsRetryableCurlCode(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

absl::StatusCode CodeForCurlCode(CURLcode rc) {
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      return absl::StatusCode::kDeadlineExceeded;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return absl::StatusCode::kInvalidArgument;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
      return absl::StatusCode::kFailedPrecondition;
    default:
      return absl::StatusCode::kUnavailable;
  }
}

long Millis(absl::Duration d) {
  return static_cast<long>(std::max<int64_t>(1, absl::ToInt64Milliseconds(d)));
}

}  // namespace

// The state one attempt's callbacks share.
struct HttpClient::Attempt {
  const HttpRequest* request = nullptr;
  HttpResponse* response = nullptr;
  uint64_t body_pos = 0;      // next byte of the request body to send
  absl::Status body_error;    // reading the file failed: no retry
  bool skipped_body = false;  // want_body said no, so the transfer was cut on purpose

  uint64_t BodySize() const {
    return request->file_body ? request->file_body->size : request->body.size();
  }

  static size_t Read(char* buffer, size_t size, size_t count, void* self) {
    auto* a = static_cast<Attempt*>(self);
    const uint64_t left = a->BodySize() - a->body_pos;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(left, size * count));
    if (n == 0) return 0;
    if (!a->request->file_body) {
      memcpy(buffer, a->request->body.data() + a->body_pos, n);
      a->body_pos += n;
      return n;
    }
    const FileBody& file = *a->request->file_body;
    for (;;) {
      const ssize_t got = pread(file.fd, buffer, n, static_cast<off_t>(file.offset + a->body_pos));
      if (got > 0) {
        a->body_pos += static_cast<uint64_t>(got);
        return static_cast<size_t>(got);
      }
      if (got < 0 && errno == EINTR) continue;
      a->body_error =
          got == 0 ? absl::FailedPreconditionError("the file shrank while it was being uploaded")
                   : absl::InternalError(StrCat("reading the file to upload: ", strerror(errno)));
      return CURL_READFUNC_ABORT;
    }
  }

  // libcurl rewinds the body when it resends on a fresh connection.
  static int Seek(void* self, curl_off_t offset, int origin) {
    auto* a = static_cast<Attempt*>(self);
    if (origin != SEEK_SET || offset < 0 || static_cast<uint64_t>(offset) > a->BodySize()) {
      return CURL_SEEKFUNC_CANTSEEK;
    }
    a->body_pos = static_cast<uint64_t>(offset);
    return CURL_SEEKFUNC_OK;
  }

  static size_t Header(char* data, size_t size, size_t count, void* self) {
    auto* a = static_cast<Attempt*>(self);
    const size_t n = size * count;
    std::string_view line(data, n);
    if (line.substr(0, 5) == "HTTP/") {
      // A new answer (after a 100 Continue, say): its status line starts it afresh.
      a->response->headers.clear();
      const std::vector<std::string_view> parts = Split(line, ' ', true);
      int status = 0;
      if (parts.size() >= 2 && ParseInt(StripWhitespace(parts[1]), &status)) {
        a->response->status = status;
      }
      return n;
    }
    if (StripWhitespace(line).empty()) {  // the end of the headers
      if (a->response->status >= 200 && a->request->want_body &&
          !a->request->want_body(*a->response)) {
        a->skipped_body = true;
        return 0;  // aborts the transfer
      }
      return n;
    }
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      a->response->headers.emplace_back(AsciiLower(StripWhitespace(line.substr(0, colon))),
                                        std::string(StripWhitespace(line.substr(colon + 1))));
    }
    return n;
  }

  static size_t Write(char* data, size_t size, size_t count, void* self) {
    auto* a = static_cast<Attempt*>(self);
    const size_t n = size * count;
    if (a->response->status >= 300 && a->response->body.size() + n > kMaxErrorBodyBytes) {
      return n;  // keep the beginning of an oversized error page only
    }
    a->response->body.append(data, n);
    return n;
  }
};

bool IsRetryableStatus(int status) { return status >= 500 || status == 429; }

std::optional<std::string_view> HttpResponse::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return std::string_view(v);
  }
  return std::nullopt;
}

absl::StatusOr<std::unique_ptr<HttpClient>> HttpClient::Create(const HttpClientOptions& options) {
  if (options.max_connections < 1 || options.max_attempts < 1) {
    return absl::InvalidArgumentError("HTTP client: max_connections and max_attempts must be >= 1");
  }
  if (absl::Status s = InitCurlOnce(); !s.ok()) return s;
  return std::unique_ptr<HttpClient>(new HttpClient(options));
}

HttpClient::~HttpClient() {
  absl::MutexLock lock(&mu_);
  for (void* h : idle_) curl_easy_cleanup(h);
}

void* HttpClient::Acquire(absl::Time deadline) {
  mu_.LockWhenWithDeadline(absl::Condition(
                               +[](HttpClient* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu_) {
                                 return c->in_use_ < c->options_.max_connections;
                               },
                               this),
                           deadline);
  if (in_use_ >= options_.max_connections) {
    mu_.Unlock();
    return nullptr;
  }
  ++in_use_;
  void* handle = nullptr;
  if (!idle_.empty()) {
    handle = idle_.back();
    idle_.pop_back();
  }
  mu_.Unlock();
  if (handle == nullptr) handle = curl_easy_init();
  if (handle == nullptr) Release(nullptr);
  return handle;
}

void HttpClient::Release(void* handle) {
  absl::MutexLock lock(&mu_);
  --in_use_;
  if (handle != nullptr) idle_.push_back(handle);
}

absl::Status HttpClient::RunAttempt(void* handle, const HttpRequest& request, absl::Time deadline,
                                    HttpResponse* response, bool* retryable) {
  *retryable = false;
  *response = HttpResponse();
  CURL* h = handle;
  // A reset keeps the handle's open connections, DNS cache and TLS sessions.
  curl_easy_reset(h);
  Attempt attempt{.request = &request, .response = response};
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // many threads; timeouts must not use signals
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);  // an S3 redirect means a wrong region
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, Millis(options_.connect_timeout));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                   Millis(std::min(options_.attempt_timeout, deadline - absl::Now())));
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
                   std::max(1L, static_cast<long>(absl::ToInt64Seconds(options_.stall_timeout))));
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
  if (!options_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &Attempt::Header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &attempt);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Attempt::Write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &attempt);

  if (request.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    // Every other method goes out as an upload (possibly of 0 bytes), so that the body is
    // always streamed by the read callback and Content-Length is always set.
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(attempt.BodySize()));
    curl_easy_setopt(h, CURLOPT_READFUNCTION, &Attempt::Read);
    curl_easy_setopt(h, CURLOPT_READDATA, &attempt);
    curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, &Attempt::Seek);
    curl_easy_setopt(h, CURLOPT_SEEKDATA, &attempt);
    if (request.method != "PUT") {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
  }
  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    headers = curl_slist_append(headers, StrCat(name, ": ", value).c_str());
  }
  // No "Expect: 100-continue" round trip before a body; curl adds it above 1 MiB otherwise.
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);

  const CURLcode rc = curl_easy_perform(h);
  curl_slist_free_all(headers);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);

  if (!attempt.body_error.ok()) return attempt.body_error;
  if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && attempt.skipped_body)) {
    response->body_skipped = attempt.skipped_body;
    *retryable = IsRetryableStatus(response->status);
    return absl::OkStatus();
  }
  *retryable = IsRetryableCurlCode(rc);
  return absl::Status(CodeForCurlCode(rc),
                      StrCat(request.method, " ", request.url, ": ",
                             error[0] != '\0' ? std::string(error) : curl_easy_strerror(rc)));
}

absl::StatusOr<HttpResponse> HttpClient::Send(const HttpRequest& request) {
  const absl::Time deadline = absl::Now() + options_.deadline;
  const int max_attempts = request.max_attempts > 0 ? request.max_attempts : options_.max_attempts;
  thread_local std::minstd_rand rng{std::random_device{}()};
  absl::Duration backoff_cap = options_.initial_backoff;
  HttpResponse response;
  absl::Status last;
  for (int attempt = 1;; ++attempt) {
    void* handle = Acquire(deadline);
    if (handle == nullptr) {
      return absl::DeadlineExceededError(
          StrCat(request.method, " ", request.url, ": no free connection (all ",
                 options_.max_connections, " busy) within the deadline"));
    }
    bool retryable = false;
    last = RunAttempt(handle, request, deadline, &response, &retryable);
    Release(handle);
    if (!retryable) break;
    // Full jitter: a uniform delay up to the doubling cap, so that clients that failed together
    // do not retry together.
    const absl::Duration delay = absl::Nanoseconds(
        std::uniform_int_distribution<int64_t>(0, absl::ToInt64Nanoseconds(backoff_cap))(rng));
    backoff_cap = std::min(backoff_cap * 2, options_.max_backoff);
    if (attempt >= max_attempts || absl::Now() + delay >= deadline) {
      if (!last.ok()) {
        last = absl::Status(last.code(), StrCat(last.message(), " (after ", attempt, " attempt",
                                                attempt == 1 ? "" : "s", ")"));
      }
      break;
    }
    absl::SleepFor(delay);
  }
  if (!last.ok()) return last;
  return response;
}

}  // namespace embers::objstore::http
