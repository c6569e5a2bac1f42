// AddBlockLoad: keeps a number of AddBlock calls in flight through a MetastoreClient until every
// request is answered, recording when each call was sent and answered. Drives the snapshot
// cluster test (metastore_snapshot_cluster_test.cpp) and bench/metastore_cluster_bench.cc. Not
// part of the product.
#ifndef EMBERS_METASTORE_CLIENT_ADD_BLOCK_LOAD_H_
#define EMBERS_METASTORE_CLIENT_ADD_BLOCK_LOAD_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "metastore/client/metastore_client.h"

namespace embers::metastore {

class AddBlockLoad {
 public:
  struct Call {
    int64_t sent_ns = 0;  // steady clock
    int64_t done_ns = 0;
    absl::Status status;
    double latency_ms() const { return static_cast<double>(done_ns - sent_ns) / 1e6; }
  };

  // Requests are built on demand (`request(i)` for i < count), so a load of millions of blocks
  // does not hold them all. `client` must outlive Run.
  AddBlockLoad(MetastoreClient* client, size_t count,
               std::function<v1::AddBlockRequest(size_t)> request);

  // Blocks until every request is answered. Closed loop: keeps `concurrency` calls in flight.
  void Run(int concurrency);
  // Open loop: sends at `per_second` (call i at start + i / per_second), never more than
  // `max_in_flight` at once, as a fleet of writers would, so latency is not queueing behind the
  // load's own backlog.
  void RunAtRate(double per_second, int max_in_flight);

  const std::vector<Call>& calls() const { return calls_; }
  double elapsed_s() const { return elapsed_s_; }
  int failures() const { return failures_.load(); }

 private:
  // Sends call i; `chain` sends the next one from its completion (closed loop).
  void Send(size_t i, bool chain);
  void Next();

  MetastoreClient* client_;
  std::function<v1::AddBlockRequest(size_t)> request_;
  std::vector<Call> calls_;
  std::atomic<size_t> next_{0};
  std::atomic<int> failures_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  size_t finished_ = 0;  // guarded by mu_
  int in_flight_ = 0;    // guarded by mu_ (open loop)
  double elapsed_s_ = 0;
};

// Percentiles of latencies in ms (nearest rank); zeros for none.
struct LatencySummary {
  size_t count = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0;
};
LatencySummary Summarize(std::vector<double> latencies_ms);

int64_t SteadyNowNs();

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_CLIENT_ADD_BLOCK_LOAD_H_
