// InstrumentedBucket: counts, times and sizes every operation of the bucket it wraps, for
// /metrics (per operation: requests by result, bytes read and written, latency).
//
// OpenBucket (bucket_config.h) wraps every configured backend in one, so the write path, compaction
// and queries report what the store costs them whatever the backend. Labels come from fixed sets
// (operation names, canonical status codes, the backend name), so the series are bounded: 10
// operations × at most 17 results for one backend.
#ifndef EMBERS_OBJSTORE_INSTRUMENTED_BUCKET_H_
#define EMBERS_OBJSTORE_INSTRUMENTED_BUCKET_H_

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "objstore/bucket.h"

namespace embers::objstore {

class InstrumentedBucket : public Bucket {
 public:
  // `backend` labels the series ("filesystem", "memory", "s3").
  InstrumentedBucket(std::unique_ptr<Bucket> inner, std::string backend);

  std::string_view Name() const override { return inner_->Name(); }
  absl::StatusOr<std::string> Get(std::string_view key) override;
  absl::StatusOr<std::string> GetRange(std::string_view key, uint64_t offset,
                                       uint64_t length) override;
  absl::Status Put(std::string_view key, std::string_view data) override;
  absl::Status PutFile(std::string_view key, const std::string& path) override;
  absl::Status Delete(std::string_view key) override;
  // One "delete_many" operation per call, whatever the number of keys.
  absl::Status DeleteMany(std::span<const std::string> keys) override;
  absl::StatusOr<bool> Exists(std::string_view key) override;
  absl::StatusOr<uint64_t> Size(std::string_view key) override;
  absl::Status List(std::string_view prefix, ListCallback callback) override;

 private:
  std::unique_ptr<Bucket> inner_;
  const std::string backend_;
};

}  // namespace embers::objstore

#endif  // EMBERS_OBJSTORE_INSTRUMENTED_BUCKET_H_
