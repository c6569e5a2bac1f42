// PrefixedBucket: presents the keys under "<prefix>/" of another bucket as a bucket of its own.
//
// Used by OpenBucket() when the operator sets `storage.prefix`, so that several Embers clusters
// (or test runs) can share one physical bucket. Keys are validated before the prefix is added,
// so a caller cannot climb out of its prefix with "..".

#ifndef EMBERS_OBJSTORE_PREFIXED_BUCKET_H_
#define EMBERS_OBJSTORE_PREFIXED_BUCKET_H_

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "objstore/bucket.h"

namespace embers::objstore {

class PrefixedBucket final : public Bucket {
 public:
  // `prefix` must be a valid key (ValidateKey); trailing '/' are trimmed first, so "a/b/" and
  // "a/b" are the same prefix. InvalidArgument otherwise.
  static absl::StatusOr<std::unique_ptr<PrefixedBucket>> Create(std::unique_ptr<Bucket> inner,
                                                                std::string_view prefix);

  std::string_view Name() const override { return name_; }
  absl::StatusOr<std::string> Get(std::string_view key) override;
  absl::StatusOr<std::string> GetRange(std::string_view key, uint64_t offset,
                                       uint64_t length) override;
  absl::Status Put(std::string_view key, std::string_view data) override;
  absl::Status PutFile(std::string_view key, const std::string& path) override;
  absl::Status Delete(std::string_view key) override;
  absl::Status DeleteMany(std::span<const std::string> keys) override;
  absl::StatusOr<bool> Exists(std::string_view key) override;
  absl::StatusOr<uint64_t> Size(std::string_view key) override;
  absl::Status List(std::string_view prefix, ListCallback callback) override;

 private:
  PrefixedBucket(std::unique_ptr<Bucket> inner, std::string prefix);

  // "<prefix>/<key>" after validating `key`, or InvalidArgument.
  absl::StatusOr<std::string> Full(std::string_view key) const;

  // Rewrites the inner bucket's NotFound so that it names this bucket and the caller's key, as the
  // Bucket contract promises; other errors keep the inner key, which shows where the data lives.
  template <typename T>
  absl::StatusOr<T> Renamed(absl::StatusOr<T> result, std::string_view key) const;

  const std::unique_ptr<Bucket> inner_;
  const std::string prefix_slash_;  // "<prefix>/"
  const std::string name_;          // "<inner name>/<prefix>"
};

}  // namespace embers::objstore

#endif  // EMBERS_OBJSTORE_PREFIXED_BUCKET_H_
