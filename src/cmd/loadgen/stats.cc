#include "cmd/loadgen/stats.h"

#include <bit>

namespace embers::loadgen {

namespace {

// Lower bound and width of a bucket, in µs.
void BucketRange(int index, uint64_t* low, uint64_t* width) {
  using H = LatencyHistogram;
  if (index < H::kSub) {
    *low = static_cast<uint64_t>(index);
    *width = 1;
    return;
  }
  const int shift = (index - H::kSub) / H::kSub;  // exponent - kSubBits
  const uint64_t sub = static_cast<uint64_t>((index - H::kSub) % H::kSub);
  *low = (static_cast<uint64_t>(H::kSub) + sub) << shift;
  *width = uint64_t{1} << shift;
}

}  // namespace

int LatencyHistogram::BucketOf(uint64_t micros) {
  if (micros < kSub) return static_cast<int>(micros);
  const int exponent = std::bit_width(micros) - 1;  // >= kSubBits
  const int shift = exponent - kSubBits;
  const int index = kSub + shift * kSub + static_cast<int>((micros >> shift) & (kSub - 1));
  return index < kBuckets ? index : kBuckets - 1;
}

void LatencyHistogram::Record(uint64_t micros) {
  counts_[BucketOf(micros)].fetch_add(1, std::memory_order_relaxed);
  uint64_t seen = max_us_.load(std::memory_order_relaxed);
  while (micros > seen && !max_us_.compare_exchange_weak(seen, micros, std::memory_order_relaxed)) {
  }
}

LatencyHistogram::Snapshot LatencyHistogram::Take() const {
  Snapshot s;
  for (int i = 0; i < kBuckets; ++i) {
    s.counts[i] = counts_[i].load(std::memory_order_relaxed);
    s.total += s.counts[i];
  }
  s.max_us = max_us_.load(std::memory_order_relaxed);
  return s;
}

LatencyHistogram::Snapshot LatencyHistogram::Snapshot::Minus(const Snapshot& earlier) const {
  Snapshot d;
  for (int i = 0; i < kBuckets; ++i) {
    d.counts[i] = counts[i] - earlier.counts[i];
    d.total += d.counts[i];
  }
  d.max_us = max_us;
  return d;
}

double LatencyHistogram::Snapshot::QuantileMs(double q) const {
  if (total == 0) return 0;
  // The rank of the q-quantile, 1-based: the smallest value with at least q·total at or below it.
  uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(total) + 0.5);
  rank = rank < 1 ? 1 : rank > total ? total : rank;
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts[i];
    if (seen >= rank) {
      uint64_t low = 0, width = 0;
      BucketRange(i, &low, &width);
      const double mid_us = static_cast<double>(low) + static_cast<double>(width) / 2;
      const double max = static_cast<double>(max_us);
      return (max > 0 && mid_us > max ? max : mid_us) / 1000.0;
    }
  }
  return static_cast<double>(max_us) / 1000.0;
}

void Stats::Acked(uint64_t profiles, uint64_t pprof_bytes, uint64_t wire_bytes, uint64_t micros) {
  requests_ok_.fetch_add(1, std::memory_order_relaxed);
  profiles_ok_.fetch_add(profiles, std::memory_order_relaxed);
  pprof_bytes_ok_.fetch_add(pprof_bytes, std::memory_order_relaxed);
  wire_bytes_ok_.fetch_add(wire_bytes, std::memory_order_relaxed);
  latency_.Record(micros);
}

void Stats::Failed(int status, std::string_view message) {
  errors_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mu_);
  ErrorInfo& e = errors_by_status_[status];
  if (e.count++ == 0) e.sample = std::string(message.substr(0, 300));
}

Stats::Counters Stats::Take() const {
  Counters c;
  c.requests_ok = requests_ok_.load(std::memory_order_relaxed);
  c.profiles_ok = profiles_ok_.load(std::memory_order_relaxed);
  c.pprof_bytes_ok = pprof_bytes_ok_.load(std::memory_order_relaxed);
  c.wire_bytes_ok = wire_bytes_ok_.load(std::memory_order_relaxed);
  c.errors = errors_.load(std::memory_order_relaxed);
  c.latency = latency_.Take();
  return c;
}

std::map<int, Stats::ErrorInfo> Stats::Errors() const {
  std::lock_guard<std::mutex> lock(mu_);
  return errors_by_status_;
}

}  // namespace embers::loadgen
