// SegmentWriter: accumulates pushed profiles per shard and writes one object per shard per
// segment period, acknowledging the pushes only once their object is in the bucket and indexed.
//
// Each shard has one open segment: a DatasetBuilder per (tenant, service) plus the completions of
// the pushes that went into it. Every -segment-writer.segment-duration a ticker swaps in a fresh
// segment and queues the closed one to flush workers, so a slow flush never blocks ingest into
// the next segment (the shards' periods are staggered, see kFlushPhases). Flushing a segment:
// encode its datasets (ordered by tenant, service) into one object, upload it (with retries and
// backoff), register it with the metastore (AddBlock), and complete every waiting push. If the
// metastore cannot be reached the metadata is parked in the bucket at
// dlq/<shard>/anonymous/<ULID>/meta.pb for the metastore to recover, and the pushes still succeed;
// if the upload fails the pushes fail with Unavailable so clients retry. Nothing blocks a thread
// per waiting push: completions are callbacks (DESIGN §2).
//
// Used by the distributor (in-process, or through the segment-writer's gRPC service).
#ifndef EMBERS_SEGMENTWRITER_SEGMENT_WRITER_H_
#define EMBERS_SEGMENTWRITER_SEGMENT_WRITER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "base/call_context.h"
#include "block/dataset_builder.h"
#include "metastore/index_service.h"
#include "model/labels.h"
#include "model/profile_id.h"
#include "model/trace_id.h"
#include "objstore/bucket.h"
#include "pprof/profile.h"
#include "segmentwriter/hedged_upload.h"

namespace embers::segmentwriter {

// One profile of one series, ready to be stored.
struct ProfileToWrite {
  std::string service;
  model::Labels series;
  int64_t timestamp_ms = 0;
  int64_t duration_ns = 0;
  pprof::Profile profile;  // one sample type
  // The symbol tables `profile` refers to; null when `profile` carries its own. Shared by the
  // series split from one pushed profile.
  std::shared_ptr<const pprof::Profile> symbols;
  std::vector<uint64_t> span_ids;         // empty, or one per sample
  std::vector<model::TraceId> trace_ids;  // empty, or one per sample
  model::ProfileId profile_id;            // the pushed profile's id (zero: none)
};

struct SegmentWriterOptions {
  absl::Duration segment_duration = absl::Milliseconds(500);
  int flush_workers = 4;
  int upload_max_retries = 3;
  absl::Duration upload_retry_min_period = absl::Milliseconds(50);
  absl::Duration upload_retry_max_period = absl::Milliseconds(500);
  absl::Duration upload_timeout = absl::Seconds(2);
  absl::Duration upload_hedge_after = absl::Milliseconds(500);
  bool metadata_dlq_enabled = true;
  // -segment-writer.metadata-update-timeout: how long AddBlock may take before the metadata goes
  // to the DLQ instead (a remote metastore that is electing a leader must not stall flushes).
  absl::Duration metadata_update_timeout = absl::Seconds(2);
  int zstd_level = 1;
  std::string host_name = "embers";
  // Shards a push may name are [0, max_shards): each one holds an open segment and its flush
  // schedule for as long as the process runs, so a caller must not be able to create them at
  // will. The distributor uses writers × -segment-writer.num-tokens of them.
  uint32_t max_shards = 4096;
};

class SegmentWriter {
 public:
  SegmentWriter(SegmentWriterOptions options, objstore::Bucket* bucket,
                metastore::IndexService* metastore);
  ~SegmentWriter();
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  void Start();
  // Flushes every open segment (completing its pushes) and stops the workers, by `deadline`.
  void Stop(absl::Time deadline);

  // Adds the profiles of one tenant to `shard`'s open segment. `done` runs on a flush worker once
  // the segment is durable (OK), or with Unavailable if it could not be stored.
  void Push(const std::string& tenant, uint32_t shard, std::vector<ProfileToWrite> profiles,
            UnaryDone done);

 private:
  struct Segment {
    uint32_t shard = 0;
    // (tenant, service) → dataset; std::map keeps datasets in the object's order.
    std::map<std::pair<std::string, std::string>, std::unique_ptr<block::DatasetBuilder>> datasets;
    std::vector<UnaryDone> waiters;
    size_t profiles = 0;
  };
  struct Shard {
    std::mutex mu;
    std::unique_ptr<Segment> open;
  };

  Shard& GetShard(uint32_t shard);
  void TickerLoop();
  void WorkerLoop();
  // Shards are rotated in kFlushPhases groups (shard id modulo kFlushPhases), one group every
  // segment_duration / kFlushPhases. Each segment still lasts segment_duration, but the flushes,
  // and the acknowledgement of the pushes each one completes, are spread over the period instead
  // of landing at the same instant: on a busy machine that burst (every shard's encode and
  // upload, then ~1,500 responses at 3,000 pushes/s) was what a push's acknowledgement waited
  // behind.
  static constexpr uint32_t kFlushPhases = 4;
  // Swaps out the non-empty open segments of the shards in `phase` (every shard when negative)
  // and queues them for flushing.
  void Rotate(int phase);
  void RotateAll();
  void Flush(std::unique_ptr<Segment> segment);
  absl::Status Upload(const std::string& key, std::string bytes);
  absl::Status RegisterBlock(const metastore::v1::BlockMeta& meta);

  SegmentWriterOptions options_;
  objstore::Bucket* bucket_;
  // Runs upload attempts: two threads per flush worker (an attempt and its hedge), at most eight
  // attempts per flush worker queued or running (segment_writer.cc).
  std::unique_ptr<Uploader> uploader_;
  metastore::IndexService* metastore_;

  std::mutex shards_mu_;
  std::map<uint32_t, std::unique_ptr<Shard>> shards_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::unique_ptr<Segment>> queue_;
  int flushing_ = 0;
  bool stopping_ = false;

  std::mutex ticker_mu_;
  std::condition_variable ticker_cv_;
  bool ticker_stop_ = false;
  std::thread ticker_;
  std::vector<std::thread> workers_;
  std::atomic<bool> accepting_{false};
};

}  // namespace embers::segmentwriter

#endif  // EMBERS_SEGMENTWRITER_SEGMENT_WRITER_H_
