// EwmaRate: an exponentially weighted moving average of a rate (units per second) from samples
// that arrive at irregular times — the ingestion rate of a dataset or a shard from the sizes of
// the blocks added to the metastore (adaptive placement, reference §3.5). Used by DatasetUsage.
//
// The estimate is a decayed sum: every sample adds its amount, and the sum decays by half every
// `half_life`; the rate is the sum × ln 2 / half_life. A steady rate r is estimated as
// r × (1 − 2^(−t / half_life)) after t, so it reads half the true rate one half-life after a
// change and converges to it, and a source that stops decays to zero by half per half-life.
// Times are the caller's (milliseconds); nothing reads a clock. Not thread-safe.
#ifndef EMBERS_METASTORE_PLACEMENT_EWMA_RATE_H_
#define EMBERS_METASTORE_PLACEMENT_EWMA_RATE_H_

#include <cstdint>

namespace embers::metastore {

class EwmaRate {
 public:
  // Adds `amount` at `now_ms`. A sample older than the last one counts as if it were at the last
  // one's time (clocks step; the estimate must not grow from decaying backwards).
  void Add(double amount, int64_t now_ms, int64_t half_life_ms);

  // The rate per second at `now_ms`.
  double RateAt(int64_t now_ms, int64_t half_life_ms) const;

  // Time of the last sample (0 before the first).
  int64_t last_update_ms() const { return last_ms_; }

 private:
  double sum_ = 0;  // decayed sum of the amounts, as of last_ms_
  int64_t last_ms_ = 0;
};

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_PLACEMENT_EWMA_RATE_H_
