// SingleObjectBucket: a read-only Bucket holding exactly one object, either bytes already in
// memory or a local file read by range.
//
// block::ObjectReader reads through a Bucket. `bucket inspect FILE` opens a block.bin copied out of
// a bucket this way (the key is the path as the user typed it, so errors name the file), and
// `bucket verify` runs ObjectReader's footer checks over an object it has already fetched whole,
// without reading it again. Writes are refused: nothing here ever changes the data it checks.
#ifndef EMBERS_CMD_CLI_BUCKET_SINGLE_OBJECT_BUCKET_H_
#define EMBERS_CMD_CLI_BUCKET_SINGLE_OBJECT_BUCKET_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "objstore/bucket.h"
#include "objstore/local_file.h"

namespace embers::cli {

class SingleObjectBucket final : public objstore::Bucket {
 public:
  // The object `key` holding `bytes`.
  SingleObjectBucket(std::string key, std::shared_ptr<const std::string> bytes);
  // The local file at `path` as the object whose key is `path`; read with pread, never whole.
  // LocalFileReader's errors (NotFound, FailedPrecondition for a directory) name the path.
  static absl::StatusOr<std::unique_ptr<SingleObjectBucket>> OpenFile(const std::string& path);

  const std::string& key() const { return key_; }

  std::string_view Name() const override { return name_; }
  absl::StatusOr<std::string> Get(std::string_view key) override;
  absl::StatusOr<std::string> GetRange(std::string_view key, uint64_t offset,
                                       uint64_t length) override;
  absl::Status Put(std::string_view key, std::string_view data) override;
  absl::Status PutFile(std::string_view key, const std::string& path) override;
  absl::Status Delete(std::string_view key) override;
  absl::StatusOr<bool> Exists(std::string_view key) override;
  absl::StatusOr<uint64_t> Size(std::string_view key) override;
  absl::Status List(std::string_view prefix, ListCallback callback) override;

 private:
  SingleObjectBucket(std::string key, objstore::LocalFileReader file);

  // NotFound unless `key` is this bucket's key.
  absl::Status Check(std::string_view key) const;
  uint64_t size() const { return bytes_ != nullptr ? bytes_->size() : file_->size(); }
  absl::Status ReadOnly() const;

  std::string key_;
  std::string name_;
  std::shared_ptr<const std::string> bytes_;       // the object in memory, or null
  std::optional<objstore::LocalFileReader> file_;  // or the file it is read from
};

}  // namespace embers::cli

#endif  // EMBERS_CMD_CLI_BUCKET_SINGLE_OBJECT_BUCKET_H_
