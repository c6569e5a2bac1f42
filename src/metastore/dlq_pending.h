// ParkedMetadataCheck: whether segments parked in the bucket's dlq/ may hold data of a time range.
//
// A segment-writer that cannot reach the metastore within -segment-writer.metadata-update-timeout
// parks the segment's metadata in dlq/ and acknowledges its pushes (the data is in the bucket);
// the metastore leader indexes it on its next DLQ recovery pass (dlq_recovery.h). Until then a
// query over that time would silently miss acknowledged data. The query-frontend runs this check
// before it asks the metastore which blocks to read and answers Unavailable while such a segment is
// pending, so a partial answer is never given as a complete one (the client retries).
//
// Ordering: recovery indexes a block before it deletes its dlq/ entry, and a push is acknowledged
// only after its entry is written. So if no relevant entry is listed at the moment of the check,
// every block of a push acknowledged before the query started is already in the index the
// (linearizable) metadata query reads next.
//
// The check lists dlq/ on every call (no cache: a cached listing could miss an entry parked just
// before the query). DLQ keys name the segment's ULID, whose time is when the segment was made;
// its profiles' timestamps lie within [made − older, made + newer] (the distributor's
// -validation.reject-older-than / -reject-newer-than), which decides whether it may overlap.
#ifndef EMBERS_METASTORE_DLQ_PENDING_H_
#define EMBERS_METASTORE_DLQ_PENDING_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "objstore/bucket.h"

namespace embers::metastore {

class ParkedMetadataCheck {
 public:
  // `bucket` must outlive the check.
  ParkedMetadataCheck(objstore::Bucket* bucket, absl::Duration older, absl::Duration newer)
      : bucket_(bucket), older_(older), newer_(newer) {}

  // OK when no parked segment may hold data in [start_ms, end_ms]; Unavailable naming how many do.
  // A failed listing is Unavailable too (completeness cannot be told).
  absl::Status Check(int64_t start_ms, int64_t end_ms) const;

 private:
  objstore::Bucket* bucket_;
  absl::Duration older_;
  absl::Duration newer_;
};

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_DLQ_PENDING_H_
