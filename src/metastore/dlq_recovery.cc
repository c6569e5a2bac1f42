#include "metastore/dlq_recovery.h"

#include <future>
#include <string>
#include <vector>

#include "base/logging.h"
#include "base/metrics.h"
#include "base/strings.h"

namespace embers::metastore {
namespace {

metrics::CounterFamily& Recovered() {
  static auto& c = metrics::Registry::Global().Counter(
      "embers_metastore_dlq_recovered_blocks_total",
      "Blocks whose parked metadata was re-added to the index from dlq/.");
  return c;
}

}  // namespace

absl::StatusOr<int> DlqRecovery::RecoverOnce() {
  std::vector<std::string> keys;
  absl::Status listed = bucket_->List("dlq/", [&](std::string_view key) {
    if (key.ends_with("/meta.pb")) keys.emplace_back(key);
    return absl::OkStatus();
  });
  if (!listed.ok()) return listed;
  int recovered = 0;
  for (const std::string& key : keys) {
    absl::StatusOr<std::string> bytes = bucket_->Get(key);
    if (!bytes.ok()) {
      log::Warn("DLQ object unreadable; will retry", {{"key", key}, {"error", bytes.status()}});
      continue;
    }
    v1::AddBlockRequest request;
    if (!request.mutable_block()->ParseFromString(*bytes)) {
      log::Error("DLQ object is not block metadata; leaving it in place", {{"key", key}});
      continue;
    }
    v1::AddBlockResponse response;
    std::promise<absl::Status> added;
    CallContext ctx;
    ctx.tenant = "anonymous";
    index_->AddBlock(ctx, request, &response, [&added](absl::Status st) { added.set_value(st); });
    absl::Status st = added.get_future().get();
    if (!st.ok()) {
      log::Warn("DLQ block could not be indexed; will retry", {{"key", key}, {"error", st}});
      continue;
    }
    if (absl::Status del = bucket_->Delete(key); !del.ok()) {
      log::Warn("DLQ object indexed but not deleted", {{"key", key}, {"error", del}});
    }
    ++recovered;
    Recovered().WithLabels({}).Inc();
    log::Info("recovered block from the DLQ", {{"block", request.block().id()}, {"key", key}});
  }
  return recovered;
}

void DlqRecovery::Start() {
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      lock.unlock();
      if (!active_ || active_()) {
        absl::StatusOr<int> n = RecoverOnce();
        if (!n.ok()) log::Warn("DLQ recovery pass failed", {{"error", n.status()}});
      }
      lock.lock();
      cv_.wait_for(lock, absl::ToChronoNanoseconds(interval_), [this] { return stop_; });
    }
  });
}

void DlqRecovery::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace embers::metastore
