#include "compactor/compaction_worker.h"

#include <algorithm>
#include <future>
#include <set>
#include <utility>

#include "base/logging.h"
#include "base/metrics.h"
#include "base/strings.h"
#include "base/ulid.h"
#include "block/object_writer.h"

namespace embers::compactor {

namespace {

metrics::CounterFamily& JobsTotal() {
  static auto& c = metrics::Registry::Global().Counter(
      "embers_compaction_worker_jobs_total",
      "Compaction jobs run by this worker, by source level and outcome (success, failure, "
      "abandoned: reassigned elsewhere or stopped).",
      {"level", "outcome"});
  return c;
}
metrics::HistogramFamily& JobDuration() {
  static auto& h = metrics::Registry::Global().Histogram(
      "embers_compaction_worker_job_duration_seconds", "Time to run one compaction job.", {"level"},
      metrics::ExponentialBuckets(0.01, 2, 16));
  return h;
}
// Half-second buckets up to 15 s: a quantile read from the histogram is interpolated inside one
// bucket, and the target (median <= 5 s) needs that to be finer than a bucket of 1.9 s.
std::vector<double> TimeToCompactionBuckets() {
  std::vector<double> b = metrics::LinearBuckets(0.5, 0.5, 30);
  for (double s : {20, 30, 45, 60, 120, 300, 600}) b.push_back(s);
  return b;
}
metrics::HistogramFamily& TimeToCompaction() {
  static auto& h = metrics::Registry::Global().Histogram(
      "embers_compaction_time_to_first_compaction_seconds",
      "Time from a segment's write (its id's time) to the end of the job that compacted it.", {},
      TimeToCompactionBuckets());
  return h;
}
metrics::CounterFamily& Bytes() {
  static auto& c = metrics::Registry::Global().Counter("embers_compaction_worker_bytes_total",
                                                       "Bytes read and written by compaction jobs.",
                                                       {"level", "direction"});
  return c;
}
metrics::CounterFamily& Rows() {
  static auto& c = metrics::Registry::Global().Counter(
      "embers_compaction_worker_profiles_total",
      "Profiles (rows) read, written, and dropped as duplicates (client retries) by compaction "
      "jobs.",
      {"level", "kind"});
  return c;
}
metrics::CounterFamily& Deleted() {
  static auto& c = metrics::Registry::Global().Counter(
      "embers_compaction_worker_deleted_objects_total",
      "Objects deleted for tombstones (replaced by compaction or expired by retention).",
      {"outcome"});
  return c;
}

bool Transient(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded;
}

}  // namespace

CompactionWorker::CompactionWorker(CompactionWorkerOptions options, objstore::Bucket* bucket,
                                   metastore::CompactionService* metastore,
                                   CompactionJobExecutor executor)
    : options_(std::move(options)),
      bucket_(bucket),
      metastore_(metastore),
      executor_(std::move(executor)) {}

CompactionWorker::~CompactionWorker() { Stop(absl::Now()); }

void CompactionWorker::Start() {
  pool_ = std::make_unique<WorkerPool>(
      WorkerPoolOptions{.threads = std::max(1, options_.job_concurrency), .name = "compaction"});
  poll_thread_ = std::thread([this] {
    SetCurrentThreadName("compaction-poll");
    PollLoop();
  });
  cleanup_thread_ = std::thread([this] {
    SetCurrentThreadName("compaction-gc");
    CleanupLoop();
  });
  log::Info("compaction-worker started",
            {{"worker", options_.worker_id}, {"concurrency", options_.job_concurrency}});
}

void CompactionWorker::Stop(absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!poll_thread_.joinable() || stopping_) {
    stopping_ = true;
    return;
  }
  stopping_ = true;
  wake_poll_ = true;
  cv_.notify_all();
  // Running jobs may finish (and get reported by the poll loop) until the deadline.
  cv_.wait_until(lock, absl::ToChronoTime(deadline), [this] { return running_ == 0; });
  for (auto& [name, job] : jobs_) job->cancel = true;
  lock.unlock();
  pool_.reset();  // the cancelled jobs return promptly
  lock.lock();
  exit_ = true;
  cv_.notify_all();
  lock.unlock();
  poll_thread_.join();
  cleanup_thread_.join();
}

CompactionWorker::Stats CompactionWorker::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void CompactionWorker::PollLoop() {
  absl::Duration backoff = options_.poll_interval;
  for (;;) {
    const absl::Time start = absl::Now();
    const bool ok = PollOnce();
    std::unique_lock<std::mutex> lock(mu_);
    if (exit_) return;
    // After a failed poll wait longer each time (up to 10 intervals); a finished job is
    // reported at once otherwise. A poll the leader held for work counts toward the interval, so
    // an idle worker polls again as soon as a held poll comes back empty.
    backoff = ok ? options_.poll_interval : std::min(backoff * 2, options_.poll_interval * 10);
    const absl::Duration wait =
        ok ? std::max(absl::ZeroDuration(), backoff - (absl::Now() - start)) : backoff;
    cv_.wait_for(lock, absl::ToChronoNanoseconds(wait),
                 [this, ok] { return exit_ || (ok && wake_poll_); });
    wake_poll_ = false;
    if (exit_) {
      lock.unlock();
      PollOnce();  // the last reports
      return;
    }
  }
}

bool CompactionWorker::PollOnce() {
  v1::PollCompactionJobsRequest request;
  request.set_worker_id(options_.worker_id);
  {
    std::lock_guard<std::mutex> lock(mu_);
    request.set_job_capacity(
        stopping_ ? 0 : static_cast<uint32_t>(std::max(0, options_.job_concurrency - running_)));
    request.set_cleanup_capacity(stopping_ || !cleanup_.empty() ? 0 : options_.cleanup_capacity);
    // Holding no job, the worker lets the leader keep the poll until a job is ready (at most one
    // interval: a stopping worker waits for this poll).
    if (!stopping_ && jobs_.empty() && cleaned_.empty()) {
      request.set_max_wait_ms(static_cast<uint32_t>(
          std::clamp<int64_t>(absl::ToInt64Milliseconds(options_.poll_interval), 0, 60000)));
    }
    for (const auto& [name, job] : jobs_) {
      v1::CompactionJobStatusUpdate* u = request.add_status_updates();
      u->set_name(name);
      u->set_token(job->token);
      switch (job->state) {
        case JobState::kRunning:
          u->set_status(v1::COMPACTION_STATUS_IN_PROGRESS);
          break;
        case JobState::kSucceeded: {
          u->set_status(v1::COMPACTION_STATUS_SUCCESS);
          v1::CompactedBlocks* c = u->mutable_compacted_blocks();
          c->mutable_source_blocks()->set_tenant(job->spec.tenant());
          c->mutable_source_blocks()->set_shard(job->spec.shard());
          *c->mutable_source_blocks()->mutable_blocks() = job->spec.source_blocks();
          for (const v1::BlockMeta& b : job->result.outputs) *c->add_new_blocks() = b;
          break;
        }
        case JobState::kFailed:
          u->set_status(v1::COMPACTION_STATUS_FAILURE);
          u->set_error(job->error);
          break;
      }
    }
    for (const std::string& name : cleaned_) request.add_cleaned_tombstones(name);
  }

  v1::PollCompactionJobsResponse response;
  CallContext ctx{.tenant = "", .deadline = absl::Now() + options_.poll_timeout};
  std::promise<absl::Status> answered;
  std::future<absl::Status> f = answered.get_future();
  metastore_->PollCompactionJobs(ctx, request, &response,
                                 [&answered](absl::Status s) { answered.set_value(std::move(s)); });
  absl::Status status = f.get();

  std::vector<std::shared_ptr<Job>> to_run;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.polls++;
    if (!status.ok()) {
      stats_.poll_errors++;
      log::Warn("compaction-worker: poll failed", {{"err", status}});
      return false;
    }
    // The cleaned tombstones and the final reports were taken.
    std::erase_if(cleaned_, [&](const std::string& n) {
      return std::find(request.cleaned_tombstones().begin(), request.cleaned_tombstones().end(),
                       n) != request.cleaned_tombstones().end();
    });
    for (const v1::CompactionJobStatusUpdate& u : request.status_updates()) {
      if (u.status() == v1::COMPACTION_STATUS_SUCCESS ||
          u.status() == v1::COMPACTION_STATUS_FAILURE) {
        jobs_.erase(u.name());
      }
    }
    std::map<std::string_view, uint64_t> assigned;
    for (const v1::CompactionJobAssignment& a : response.assignments())
      assigned[a.name()] = a.token();
    // A held job missing from the assignments was reassigned or is gone: abandon it.
    for (auto it = jobs_.begin(); it != jobs_.end();) {
      auto a = assigned.find(it->first);
      if (a == assigned.end() || a->second != it->second->token) {
        it->second->cancel = true;
        if (it->second->state == JobState::kRunning) stats_.jobs_abandoned++;
        JobsTotal()
            .WithLabels({std::to_string(it->second->spec.compaction_level()), "abandoned"})
            .Inc();
        it = jobs_.erase(it);
        cv_.notify_all();  // a job waiting out a retry backoff sees the cancel
      } else {
        ++it;
      }
    }
    for (const v1::CompactionJob& spec : response.compaction_jobs()) {
      auto a = assigned.find(spec.name());
      if (stopping_ || a == assigned.end() || jobs_.contains(spec.name())) continue;
      auto job = std::make_shared<Job>();
      job->spec = spec;
      job->token = a->second;
      jobs_[spec.name()] = job;
      running_++;
      stats_.jobs_started++;
      to_run.push_back(std::move(job));
    }
    for (const v1::BlockTombstones& t : response.cleanup()) cleanup_.push_back(t);
    if (!response.cleanup().empty()) cv_.notify_all();
  }
  for (std::shared_ptr<Job>& job : to_run) {
    pool_->Submit([this, job = std::move(job)]() mutable { RunJob(std::move(job)); });
  }
  return true;
}

void CompactionWorker::RunJob(std::shared_ptr<Job> job) {
  const std::string level = std::to_string(job->spec.compaction_level());
  const absl::Time start = absl::Now();
  absl::StatusOr<CompactionJobResult> result = absl::CancelledError("not run");
  absl::Duration backoff = options_.retry_backoff;
  for (int attempt = 0; !job->cancel; ++attempt) {
    result = executor_(job->spec, job->cancel);
    if (result.ok() || !Transient(result.status()) || attempt >= options_.transient_retries) break;
    log::Warn("compaction job hit a transient error; retrying",
              {{"job", job->spec.name()}, {"attempt", attempt + 1}, {"err", result.status()}});
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, absl::ToChronoNanoseconds(backoff), [&] { return job->cancel.load(); });
    backoff *= 2;
  }
  const absl::Time end = absl::Now();

  std::lock_guard<std::mutex> lock(mu_);
  running_--;
  wake_poll_ = true;
  cv_.notify_all();
  auto it = jobs_.find(job->spec.name());
  if (job->cancel || it == jobs_.end() || it->second != job) return;  // abandoned
  if (result.ok()) {
    job->state = JobState::kSucceeded;
    job->result = *std::move(result);
    stats_.jobs_succeeded++;
    JobsTotal().WithLabels({level, "success"}).Inc();
    JobDuration().WithLabels({level}).Observe(absl::ToDoubleSeconds(end - start));
    const CompactionJobResult& r = job->result;
    Bytes().WithLabels({level, "read"}).Inc(static_cast<double>(r.input_bytes));
    Bytes().WithLabels({level, "written"}).Inc(static_cast<double>(r.output_bytes));
    Rows().WithLabels({level, "read"}).Inc(static_cast<double>(r.input_rows));
    Rows().WithLabels({level, "written"}).Inc(static_cast<double>(r.output_rows));
    Rows().WithLabels({level, "duplicate"}).Inc(static_cast<double>(r.duplicate_rows));
    if (job->spec.compaction_level() == 0) {
      for (const std::string& id : job->spec.source_blocks()) {
        if (absl::StatusOr<Ulid> u = ParseUlid(id); u.ok()) {
          TimeToCompaction().WithLabels({}).Observe(std::max(
              0.0, absl::ToDoubleSeconds(end -
                                         absl::FromUnixMillis(static_cast<int64_t>(u->TimeMs())))));
        }
      }
    }
    log::Info("compaction job done", {{"job", job->spec.name()},
                                      {"outputs", r.outputs.size()},
                                      {"read_bytes", r.input_bytes},
                                      {"written_bytes", r.output_bytes},
                                      {"duplicates", r.duplicate_rows},
                                      {"seconds", absl::ToDoubleSeconds(end - start)}});
  } else {
    job->state = JobState::kFailed;
    job->error = std::string(result.status().ToString());
    stats_.jobs_failed++;
    JobsTotal().WithLabels({level, "failure"}).Inc();
    log::Warn("compaction job failed", {{"job", job->spec.name()}, {"err", result.status()}});
  }
}

void CompactionWorker::CleanupLoop() {
  for (;;) {
    v1::BlockTombstones tombstone;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return exit_ || !cleanup_.empty(); });
      if (exit_) return;
      tombstone = std::move(cleanup_.front());
      cleanup_.pop_front();
    }
    absl::Status s = Clean(tombstone);
    std::lock_guard<std::mutex> lock(mu_);
    if (!s.ok()) {
      // Not reported: the metastore hands the tombstone out again after its lease.
      log::Warn("compaction-worker: deleting a tombstone's objects failed",
                {{"tombstone", tombstone.name()}, {"err", s}});
      continue;
    }
    cleaned_.push_back(tombstone.name());
    stats_.tombstones_cleaned++;
    stats_.objects_deleted += static_cast<uint64_t>(tombstone.blocks_size());
  }
}

absl::Status CompactionWorker::Clean(const v1::BlockTombstones& tombstone) {
  // Segments (tenant "") live under segments/, every compacted level under blocks/.
  const uint32_t level =
      tombstone.tenant().empty() ? 0 : std::max(1u, tombstone.compaction_level());
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (exit_) return absl::CancelledError("stopping");
  }
  // One batch: S3 deletes up to 1,000 keys a request.
  std::vector<std::string> keys;
  keys.reserve(static_cast<size_t>(tombstone.blocks_size()));
  for (const std::string& id : tombstone.blocks()) {
    keys.push_back(block::ObjectKey(level, tombstone.shard(), tombstone.tenant(), id));
  }
  absl::Status s = bucket_->DeleteMany(keys);
  Deleted().WithLabels({s.ok() ? "deleted" : "error"}).Inc(static_cast<double>(keys.size()));
  return s;
}

}  // namespace embers::compactor
