// Stats: what embers-loadgen counts while it runs, shared by all connections and threads.
//
// Counters are atomics and latencies go into a fixed log-linear histogram of atomics (≤ 3 %
// relative error, exact maximum), so recording an ack costs a few relaxed atomic adds and no lock
// even with thousands of connections on several threads. Snapshots subtract, which gives the
// per-second figures of the live progress line from the same data as the final summary. Errors
// are rare, so they are kept by HTTP status (0 = transport) under a mutex with a sample message.
#ifndef EMBERS_CMD_LOADGEN_STATS_H_
#define EMBERS_CMD_LOADGEN_STATS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace embers::loadgen {

class LatencyHistogram {
 public:
  // 128 linear buckets below 128 µs, then 128 sub-buckets per power of two up to 2^40 µs: within
  // 0.8 %, so a p50 near 300 ms is resolved to 2 ms (the ack-latency goal is a 300 ms line).
  static constexpr int kSubBits = 7;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kBuckets = kSub + (40 - kSubBits) * kSub;

  struct Snapshot {
    std::array<uint64_t, kBuckets> counts{};
    uint64_t total = 0;
    uint64_t max_us = 0;  // maximum over the whole run (not subtractable)

    // Latency in milliseconds at quantile q (0..1); 0 when empty.
    double QuantileMs(double q) const;
    Snapshot Minus(const Snapshot& earlier) const;
  };

  void Record(uint64_t micros);
  Snapshot Take() const;

 private:
  static int BucketOf(uint64_t micros);

  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
  std::atomic<uint64_t> max_us_{0};
};

class Stats {
 public:
  struct Counters {
    uint64_t requests_ok = 0;
    uint64_t profiles_ok = 0;
    uint64_t pprof_bytes_ok = 0;  // uncompressed pprof bytes acknowledged
    uint64_t wire_bytes_ok = 0;   // request body bytes acknowledged
    uint64_t errors = 0;
    LatencyHistogram::Snapshot latency;
  };
  struct ErrorInfo {
    uint64_t count = 0;
    std::string sample;  // the first message seen
  };

  void Acked(uint64_t profiles, uint64_t pprof_bytes, uint64_t wire_bytes, uint64_t micros);
  // status 0: transport error (connect, reset, timeout).
  void Failed(int status, std::string_view message);

  void BeginRequest() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  void EndRequest() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }
  int64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }

  Counters Take() const;
  std::map<int, ErrorInfo> Errors() const;

 private:
  std::atomic<uint64_t> requests_ok_{0};
  std::atomic<uint64_t> profiles_ok_{0};
  std::atomic<uint64_t> pprof_bytes_ok_{0};
  std::atomic<uint64_t> wire_bytes_ok_{0};
  std::atomic<uint64_t> errors_{0};
  std::atomic<int64_t> in_flight_{0};
  LatencyHistogram latency_;
  mutable std::mutex mu_;  // guards errors_by_status_
  std::map<int, ErrorInfo> errors_by_status_;
};

}  // namespace embers::loadgen

#endif  // EMBERS_CMD_LOADGEN_STATS_H_
