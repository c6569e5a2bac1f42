#include "segmentwriter/segment_writer.h"

#include <algorithm>

#include "base/logging.h"
#include "base/metrics.h"
#include "base/strings.h"
#include "base/ulid.h"
#include "base/worker_pool.h"
#include "block/object_writer.h"
#include "segmentwriter/hedged_upload.h"

namespace embers::segmentwriter {
namespace {

struct Metrics {
  metrics::HistogramFamily& flush_seconds = metrics::Registry::Global().Histogram(
      "embers_segment_writer_flush_duration_seconds",
      "Time from closing a segment to completing its pushes.", {"outcome"});
  metrics::CounterFamily& segments = metrics::Registry::Global().Counter(
      "embers_segment_writer_segments_total", "Segments flushed, by outcome.", {"outcome"});
  metrics::CounterFamily& bytes = metrics::Registry::Global().Counter(
      "embers_segment_writer_object_bytes_total", "Bytes of segment objects uploaded.");
  metrics::CounterFamily& profiles = metrics::Registry::Global().Counter(
      "embers_segment_writer_profiles_total", "Profiles written into segments.");
};

Metrics& M() {
  static Metrics m;
  return m;
}

}  // namespace

SegmentWriter::SegmentWriter(SegmentWriterOptions options, objstore::Bucket* bucket,
                             metastore::IndexService* metastore)
    : options_(std::move(options)), bucket_(bucket), metastore_(metastore) {
  const int workers = std::max(1, options_.flush_workers);
  uploader_ = std::make_unique<Uploader>(bucket_, 2 * workers, 8 * static_cast<size_t>(workers));
}

SegmentWriter::~SegmentWriter() { Stop(absl::Now()); }

void SegmentWriter::Start() {
  accepting_ = true;
  ticker_ = std::thread([this] {
    SetCurrentThreadName("segment-ticker");
    TickerLoop();
  });
  for (int i = 0; i < std::max(1, options_.flush_workers); ++i) {
    workers_.emplace_back([this] {
      SetCurrentThreadName("segment-flush");
      WorkerLoop();
    });
  }
}

void SegmentWriter::Stop(absl::Time deadline) {
  if (!ticker_.joinable() && workers_.empty()) return;
  accepting_ = false;
  {
    std::lock_guard<std::mutex> lock(ticker_mu_);
    ticker_stop_ = true;
  }
  ticker_cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
  RotateAll();  // what was pushed before Stop is still flushed
  {
    std::unique_lock<std::mutex> lock(queue_mu_);
    queue_cv_.wait_until(lock, absl::ToChronoTime(deadline),
                         [this] { return queue_.empty() && flushing_ == 0; });
    stopping_ = true;
  }
  queue_cv_.notify_all();
  for (auto& w : workers_) w.join();
  workers_.clear();
  // A push that raced with the stop (it passed the accepting_ check before the final rotation)
  // may sit in a fresh segment: queue it too, so it is failed below rather than left hanging.
  {
    std::lock_guard<std::mutex> lock(shards_mu_);
    for (auto& [_, s] : shards_) {
      std::lock_guard<std::mutex> shard_lock(s->mu);
      if (s->open && !s->open->waiters.empty()) queue_.push_back(std::move(s->open));
    }
  }
  // Segments still queued after the deadline: fail their pushes rather than leave them hanging.
  for (auto& segment : queue_) {
    for (auto& done : segment->waiters)
      done(absl::UnavailableError("segment-writer is shutting down"));
  }
  queue_.clear();
}

SegmentWriter::Shard& SegmentWriter::GetShard(uint32_t shard) {
  std::lock_guard<std::mutex> lock(shards_mu_);
  auto& s = shards_[shard];
  if (!s) s = std::make_unique<Shard>();
  return *s;
}

void SegmentWriter::Push(const std::string& tenant, uint32_t shard,
                         std::vector<ProfileToWrite> profiles, UnaryDone done) {
  if (!accepting_) {
    done(absl::UnavailableError("segment-writer is not running"));
    return;
  }
  if (shard >= options_.max_shards) {
    done(absl::InvalidArgumentError(
        StrCat("shard ", shard, " is out of range: this segment-writer serves shards below ",
               options_.max_shards)));
    return;
  }
  if (profiles.empty()) {
    done(absl::OkStatus());
    return;
  }
  Shard& s = GetShard(shard);
  std::lock_guard<std::mutex> lock(s.mu);
  // Checked again under the shard lock: Stop() clears accepting_ before its final sweep of the
  // shards, so a push either lands in a segment the sweep sees or is refused here.
  if (!accepting_) {
    done(absl::UnavailableError("segment-writer is not running"));
    return;
  }
  if (!s.open) {
    s.open = std::make_unique<Segment>();
    s.open->shard = shard;
  }
  Segment& segment = *s.open;
  std::vector<block::SeriesAppend> group;
  for (size_t i = 0; i < profiles.size();) {
    const ProfileToWrite& first = profiles[i];
    auto& dataset = segment.datasets[{tenant, first.service}];
    if (!dataset) {
      dataset = std::make_unique<block::DatasetBuilder>(
          tenant, first.service, block::DatasetOptions{.zstd_level = options_.zstd_level});
    }
    // The series split from one pushed profile are consecutive and share its symbols: one
    // Append interns those once for all of them.
    group.clear();
    do {
      const ProfileToWrite& p = profiles[i++];
      group.push_back({.series = &p.series,
                       .timestamp_ms = p.timestamp_ms,
                       .duration_ns = p.duration_ns,
                       .samples = &p.profile,
                       .span_ids = p.span_ids,
                       .trace_ids = p.trace_ids,
                       .profile_id = p.profile_id});
    } while (i < profiles.size() && first.symbols != nullptr &&
             profiles[i].symbols == first.symbols && profiles[i].service == first.service);
    dataset->Append(group, first.symbols ? *first.symbols : first.profile);
  }
  segment.profiles += profiles.size();
  segment.waiters.push_back(std::move(done));
}

void SegmentWriter::TickerLoop() {
  using Clock = std::chrono::steady_clock;
  const auto step = std::chrono::duration_cast<Clock::duration>(
      absl::ToChronoNanoseconds(options_.segment_duration) / kFlushPhases);
  std::unique_lock<std::mutex> lock(ticker_mu_);
  Clock::time_point next = Clock::now();
  for (uint32_t tick = 0; !ticker_stop_; tick = (tick + 1) % kFlushPhases) {
    // A fixed schedule, so that rotating does not stretch the segments.
    next += step;
    ticker_cv_.wait_until(lock, next, [this] { return ticker_stop_; });
    if (ticker_stop_) break;
    lock.unlock();
    Rotate(static_cast<int>(tick));
    lock.lock();
    // A machine that stalled for longer than a step resumes the schedule from now instead of
    // rotating several phases back to back.
    if (Clock::now() > next + step) next = Clock::now();
  }
}

void SegmentWriter::RotateAll() { Rotate(-1); }

void SegmentWriter::Rotate(int phase) {
  std::vector<Shard*> shards;
  {
    std::lock_guard<std::mutex> lock(shards_mu_);
    for (auto& [id, s] : shards_) {
      if (phase < 0 || id % kFlushPhases == static_cast<uint32_t>(phase)) shards.push_back(s.get());
    }
  }
  std::vector<std::unique_ptr<Segment>> closed;
  for (Shard* s : shards) {
    std::lock_guard<std::mutex> lock(s->mu);
    if (s->open && !s->open->waiters.empty()) closed.push_back(std::move(s->open));
  }
  if (closed.empty()) return;
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    for (auto& seg : closed) queue_.push_back(std::move(seg));
  }
  queue_cv_.notify_all();
}

void SegmentWriter::WorkerLoop() {
  while (true) {
    std::unique_ptr<Segment> segment;
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      segment = std::move(queue_.front());
      queue_.pop_front();
      ++flushing_;
    }
    Flush(std::move(segment));
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      --flushing_;
    }
    queue_cv_.notify_all();
  }
}

absl::Status SegmentWriter::Upload(const std::string& key, std::string bytes) {
  UploadPolicy policy;
  policy.timeout = options_.upload_timeout;
  policy.max_retries = options_.upload_max_retries;
  policy.retry_min_period = options_.upload_retry_min_period;
  policy.retry_max_period = options_.upload_retry_max_period;
  policy.hedge_after = options_.upload_hedge_after;
  return uploader_->Upload(key, std::make_shared<const std::string>(std::move(bytes)), policy);
}

absl::Status SegmentWriter::RegisterBlock(const metastore::v1::BlockMeta& meta) {
  // The in-process index answers synchronously; a remote client completes later, so wait on a
  // promise here: flush workers are few and dedicated, this blocks no request thread.
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  absl::Status result;
  metastore::v1::AddBlockRequest request;
  *request.mutable_block() = meta;
  metastore::v1::AddBlockResponse response;
  CallContext ctx;
  ctx.tenant = "anonymous";
  ctx.deadline = absl::Now() + options_.metadata_update_timeout;
  metastore_->AddBlock(ctx, request, &response, [&](absl::Status st) {
    std::lock_guard<std::mutex> lock(mu);
    result = std::move(st);
    finished = true;
    cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return finished; });
  return result;
}

void SegmentWriter::Flush(std::unique_ptr<Segment> segment) {
  const absl::Time start = absl::Now();
  std::vector<block::EncodedDataset> datasets;
  datasets.reserve(segment->datasets.size());
  for (auto& [_, builder] : segment->datasets) {
    if (builder->row_count() > 0) datasets.push_back(builder->Finish());
  }
  segment->datasets.clear();
  auto complete = [&](const absl::Status& st, std::string_view outcome) {
    M().segments.WithLabels({outcome}).Inc();
    M().flush_seconds.WithLabels({outcome}).Observe(absl::ToDoubleSeconds(absl::Now() - start));
    for (auto& done : segment->waiters) done(st);
  };
  if (datasets.empty()) {  // every profile was empty after normalisation: nothing to write
    complete(absl::OkStatus(), "empty");
    return;
  }
  Ulid id = NewUlid(static_cast<uint64_t>(absl::ToUnixMillis(absl::Now())));
  block::BuiltObject object = block::BuildObject({.id = id.ToString(),
                                                  .shard = segment->shard,
                                                  .compaction_level = 0,
                                                  .tenant = "",
                                                  .created_by = options_.host_name},
                                                 std::move(datasets));
  const std::string key = block::ObjectKey(object.meta);
  const size_t object_size = object.bytes.size();
  if (absl::Status st = Upload(key, std::move(object.bytes)); !st.ok()) {
    log::Error("segment upload failed; failing its pushes", {{"key", key}, {"error", st}});
    complete(absl::UnavailableError(StrCat("storing the segment failed: ", st.message())),
             "upload_failed");
    return;
  }
  M().bytes.WithLabels({}).Inc(static_cast<double>(object_size));
  M().profiles.WithLabels({}).Inc(static_cast<double>(segment->profiles));

  absl::Status indexed = RegisterBlock(object.meta);
  if (!indexed.ok()) {
    if (!options_.metadata_dlq_enabled) {
      complete(absl::UnavailableError(StrCat("indexing the segment failed: ", indexed.message())),
               "index_failed");
      return;
    }
    // Park the metadata where the metastore's recovery loop finds it; the data is safe.
    std::string dlq_key =
        StrCat("dlq/", segment->shard, "/anonymous/", object.meta.id(), "/meta.pb");
    absl::Status parked = Upload(dlq_key, object.meta.SerializeAsString());
    if (!parked.ok()) {
      log::Error("metastore and DLQ both failed; failing the pushes",
                 {{"key", key}, {"metastore_error", indexed}, {"dlq_error", parked}});
      complete(absl::UnavailableError(StrCat("indexing the segment failed: ", indexed.message())),
               "dlq_failed");
      return;
    }
    log::Warn("metastore unavailable; segment metadata parked in the DLQ",
              {{"key", dlq_key}, {"error", indexed}});
    complete(absl::OkStatus(), "dlq");
    return;
  }
  complete(absl::OkStatus(), "ok");
}

}  // namespace embers::segmentwriter
