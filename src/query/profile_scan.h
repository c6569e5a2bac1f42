// ScanProfileChunks: reads the profile rows of one dataset chunk by chunk, on the calling thread
// and on idle threads of the query-backend's pool, and hands each chunk's rows to a per-thread
// ProfileChunkSink.
//
// Compaction packs a service's 6 h into one dataset of many chunks, where segments spread it over
// thousands of small objects. Reading such a dataset whole would hold every sample of it at once
// (hundreds of MB for a busy service) on one core; scanning it a chunk at a time holds at most one
// chunk (≤ 256 Ki samples) per thread, and lets the pool's other threads take chunks too.
//
// The calling thread never waits for a queued task: helpers are submitted to the pool and the
// caller reads chunks itself until none is left; it then waits only for helpers that are running
// (which never block), so a busy pool just means the caller does all the work. Used by
// QueryBackend::ReadBlock.
#ifndef EMBERS_QUERY_PROFILE_SCAN_H_
#define EMBERS_QUERY_PROFILE_SCAN_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "base/worker_pool.h"
#include "block/object_reader.h"

namespace embers::query {

// What one thread makes of the chunks it reads; the caller merges the sinks afterwards.
class ProfileChunkSink {
 public:
  virtual ~ProfileChunkSink() = default;
  // The rows of one chunk in the time range (row order within the chunk is kept).
  virtual absl::Status Consume(const block::ProfileRows& rows) = 0;
};

struct ProfileScanOptions {
  int64_t min_time_ms = INT64_MIN;
  int64_t max_time_ms = INT64_MAX;
  // Pool threads that may help (0: the calling thread reads every chunk). At most one helper per
  // chunk beyond the first is submitted.
  int helpers = 0;
};

// Reads the profiles section of `dataset` of `object`: returns the sinks that took part (made by
// `make_sink`, at most one per thread), or the first error of any of them.
absl::StatusOr<std::vector<std::unique_ptr<ProfileChunkSink>>> ScanProfileChunks(
    const block::ObjectReader& object, int dataset, const ProfileScanOptions& options,
    WorkerPool* pool, const std::function<std::unique_ptr<ProfileChunkSink>()>& make_sink);

}  // namespace embers::query

#endif  // EMBERS_QUERY_PROFILE_SCAN_H_
