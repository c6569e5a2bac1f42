#include "objstore/instrumented_bucket.h"

#include <sys/stat.h>

#include <chrono>

#include "base/metrics.h"

namespace embers::objstore {
namespace {

metrics::CounterFamily& Operations() {
  static auto& c = metrics::Registry::Global().Counter(
      "embers_objstore_operations_total",
      "Object-storage operations, by backend, operation and result (OK or the status code).",
      {"backend", "operation", "result"});
  return c;
}

metrics::HistogramFamily& Duration() {
  static auto& h = metrics::Registry::Global().Histogram(
      "embers_objstore_operation_duration_seconds",
      "Time an object-storage operation took (retries included), by backend and operation.",
      {"backend", "operation"});
  return h;
}

metrics::CounterFamily& Bytes() {
  static auto& c = metrics::Registry::Global().Counter(
      "embers_objstore_bytes_total",
      "Object bytes read (get, get_range) and written (put, put_file), by backend and operation.",
      {"backend", "operation"});
  return c;
}

// Times one operation and records it when it ends.
class Recording {
 public:
  Recording(const std::string& backend, std::string_view operation)
      : backend_(backend), operation_(operation), start_(std::chrono::steady_clock::now()) {}

  // Records the outcome; `bytes` of object data moved when it succeeded.
  void Done(const absl::Status& status, uint64_t bytes = 0) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const std::string result = status.ok() ? "OK" : absl::StatusCodeToString(status.code());
    Operations().WithLabels({backend_, operation_, result}).Inc();
    Duration().WithLabels({backend_, operation_}).Observe(seconds);
    if (status.ok() && bytes > 0) {
      Bytes().WithLabels({backend_, operation_}).Inc(static_cast<double>(bytes));
    }
  }

 private:
  const std::string& backend_;
  std::string_view operation_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

InstrumentedBucket::InstrumentedBucket(std::unique_ptr<Bucket> inner, std::string backend)
    : inner_(std::move(inner)), backend_(std::move(backend)) {}

absl::StatusOr<std::string> InstrumentedBucket::Get(std::string_view key) {
  Recording r(backend_, "get");
  absl::StatusOr<std::string> out = inner_->Get(key);
  r.Done(out.status(), out.ok() ? out->size() : 0);
  return out;
}

absl::StatusOr<std::string> InstrumentedBucket::GetRange(std::string_view key, uint64_t offset,
                                                         uint64_t length) {
  Recording r(backend_, "get_range");
  absl::StatusOr<std::string> out = inner_->GetRange(key, offset, length);
  r.Done(out.status(), out.ok() ? out->size() : 0);
  return out;
}

absl::Status InstrumentedBucket::Put(std::string_view key, std::string_view data) {
  Recording r(backend_, "put");
  absl::Status st = inner_->Put(key, data);
  r.Done(st, data.size());
  return st;
}

absl::Status InstrumentedBucket::PutFile(std::string_view key, const std::string& path) {
  Recording r(backend_, "put_file");
  absl::Status st = inner_->PutFile(key, path);
  struct stat info;
  const bool sized = st.ok() && ::stat(path.c_str(), &info) == 0;
  r.Done(st, sized ? static_cast<uint64_t>(info.st_size) : 0);
  return st;
}

absl::Status InstrumentedBucket::Delete(std::string_view key) {
  Recording r(backend_, "delete");
  absl::Status st = inner_->Delete(key);
  r.Done(st);
  return st;
}

absl::Status InstrumentedBucket::DeleteMany(std::span<const std::string> keys) {
  Recording r(backend_, "delete_many");
  absl::Status st = inner_->DeleteMany(keys);
  r.Done(st);
  return st;
}

absl::StatusOr<bool> InstrumentedBucket::Exists(std::string_view key) {
  Recording r(backend_, "exists");
  absl::StatusOr<bool> out = inner_->Exists(key);
  r.Done(out.status());
  return out;
}

absl::StatusOr<uint64_t> InstrumentedBucket::Size(std::string_view key) {
  Recording r(backend_, "size");
  absl::StatusOr<uint64_t> out = inner_->Size(key);
  r.Done(out.status());
  return out;
}

absl::Status InstrumentedBucket::List(std::string_view prefix, ListCallback callback) {
  Recording r(backend_, "list");
  absl::Status st = inner_->List(prefix, callback);
  r.Done(st);
  return st;
}

}  // namespace embers::objstore
