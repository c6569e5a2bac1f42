#include "objstore/hedged_read_bucket.h"

#include <utility>

#include "absl/synchronization/mutex.h"
#include "base/metrics.h"

namespace embers::objstore {
namespace {

metrics::CounterFamily& Reads() {
  static auto& c = metrics::Registry::Global().Counter(
      "embers_objstore_hedged_reads_total",
      "Ranged reads of the query path by how they went: answered before the hedge delay "
      "(first), hedged and answered first by the original (hedged_original) or by the second "
      "request (hedged_second), slow but not hedged for want of a free thread (slow_unhedged), or "
      "run on the "
      "caller's thread because every pool thread was busy (inline).",
      {"outcome"});
  return c;
}

}  // namespace

// The attempts of one read: the first good answer, or the last error once every attempt failed.
struct HedgedReadBucket::Race {
  absl::Mutex mu;
  int running ABSL_GUARDED_BY(mu) = 0;
  bool done ABSL_GUARDED_BY(mu) = false;
  int winner ABSL_GUARDED_BY(mu) = -1;  // 0: the original, 1: the hedge
  absl::StatusOr<std::string> result ABSL_GUARDED_BY(mu) = absl::UnknownError("no attempt");
};

HedgedReadBucket::HedgedReadBucket(Bucket* inner, HedgedReadOptions options)
    : ForwardingBucket(inner),
      options_(options),
      pool_({.threads = options.max_in_flight, .name = "hedged-reads"}) {}

HedgedReadBucket::~HedgedReadBucket() = default;  // the pool finishes the attempts still running

bool HedgedReadBucket::Reserve() {
  int n = in_flight_.load(std::memory_order_relaxed);
  while (n < options_.max_in_flight) {
    if (in_flight_.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel)) return true;
  }
  return false;
}

void HedgedReadBucket::Launch(std::shared_ptr<Race> race, std::string key, uint64_t offset,
                              uint64_t length) {
  int attempt = 0;
  {
    absl::MutexLock lock(&race->mu);
    attempt = race->running++;
  }
  pool_.Submit([this, race = std::move(race), key = std::move(key), offset, length, attempt] {
    absl::StatusOr<std::string> got = ForwardingBucket::GetRange(key, offset, length);
    in_flight_.fetch_sub(1, std::memory_order_acq_rel);
    absl::MutexLock lock(&race->mu);
    --race->running;
    if (race->done) return;
    if (got.ok() || race->running == 0) {
      race->result = std::move(got);
      race->winner = attempt;
      race->done = true;
    } else {
      race->result = std::move(got);  // kept in case the other attempt fails too
    }
  });
}

absl::StatusOr<std::string> HedgedReadBucket::GetRange(std::string_view key, uint64_t offset,
                                                       uint64_t length) {
  if (!Reserve()) {
    Reads().WithLabels({"inline"}).Inc();
    return ForwardingBucket::GetRange(key, offset, length);
  }
  auto race = std::make_shared<Race>();
  Launch(race, std::string(key), offset, length);
  absl::MutexLock lock(&race->mu);
  auto done = [&race]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(race->mu) { return race->done; };
  if (race->mu.AwaitWithTimeout(absl::Condition(&done), options_.hedge_after)) {
    Reads().WithLabels({"first"}).Inc();
    return std::move(race->result);
  }
  race->mu.Unlock();
  const bool hedged = Reserve();
  if (hedged) Launch(race, std::string(key), offset, length);
  race->mu.Lock();
  race->mu.Await(absl::Condition(&done));
  if (!hedged) {
    Reads().WithLabels({"slow_unhedged"}).Inc();
  } else {
    Reads().WithLabels({race->winner == 1 ? "hedged_second" : "hedged_original"}).Inc();
  }
  return std::move(race->result);
}

}  // namespace embers::objstore
