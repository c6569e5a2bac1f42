#include "block/spill_buffer.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <utility>

#include "base/crc32c.h"
#include "base/strings.h"

namespace embers::block {
namespace {

// Reads of a spill file (to copy it on) go through a buffer of this size.
constexpr size_t kCopyPiece = 1 << 20;

absl::Status FileError(int err, std::string_view op, std::string_view path) {
  const absl::StatusCode code = err == ENOSPC || err == EDQUOT || err == EMFILE || err == ENFILE
                                    ? absl::StatusCode::kResourceExhausted
                                    : absl::StatusCode::kInternal;
  return absl::Status(
      code, StrCat("spill file ", path, ": ", op, ": ", std::generic_category().message(err)));
}

}  // namespace

SpillBuffer::SpillBuffer(std::string temp_dir, size_t memory_limit)
    : temp_dir_(std::move(temp_dir)), memory_limit_(memory_limit) {}

SpillBuffer::SpillBuffer(SpillBuffer&& other) noexcept
    : temp_dir_(std::move(other.temp_dir_)),
      memory_limit_(other.memory_limit_),
      memory_(std::move(other.memory_)),
      fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      size_(std::exchange(other.size_, 0)),
      status_(std::move(other.status_)) {
  other.path_.clear();
}

SpillBuffer& SpillBuffer::operator=(SpillBuffer&& other) noexcept {
  if (this != &other) {
    RemoveFile();
    temp_dir_ = std::move(other.temp_dir_);
    memory_limit_ = other.memory_limit_;
    memory_ = std::move(other.memory_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::exchange(other.path_, std::string());
    size_ = std::exchange(other.size_, 0);
    status_ = std::move(other.status_);
  }
  return *this;
}

SpillBuffer::~SpillBuffer() { RemoveFile(); }

void SpillBuffer::RemoveFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!path_.empty()) ::unlink(path_.c_str());
  fd_ = -1;
  path_.clear();
}

void SpillBuffer::Fail(absl::Status status) {
  if (status_.ok()) status_ = std::move(status);
}

void SpillBuffer::Spill() {
  std::string path = StrCat(temp_dir_, "/embers-spill-XXXXXX");
  const int fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) return Fail(FileError(errno, "create", path));
  fd_ = fd;
  path_ = std::move(path);
  std::string held = std::move(memory_);
  memory_ = std::string();  // give the memory back
  Write(held);
}

void SpillBuffer::Write(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(FileError(errno, "write", path_));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

void SpillBuffer::Append(std::string_view bytes) {
  if (!status_.ok() || bytes.empty()) return;
  if (fd_ < 0 && !temp_dir_.empty() && memory_.size() + bytes.size() > memory_limit_) Spill();
  if (fd_ >= 0) {
    Write(bytes);
  } else {
    memory_.append(bytes);
  }
  if (status_.ok()) size_ += bytes.size();
}

void SpillBuffer::AppendFrom(const SpillBuffer& from, uint32_t* crc) {
  if (!from.status_.ok()) return Fail(from.status_);
  if (!from.spilled()) {
    *crc = Crc32cExtend(*crc, from.memory_);
    return Append(from.memory_);
  }
  std::string piece(std::min<uint64_t>(kCopyPiece, from.size_), '\0');
  for (uint64_t offset = 0; offset < from.size_ && status_.ok();) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(piece.size(), from.size_ - offset));
    const ssize_t n = ::pread(from.fd_, piece.data(), want, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return Fail(n == 0 ? absl::InternalError(StrCat("spill file ", from.path_,
                                                      " is shorter "
                                                      "than what was written to it"))
                         : FileError(errno, "read", from.path_));
    }
    const std::string_view got(piece.data(), static_cast<size_t>(n));
    *crc = Crc32cExtend(*crc, got);
    Append(got);
    offset += static_cast<uint64_t>(n);
  }
}

absl::Status SpillBuffer::Upload(objstore::Bucket* bucket, std::string_view key) const {
  if (!status_.ok()) return status_;
  if (!spilled()) return bucket->Put(key, memory_);
  return bucket->PutFile(key, path_);
}

}  // namespace embers::block
