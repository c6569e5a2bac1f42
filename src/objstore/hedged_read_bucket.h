// HedgedReadBucket: a ranged read that has not answered after a while is sent a second time, and
// whichever answer comes first is used: the slowest requests of S3 and Azure (a slow disk, an
// overloaded front end) cost hedge_after plus one more round trip instead of their whole tail.
//
// The query-backend reads through one on S3 and Azure (server/app.cc), below its read cache. Both
// attempts run on a bounded pool of threads (max_in_flight): a read that finds no free thread runs
// on the caller's thread, unhedged, so reads never queue behind the pool. The attempt that loses
// keeps its thread until its request ends (the HTTP client's timeouts bound that). Reads are
// idempotent, so a duplicate costs the store a request and nothing else; only reads are hedged
// (the segment-writer hedges its uploads itself, segmentwriter/hedged_upload.h).
#ifndef EMBERS_OBJSTORE_HEDGED_READ_BUCKET_H_
#define EMBERS_OBJSTORE_HEDGED_READ_BUCKET_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "base/worker_pool.h"
#include "objstore/forwarding_bucket.h"

namespace embers::objstore {

struct HedgedReadOptions {
  // A read still unanswered after this gets a second request.
  absl::Duration hedge_after = absl::Milliseconds(500);
  // Attempts running on the pool at most (its threads).
  int max_in_flight = 16;
};

class HedgedReadBucket final : public ForwardingBucket {
 public:
  // `inner` must outlive this bucket.
  HedgedReadBucket(Bucket* inner, HedgedReadOptions options);
  ~HedgedReadBucket() override;

  absl::StatusOr<std::string> GetRange(std::string_view key, uint64_t offset,
                                       uint64_t length) override;

 private:
  struct Race;
  // Takes a pool thread for one attempt; false when all are busy.
  bool Reserve();
  void Launch(std::shared_ptr<Race> race, std::string key, uint64_t offset, uint64_t length);

  const HedgedReadOptions options_;
  std::atomic<int> in_flight_{0};
  WorkerPool pool_;
};

}  // namespace embers::objstore

#endif  // EMBERS_OBJSTORE_HEDGED_READ_BUCKET_H_
