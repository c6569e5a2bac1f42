#include "metastore/placement/shard_allocator.h"

#include <algorithm>
#include <cmath>

namespace embers::metastore {
namespace {

// The multiplier stops doubling here (upstream's bound; it also keeps the arithmetic small).
constexpr double kMaxMultiplier = 16;

uint32_t Clamp(const ShardAllocatorOptions& options, double shards) {
  const uint32_t lo = std::max<uint32_t>(1, options.min_shards);
  const uint32_t hi = std::max(lo, options.max_shards);
  if (!(shards < hi)) return hi;  // also catches NaN and infinities
  return std::max(lo, static_cast<uint32_t>(shards));
}

}  // namespace

uint32_t ShardAllocator::Observe(const ShardAllocatorOptions& options,
                                 double usage_bytes_per_second, int64_t now_ms) {
  const double unit = static_cast<double>(std::max<uint64_t>(1, options.unit_size_bytes));
  // The load's own need, computed in doubles and clamped before any integer conversion so a
  // huge or invalid usage cannot overflow.
  double target = std::max(1.0, std::ceil(std::max(0.0, usage_bytes_per_second) / unit));
  target = std::min(target, static_cast<double>(options.max_shards) * 4 + 1);
  const double delta = target - target_;
  // The first allocation is not a scale-out: it must not shorten the steps of the next ones.
  if (delta > 0 && target_ != 0) {
    if (burst_start_ms_ == kNever ||
        now_ms - burst_start_ms_ >= absl::ToInt64Milliseconds(options.burst_window)) {
      multiplier_ = 1;
    } else {
      // Another scale-out soon after the last one: the load is climbing, so step further ahead
      // of it rather than following it one update at a time.
      multiplier_ = std::min(kMaxMultiplier, multiplier_ * 2);
      target = std::min(2 * target, target + std::ceil(delta * multiplier_));
    }
    burst_start_ms_ = now_ms;
  }
  const uint32_t wanted = Clamp(options, target);
  if (decay_start_ms_ == kNever ||
      now_ms - decay_start_ms_ >= absl::ToInt64Milliseconds(options.decay_window)) {
    previous_max_ = current_max_;
    current_max_ = wanted;
    decay_start_ms_ = now_ms;
  }
  current_max_ = std::max(current_max_, wanted);
  target_ = Clamp(options, std::max(previous_max_, current_max_));
  return target_;
}

void ShardAllocator::Seed(const ShardAllocatorOptions& options, uint32_t shards, int64_t now_ms) {
  target_ = Clamp(options, shards);
  multiplier_ = 1;
  burst_start_ms_ = kNever;
  decay_start_ms_ = now_ms;
  previous_max_ = 0;
  current_max_ = target_;
}

}  // namespace embers::metastore
