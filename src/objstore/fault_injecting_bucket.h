// FaultInjectingBucket: wraps a Bucket and fails chosen operations on demand.
//
// For tests of the components that must survive an unavailable object store (segment-writer,
// compaction, queries): they flip `fail_puts`/`fail_gets` and check that clients get a clean
// Unavailable instead of lost data or a hang. Counts calls so tests can assert how many objects
// were written.
#ifndef EMBERS_OBJSTORE_FAULT_INJECTING_BUCKET_H_
#define EMBERS_OBJSTORE_FAULT_INJECTING_BUCKET_H_

#include <atomic>
#include <memory>
#include <span>
#include <string>

#include "objstore/bucket.h"

namespace embers::objstore {

class FaultInjectingBucket final : public Bucket {
 public:
  explicit FaultInjectingBucket(std::unique_ptr<Bucket> inner) : inner_(std::move(inner)) {}

  std::atomic<bool> fail_puts{false};
  std::atomic<bool> fail_gets{false};
  std::atomic<int64_t> puts{0};

  std::string_view Name() const override { return inner_->Name(); }
  absl::StatusOr<std::string> Get(std::string_view key) override {
    if (fail_gets) return Injected("get", key);
    return inner_->Get(key);
  }
  absl::StatusOr<std::string> GetRange(std::string_view key, uint64_t offset,
                                       uint64_t length) override {
    if (fail_gets) return Injected("get", key);
    return inner_->GetRange(key, offset, length);
  }
  absl::Status Put(std::string_view key, std::string_view data) override {
    ++puts;
    if (fail_puts) return Injected("put", key);
    return inner_->Put(key, data);
  }
  absl::Status PutFile(std::string_view key, const std::string& path) override {
    ++puts;
    if (fail_puts) return Injected("put", key);
    return inner_->PutFile(key, path);
  }
  absl::Status Delete(std::string_view key) override { return inner_->Delete(key); }
  absl::Status DeleteMany(std::span<const std::string> keys) override {
    return inner_->DeleteMany(keys);
  }
  absl::StatusOr<bool> Exists(std::string_view key) override {
    if (fail_gets) return Injected("exists", key);
    return inner_->Exists(key);
  }
  absl::StatusOr<uint64_t> Size(std::string_view key) override {
    if (fail_gets) return Injected("size", key);
    return inner_->Size(key);
  }
  absl::Status List(std::string_view prefix, ListCallback callback) override {
    if (fail_gets) return Injected("list", prefix);
    return inner_->List(prefix, callback);
  }

 private:
  static absl::Status Injected(std::string_view op, std::string_view key) {
    return absl::UnavailableError(std::string("injected fault: ") + std::string(op) + " " +
                                  std::string(key));
  }
  std::unique_ptr<Bucket> inner_;
};

}  // namespace embers::objstore

#endif  // EMBERS_OBJSTORE_FAULT_INJECTING_BUCKET_H_
