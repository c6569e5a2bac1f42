// Uploading a segment object: a deadline, retries with backoff, and a hedged second attempt.
//
// Object stores have long-tail latencies: one PUT in a few hundred can take seconds while a
// second identical PUT finishes in milliseconds. Since a push is acknowledged only after its
// segment is uploaded, the segment-writer (Pyroscope's defaults: 2 s timeout, 3 retries with
// 50–500 ms backoff, hedge after 500 ms) starts a second attempt when the first is slow and takes
// whichever succeeds first. Puts are idempotent (same key, same bytes), so a late attempt that
// completes after the winner is harmless. Attempts run on a bounded pool of threads (the Bucket
// API is synchronous) owned by the Uploader, which its owner (SegmentWriter) destroys before the
// bucket: destruction waits for attempts still running, so none outlives the bucket. The bytes
// are shared so an abandoned attempt can still finish safely; an attempt whose upload has already
// ended when a thread picks it up is dropped without a Put.
#ifndef EMBERS_SEGMENTWRITER_HEDGED_UPLOAD_H_
#define EMBERS_SEGMENTWRITER_HEDGED_UPLOAD_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/worker_pool.h"
#include "objstore/bucket.h"

namespace embers::segmentwriter {

struct UploadPolicy {
  absl::Duration timeout = absl::Seconds(2);  // per attempt round, including its hedge
  int max_retries = 3;
  absl::Duration retry_min_period = absl::Milliseconds(50);
  absl::Duration retry_max_period = absl::Milliseconds(500);
  absl::Duration hedge_after = absl::Milliseconds(500);  // zero disables hedging
};

class Uploader {
 public:
  // At most `threads` Puts run at once and `max_pending` attempts are queued or running; an
  // attempt beyond that fails at once (Unavailable), so a bucket that hangs costs bounded
  // threads and memory, and the pushes waiting on it get errors rather than pile up.
  Uploader(objstore::Bucket* bucket, int threads, size_t max_pending);
  // Waits for the attempts still running.
  ~Uploader();
  Uploader(const Uploader&) = delete;
  Uploader& operator=(const Uploader&) = delete;

  // OK once one attempt stored the object. Otherwise the last error (DeadlineExceeded when every
  // round timed out). Blocks the calling thread (a flush worker).
  absl::Status Upload(const std::string& key, std::shared_ptr<const std::string> bytes,
                      const UploadPolicy& policy);

  // Attempts queued or running (for tests and metrics).
  size_t pending() const { return pending_->load(); }

 private:
  struct Round;
  void StartAttempt(const std::string& key, std::shared_ptr<const std::string> bytes,
                    std::shared_ptr<Round> round, const char* kind);

  objstore::Bucket* const bucket_;
  const size_t max_pending_;
  std::shared_ptr<std::atomic<size_t>> pending_ = std::make_shared<std::atomic<size_t>>(0);
  std::unique_ptr<WorkerPool> pool_;  // last: destroyed (joined) first
};

}  // namespace embers::segmentwriter

#endif  // EMBERS_SEGMENTWRITER_HEDGED_UPLOAD_H_
