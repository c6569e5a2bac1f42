#include "segmentwriter/hedged_upload.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "base/logging.h"
#include "base/metrics.h"
#include "base/strings.h"

namespace embers::segmentwriter {
namespace {

metrics::CounterFamily& Attempts() {
  static auto& c = metrics::Registry::Global().Counter(
      "embers_segment_writer_upload_attempts_total",
      "Segment upload attempts, by kind (first, hedge, retry) and outcome.", {"kind", "outcome"});
  return c;
}

}  // namespace

// What the attempts of one round report to the waiting flush worker. Shared with the attempts,
// which may run after the round.
struct Uploader::Round {
  std::mutex mu;
  std::condition_variable cv;
  int running = 0;  // attempts started and not finished (queued ones included)
  bool succeeded = false;
  bool over = false;  // Upload() returned: attempts not yet started are dropped
  absl::Status last_error;
};

Uploader::Uploader(objstore::Bucket* bucket, int threads, size_t max_pending)
    : bucket_(bucket),
      max_pending_(max_pending),
      pool_(std::make_unique<WorkerPool>(
          WorkerPoolOptions{.threads = std::max(1, threads), .name = "segment-upload"})) {}

Uploader::~Uploader() { pool_.reset(); }

void Uploader::StartAttempt(const std::string& key, std::shared_ptr<const std::string> bytes,
                            std::shared_ptr<Round> round, const char* kind) {
  {
    std::lock_guard<std::mutex> lock(round->mu);
    ++round->running;
  }
  auto finish = [round, kind](absl::Status st) {
    Attempts().WithLabels({kind, st.ok() ? "ok" : "error"}).Inc();
    std::lock_guard<std::mutex> lock(round->mu);
    --round->running;
    if (st.ok()) {
      round->succeeded = true;
    } else {
      round->last_error = std::move(st);
    }
    round->cv.notify_all();
  };
  if (pending_->fetch_add(1) >= max_pending_) {
    pending_->fetch_sub(1);
    return finish(absl::UnavailableError(
        StrCat("uploading ", key, ": ", max_pending_,
               " upload attempts are already queued or running (the bucket is slow)")));
  }
  pool_->Submit([bucket = bucket_, pending = pending_, key, bytes = std::move(bytes), round,
                 finish = std::move(finish)] {
    {
      std::lock_guard<std::mutex> lock(round->mu);
      if (round->over || round->succeeded) {  // dropped: nobody waits for it any more
        --round->running;
        pending->fetch_sub(1);
        return;
      }
    }
    absl::Status st = bucket->Put(key, *bytes);
    pending->fetch_sub(1);
    finish(std::move(st));
  });
}

absl::Status Uploader::Upload(const std::string& key, std::shared_ptr<const std::string> bytes,
                              const UploadPolicy& policy) {
  absl::Duration backoff = policy.retry_min_period;
  absl::Status last = absl::UnknownError("no upload attempt ran");
  for (int attempt = 0; attempt <= policy.max_retries; ++attempt) {
    auto round = std::make_shared<Round>();
    StartAttempt(key, bytes, round, attempt == 0 ? "first" : "retry");
    const absl::Time start = absl::Now();
    const absl::Time deadline = start + policy.timeout;
    bool hedged = policy.hedge_after <= absl::ZeroDuration();
    std::unique_lock<std::mutex> lock(round->mu);
    while (!round->succeeded && round->running > 0) {
      absl::Time wake = hedged ? deadline : std::min(deadline, start + policy.hedge_after);
      round->cv.wait_until(lock, absl::ToChronoTime(wake));
      if (round->succeeded || round->running == 0) break;
      if (absl::Now() >= deadline) break;
      if (!hedged && absl::Now() >= start + policy.hedge_after) {
        hedged = true;
        lock.unlock();
        log::Warn("segment upload is slow; starting a hedged attempt", {{"key", key}});
        StartAttempt(key, bytes, round, "hedge");
        lock.lock();
      }
    }
    round->over = true;
    if (round->succeeded) return absl::OkStatus();
    last = round->running > 0
               ? absl::DeadlineExceededError(StrCat("uploading ", key, " took longer than ",
                                                    absl::FormatDuration(policy.timeout)))
               : round->last_error;
    lock.unlock();
    if (attempt == policy.max_retries) break;
    log::Warn("segment upload failed, retrying", {{"key", key}, {"error", last}});
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, policy.retry_max_period);
  }
  return last;
}

}  // namespace embers::segmentwriter
