#include "objstore/temp_file_sweeper.h"

#include "base/logging.h"
#include "base/metrics.h"
#include "base/worker_pool.h"

namespace embers::objstore {

namespace {

metrics::CounterFamily& Removed() {
  static auto& c = metrics::Registry::Global().Counter(
      "embers_bucket_stale_temp_files_removed_total",
      "Temporary files of interrupted uploads removed from the filesystem bucket.");
  return c;
}

}  // namespace

TempFileSweeper::TempFileSweeper(FilesystemBucket* bucket, std::chrono::seconds min_age,
                                 std::chrono::seconds interval,
                                 std::chrono::seconds first_pass_after)
    : bucket_(bucket), min_age_(min_age), interval_(interval) {
  thread_ = std::thread([this, first_pass_after] { Loop(first_pass_after); });
}

TempFileSweeper::~TempFileSweeper() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void TempFileSweeper::Loop(std::chrono::seconds first_pass_after) {
  SetCurrentThreadName("bucket-sweeper");
  std::chrono::seconds wait = first_pass_after;
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, wait, [this] { return stop_; })) {
    lock.unlock();
    absl::StatusOr<int> removed = bucket_->RemoveStaleTempFiles(min_age_);
    if (!removed.ok()) {
      log::Warn("sweeping stale temporary files failed", {{"err", removed.status()}});
    } else if (*removed > 0) {
      Removed().WithLabels({}).Inc(*removed);
      log::Info("removed stale temporary files of interrupted uploads",
                {{"bucket", bucket_->Name()}, {"files", *removed}});
    }
    lock.lock();
    wait = interval_;
  }
}

}  // namespace embers::objstore
