// Uploading a segment object: a deadline, retries with backoff, and a hedged second attempt.
//
// Object stores have long-tail latencies: one PUT in a few hundred can take seconds while a
// second identical PUT finishes in milliseconds. Since a push is acknowledged only after its
// segment is uploaded, the segment-writer (Pyroscope's defaults: 2 s timeout, 3 retries with
// 50–500 ms backoff, hedge after 500 ms) starts a second attempt when the first is slow and takes
// whichever succeeds first. Puts are idempotent (same key, same bytes), so a late attempt that
// completes after the winner is harmless. Attempts run on their own threads because the Bucket
// API is synchronous; the bytes are shared so an abandoned attempt can still finish safely.
#ifndef EMBERS_SEGMENTWRITER_HEDGED_UPLOAD_H_
#define EMBERS_SEGMENTWRITER_HEDGED_UPLOAD_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "objstore/bucket.h"

namespace embers::segmentwriter {

struct UploadPolicy {
  absl::Duration timeout = absl::Seconds(2);  // per attempt round, including its hedge
  int max_retries = 3;
  absl::Duration retry_min_period = absl::Milliseconds(50);
  absl::Duration retry_max_period = absl::Milliseconds(500);
  absl::Duration hedge_after = absl::Milliseconds(500);  // zero disables hedging
};

// OK once one attempt stored the object. Otherwise the last error (DeadlineExceeded when every
// round timed out).
absl::Status UploadObject(objstore::Bucket* bucket, const std::string& key,
                          std::shared_ptr<const std::string> bytes, const UploadPolicy& policy);

}  // namespace embers::segmentwriter

#endif  // EMBERS_SEGMENTWRITER_HEDGED_UPLOAD_H_
