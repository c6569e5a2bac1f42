// ForwardingBucket: a Bucket that passes every call to another one.
//
// The base of wrappers that change one or two operations and leave the rest alone: tests that
// slow down, count or interrupt some calls (the segment-writer's hedged uploads, compaction's
// cancellation) derive from it and override only what they change.
#ifndef EMBERS_OBJSTORE_FORWARDING_BUCKET_H_
#define EMBERS_OBJSTORE_FORWARDING_BUCKET_H_

#include <span>
#include <string>
#include <string_view>

#include "objstore/bucket.h"

namespace embers::objstore {

class ForwardingBucket : public Bucket {
 public:
  // `inner` must outlive this bucket.
  explicit ForwardingBucket(Bucket* inner) : inner_(inner) {}

  std::string_view Name() const override { return inner_->Name(); }
  absl::StatusOr<std::string> Get(std::string_view key) override { return inner_->Get(key); }
  absl::StatusOr<std::string> GetRange(std::string_view key, uint64_t offset,
                                       uint64_t length) override {
    return inner_->GetRange(key, offset, length);
  }
  absl::Status Put(std::string_view key, std::string_view data) override {
    return inner_->Put(key, data);
  }
  absl::Status PutFile(std::string_view key, const std::string& path) override {
    return inner_->PutFile(key, path);
  }
  absl::Status Delete(std::string_view key) override { return inner_->Delete(key); }
  absl::Status DeleteMany(std::span<const std::string> keys) override {
    return inner_->DeleteMany(keys);
  }
  absl::StatusOr<bool> Exists(std::string_view key) override { return inner_->Exists(key); }
  absl::StatusOr<uint64_t> Size(std::string_view key) override { return inner_->Size(key); }
  absl::Status List(std::string_view prefix, ListCallback callback) override {
    return inner_->List(prefix, callback);
  }

 private:
  Bucket* inner_;
};

}  // namespace embers::objstore

#endif  // EMBERS_OBJSTORE_FORWARDING_BUCKET_H_
