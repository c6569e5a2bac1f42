#include "cmd/cli/bucket/single_object_bucket.h"

#include <algorithm>
#include <utility>

#include "base/strings.h"

namespace embers::cli {

SingleObjectBucket::SingleObjectBucket(std::string key, std::shared_ptr<const std::string> bytes)
    : key_(std::move(key)), name_(StrCat("object:", key_)), bytes_(std::move(bytes)) {
  if (bytes_ == nullptr) bytes_ = std::make_shared<const std::string>();
}

SingleObjectBucket::SingleObjectBucket(std::string key, objstore::LocalFileReader file)
    : key_(std::move(key)), name_(StrCat("file:", key_)), file_(std::move(file)) {}

absl::StatusOr<std::unique_ptr<SingleObjectBucket>> SingleObjectBucket::OpenFile(
    const std::string& path) {
  absl::StatusOr<objstore::LocalFileReader> file = objstore::LocalFileReader::Open(path);
  if (!file.ok()) return file.status();
  return std::unique_ptr<SingleObjectBucket>(new SingleObjectBucket(path, *std::move(file)));
}

absl::Status SingleObjectBucket::Check(std::string_view key) const {
  if (key != key_) return objstore::ObjectNotFoundError(name_, key);
  return absl::OkStatus();
}

absl::Status SingleObjectBucket::ReadOnly() const {
  return absl::FailedPreconditionError(StrCat(name_, " is read-only"));
}

absl::StatusOr<std::string> SingleObjectBucket::Get(std::string_view key) {
  return GetRange(key, 0, size());
}

absl::StatusOr<std::string> SingleObjectBucket::GetRange(std::string_view key, uint64_t offset,
                                                         uint64_t length) {
  if (absl::Status s = Check(key); !s.ok()) return s;
  const uint64_t total = size();
  if (offset > total) return objstore::RangeStartPastEndError(name_, key, offset, total);
  length = std::min(length, total - offset);
  if (bytes_ != nullptr) return bytes_->substr(offset, length);
  std::string out(length, '\0');
  size_t done = 0;
  while (done < length) {
    absl::StatusOr<size_t> n = file_->ReadAt(offset + done, out.data() + done, length - done);
    if (!n.ok()) return n.status();
    if (*n == 0) break;  // the file shrank since it was opened
    done += *n;
  }
  out.resize(done);
  return out;
}

absl::Status SingleObjectBucket::Put(std::string_view, std::string_view) { return ReadOnly(); }

absl::Status SingleObjectBucket::PutFile(std::string_view, const std::string&) {
  return ReadOnly();
}

absl::Status SingleObjectBucket::Delete(std::string_view) { return ReadOnly(); }

absl::StatusOr<bool> SingleObjectBucket::Exists(std::string_view key) { return key == key_; }

absl::StatusOr<uint64_t> SingleObjectBucket::Size(std::string_view key) {
  if (absl::Status s = Check(key); !s.ok()) return s;
  return size();
}

absl::Status SingleObjectBucket::List(std::string_view prefix, ListCallback callback) {
  if (!key_.starts_with(prefix)) return absl::OkStatus();
  return callback(key_);
}

}  // namespace embers::cli
