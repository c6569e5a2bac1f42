#include "segmentwriter/circuit_breaker.h"

#include <algorithm>

namespace embers::segmentwriter {

bool CircuitBreaker::Allow() {
  std::lock_guard<std::mutex> lock(mu_);
  switch (state_) {
    case State::kClosed:
      return true;
    case State::kOpen:
      if (clock_() < open_until_) return false;
      state_ = State::kHalfOpen;
      probe_in_flight_ = true;
      return true;
    case State::kHalfOpen:
      if (probe_in_flight_) return false;
      probe_in_flight_ = true;
      return true;
  }
  return true;
}

void CircuitBreaker::RecordSuccess() {
  std::lock_guard<std::mutex> lock(mu_);
  state_ = State::kClosed;
  failures_ = 0;
  probe_in_flight_ = false;
  current_open_for_ = absl::ZeroDuration();
}

void CircuitBreaker::RecordFailure() {
  std::lock_guard<std::mutex> lock(mu_);
  probe_in_flight_ = false;
  if (state_ == State::kHalfOpen) {
    current_open_for_ = std::min(options_.max_open_for, current_open_for_ * 2);
  } else if (++failures_ >= options_.failure_threshold && state_ == State::kClosed) {
    current_open_for_ = options_.open_for;
  } else {
    return;
  }
  state_ = State::kOpen;
  open_until_ = clock_() + current_open_for_;
}

CircuitBreaker::State CircuitBreaker::state() {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

}  // namespace embers::segmentwriter
