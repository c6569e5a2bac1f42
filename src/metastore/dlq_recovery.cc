#include "metastore/dlq_recovery.h"

#include <future>
#include <string>
#include <vector>

#include "base/logging.h"
#include "base/metrics.h"
#include "base/strings.h"
#include "base/ulid.h"
#include "block/object_reader.h"
#include "block/object_writer.h"

namespace embers::metastore {
namespace {

metrics::CounterFamily& Recovered() {
  static auto& c = metrics::Registry::Global().Counter(
      "embers_metastore_dlq_recovered_blocks_total",
      "Blocks whose parked metadata was re-added to the index from dlq/.");
  return c;
}
metrics::CounterFamily& Discarded() {
  static auto& c = metrics::Registry::Global().Counter(
      "embers_metastore_dlq_discarded_total",
      "dlq/ entries deleted without indexing anything, by reason (unparsable: neither the entry "
      "nor its object's footer is readable metadata; rejected: the index refused it).",
      {"reason"});
  return c;
}

// The segment a DLQ key parks metadata of: dlq/<shard>/<tenant>/<ULID>/meta.pb names
// segments/<shard>/anonymous/<ULID>/block.bin (empty when the key has another shape).
std::string SegmentKeyOf(std::string_view dlq_key) {
  std::vector<std::string_view> parts = Split(dlq_key, '/');
  int64_t shard = 0;
  if (parts.size() != 5 || parts[0] != "dlq" || parts[4] != "meta.pb" ||
      !ParseInt64(parts[1], &shard) || shard < 0 || !ParseUlid(parts[3]).ok()) {
    return "";
  }
  return block::ObjectKey(0, static_cast<uint32_t>(shard), "", parts[3]);
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
  size_t removed = 0;  // entries recovered or discarded: no longer parked
  for (const std::string& key : keys) {
    absl::StatusOr<std::string> bytes = bucket_->Get(key);
    if (!bytes.ok()) {
      log::Warn("DLQ object unreadable; will retry", {{"key", key}, {"error", bytes.status()}});
      continue;
    }
    v1::AddBlockRequest request;
    if (!request.mutable_block()->ParseFromString(*bytes)) {
      // The object's own footer holds the same metadata: recover from it when it is readable.
      const std::string segment = SegmentKeyOf(key);
      absl::StatusOr<block::ObjectReader> reader =
          segment.empty() ? absl::NotFoundError("not a DLQ key")
                          : block::ObjectReader::Open(bucket_, segment);
      if (reader.ok()) {
        *request.mutable_block() = reader->meta();
        log::Warn("DLQ entry is not block metadata; recovering from the object's footer",
                  {{"key", key}, {"object", segment}});
      } else if (absl::IsNotFound(reader.status()) || absl::IsDataLoss(reader.status()) ||
                 absl::IsFailedPrecondition(reader.status())) {
        // Nothing left to recover: keeping the entry would only repeat this every pass.
        log::Error("DLQ entry and its object are unreadable; deleting the entry",
                   {{"key", key}, {"bytes", bytes->size()}, {"object_error", reader.status()}});
        Discarded().WithLabels({"unparsable"}).Inc();
        ++removed;
        if (absl::Status del = bucket_->Delete(key); !del.ok()) {
          log::Warn("DLQ entry not deleted", {{"key", key}, {"error", del}});
        }
        continue;
      } else {
        log::Warn("DLQ entry unparsable and its object unreachable; will retry",
                  {{"key", key}, {"error", reader.status()}});
        continue;
      }
    }
    v1::AddBlockResponse response;
    std::promise<absl::Status> added;
    CallContext ctx;
    ctx.tenant = "anonymous";
    index_->AddBlock(ctx, request, &response, [&added](absl::Status st) { added.set_value(st); });
    absl::Status st = added.get_future().get();
    if (absl::IsInvalidArgument(st)) {
      // Every replica would refuse it again.
      log::Error("DLQ block rejected by the index; deleting the entry",
                 {{"key", key}, {"error", st}});
      Discarded().WithLabels({"rejected"}).Inc();
      ++removed;
      if (absl::Status del = bucket_->Delete(key); !del.ok()) {
        log::Warn("DLQ entry not deleted", {{"key", key}, {"error", del}});
      }
      continue;
    }
    if (!st.ok()) {
      log::Warn("DLQ block could not be indexed; will retry", {{"key", key}, {"error", st}});
      continue;
    }
    if (absl::Status del = bucket_->Delete(key); !del.ok()) {
      log::Warn("DLQ object indexed but not deleted", {{"key", key}, {"error", del}});
    }
    ++recovered;
    ++removed;
    Recovered().WithLabels({}).Inc();
    log::Info("recovered block from the DLQ", {{"block", request.block().id()}, {"key", key}});
  }
  parked_.store(static_cast<int64_t>(keys.size() - removed), std::memory_order_relaxed);
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
