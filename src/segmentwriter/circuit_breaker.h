// CircuitBreaker: stops sending to a segment-writer that keeps failing (reference §3: the
// distributor keeps one breaker per writer).
//
// Closed: calls go through; `failure_threshold` consecutive failures open it. Open: Allow() is
// false for `open_for`, so the distributor's fallback goes straight to the next writer instead of
// waiting for timeouts. Then one call is let through (half-open): success closes the breaker,
// failure opens it again for twice as long (up to `max_open_for`). Thread-safe; the clock is
// injectable for tests.
#ifndef EMBERS_SEGMENTWRITER_CIRCUIT_BREAKER_H_
#define EMBERS_SEGMENTWRITER_CIRCUIT_BREAKER_H_

#include <functional>
#include <mutex>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace embers::segmentwriter {

struct CircuitBreakerOptions {
  int failure_threshold = 5;
  absl::Duration open_for = absl::Seconds(1);
  absl::Duration max_open_for = absl::Seconds(30);
};

class CircuitBreaker {
 public:
  enum class State { kClosed, kOpen, kHalfOpen };
  using Clock = std::function<absl::Time()>;

  explicit CircuitBreaker(CircuitBreakerOptions options = {}, Clock clock = nullptr)
      : options_(options), clock_(clock ? std::move(clock) : [] { return absl::Now(); }) {}

  // Whether a call may be sent now. In the half-open state only one caller gets true until it
  // reports its outcome.
  bool Allow();
  void RecordSuccess();
  void RecordFailure();
  State state();

 private:
  CircuitBreakerOptions options_;
  Clock clock_;
  std::mutex mu_;
  State state_ = State::kClosed;
  int failures_ = 0;
  absl::Time open_until_;
  absl::Duration current_open_for_ = absl::ZeroDuration();
  bool probe_in_flight_ = false;
};

}  // namespace embers::segmentwriter

#endif  // EMBERS_SEGMENTWRITER_CIRCUIT_BREAKER_H_
