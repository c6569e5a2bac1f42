// HttpClient: the HTTP/1.1 transport of the cloud buckets (S3, Azure Blob), over libcurl's easy
// interface.
//
// Used by S3Bucket and AzureBucket for every request to the store (docs/architecture.md says why
// libcurl). Send() blocks its calling thread: Bucket is a synchronous interface called from worker
// threads, and the number of requests in flight is bounded by max_connections (a caller waits for a
// free handle, within the request's deadline). Each handle is kept in a pool with its connection
// open (keep-alive), so consecutive requests reuse connections and TLS sessions.
//
// Retries: an attempt that fails to connect, times out, loses its connection, or gets 5xx or 429
// is tried again after a jittered exponential backoff ("full jitter": a uniform delay up to
// initial_backoff * 2^n, capped), up to max_attempts and never past the overall deadline. Other
// answers (2xx-4xx) are returned as they are: the caller maps them. Requests are signed once by
// the caller; the deadline (minutes) is well inside the 15 minutes a SigV4 signature is valid.
//
// A request body comes from memory or from a range of an open file, streamed by the read
// callback (PutFile never holds the file in memory); both rewind on a retry.
#ifndef EMBERS_OBJSTORE_HTTP_HTTP_CLIENT_H_
#define EMBERS_OBJSTORE_HTTP_HTTP_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace embers::objstore::http {

struct HttpClientOptions {
  // Requests in flight at most (and pooled connections kept).
  int max_connections = 32;
  absl::Duration connect_timeout = absl::Seconds(10);
  // One attempt, from connecting to the last byte of the answer.
  absl::Duration attempt_timeout = absl::Minutes(2);
  // An attempt moving fewer than 1 KiB/s for this long is abandoned (a stalled connection).
  absl::Duration stall_timeout = absl::Seconds(30);
  // All attempts of one request, backoff included.
  absl::Duration deadline = absl::Minutes(5);
  int max_attempts = 5;
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
  // Check the server's certificate against the system CAs (false: test endpoints only).
  bool verify_tls = true;
  // A PEM CA bundle to check it against instead (a private CA); empty: the system CAs.
  std::string ca_file;
};

// `size` bytes from `offset` of the open file `fd` (owned by the caller).
struct FileBody {
  int fd = -1;
  uint64_t offset = 0;
  uint64_t size = 0;
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;
  // True when HttpRequest::want_body declined the body.
  bool body_skipped = false;

  // The value of the first header named `name` (lower-case).
  std::optional<std::string_view> Header(std::string_view name) const;
};

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, PUT, POST, DELETE
  std::string url;             // scheme://host[:port]/path?query, already percent-encoded
  std::vector<std::pair<std::string, std::string>> headers;
  // The body of a PUT or POST: `body`, or the file range when `file_body` is set.
  std::string_view body;
  std::optional<FileBody> file_body;
  // Called when the headers of the final answer are in: false drops the connection instead of
  // reading the body. For answers whose headers say all there is to know.
  std::function<bool(const HttpResponse&)> want_body;
  // Attempts at most for this request (0: the client's max_attempts).
  int max_attempts = 0;
};

// True for the HTTP statuses worth another attempt: 5xx and 429.
bool IsRetryableStatus(int status);

class HttpClient {
 public:
  static absl::StatusOr<std::unique_ptr<HttpClient>> Create(const HttpClientOptions& options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // The answer of the last attempt (any status). An error only when no usable answer came:
  // Unavailable (connection refused or lost, TLS failure), DeadlineExceeded (timeouts, or no
  // free connection within the deadline), or the error of reading the file body (no retry).
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request);

  const HttpClientOptions& options() const { return options_; }

 private:
  struct Attempt;
  explicit HttpClient(const HttpClientOptions& options) : options_(options) {}

  // A pooled handle, waiting until one is free or `deadline` passes (nullptr then).
  void* Acquire(absl::Time deadline);
  void Release(void* handle);
  absl::Status RunAttempt(void* handle, const HttpRequest& request, absl::Time deadline,
                          HttpResponse* response, bool* retryable);

  const HttpClientOptions options_;
  absl::Mutex mu_;
  std::vector<void*> idle_ ABSL_GUARDED_BY(mu_);  // CURL handles with their connections
  int in_use_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace embers::objstore::http

#endif  // EMBERS_OBJSTORE_HTTP_HTTP_CLIENT_H_
