// ShardAllocator: how many shards one dataset should be spread over, from its observed ingestion
// rate (adaptive placement, reference §3.5; Pyroscope's shard_allocator.go). AdaptivePlacement
// keeps one per dataset and observes it at every rules update.
//
// The count follows the load asymmetrically. It scales out at once — `ceil(usage / unit)` shards,
// and when scale-outs follow one another within `burst_window` the step is multiplied (doubling
// each time up to 16×, never beyond twice the target), so steadily growing load does not climb
// one shard per update. (Unlike upstream, a dataset's first allocation does not count as a
// scale-out.) It scales in late: the count never drops below the largest target seen
// in the previous or the current `decay_window`, so it shrinks only after the load stayed low
// for a whole window, and a load that oscillates around a threshold does not flap. The result
// is clamped to [min_shards, max_shards].
//
// Deterministic: times are the caller's. The options are passed to each call rather than held,
// since there is one allocator per dataset and all share them. Not thread-safe.
#ifndef EMBERS_METASTORE_PLACEMENT_SHARD_ALLOCATOR_H_
#define EMBERS_METASTORE_PLACEMENT_SHARD_ALLOCATOR_H_

#include <cstdint>

#include "absl/time/time.h"

namespace embers::metastore {

struct ShardAllocatorOptions {
  // Bytes per second one shard is meant to take.
  uint64_t unit_size_bytes = 128 << 10;
  uint32_t min_shards = 1;
  uint32_t max_shards = 32;
  absl::Duration burst_window = absl::Minutes(17);
  absl::Duration decay_window = absl::Minutes(19);
};

class ShardAllocator {
 public:
  // The shard count for `usage_bytes_per_second` observed at `now_ms`.
  uint32_t Observe(const ShardAllocatorOptions& options, double usage_bytes_per_second,
                   int64_t now_ms);

  // Starts from `shards` (published by a previous leader) as if it had been observed at `now_ms`:
  // the count can grow at once but cannot shrink before a decay window has passed, so a new
  // leader whose rates are still warming up does not collapse busy datasets onto one shard.
  void Seed(const ShardAllocatorOptions& options, uint32_t shards, int64_t now_ms);

  // The current count (0 before the first Observe or Seed).
  uint32_t shards() const { return target_; }

 private:
  static constexpr int64_t kNever = INT64_MIN;

  uint32_t target_ = 0;
  double multiplier_ = 1;
  int64_t burst_start_ms_ = kNever;  // time of the last scale-out
  int64_t decay_start_ms_ = kNever;  // start of the current decay window
  uint32_t previous_max_ = 0;        // largest target of the previous decay window
  uint32_t current_max_ = 0;         // largest target of the current decay window
};

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_PLACEMENT_SHARD_ALLOCATOR_H_
