#include "objstore/local_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

#include "base/strings.h"

namespace embers::objstore {
namespace {

absl::Status FileError(int err, std::string_view op, std::string_view path) {
  absl::StatusCode code = absl::StatusCode::kInternal;
  if (err == ENOENT || err == ENOTDIR) code = absl::StatusCode::kNotFound;
  if (err == EACCES || err == EPERM) code = absl::StatusCode::kPermissionDenied;
  if (err == EISDIR) code = absl::StatusCode::kFailedPrecondition;
  if (err == EMFILE || err == ENFILE || err == ENOMEM) code = absl::StatusCode::kResourceExhausted;
  return absl::Status(
      code, StrCat(op, " local file \"", path, "\": ", std::generic_category().message(err)));
}

}  // namespace

absl::StatusOr<LocalFileReader> LocalFileReader::Open(const std::string& path) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return FileError(errno, "open", path);
  LocalFileReader file(fd, 0, path);
  struct stat st;
  if (::fstat(fd, &st) != 0) return FileError(errno, "stat", path);
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(StrCat("local file \"", path, "\" is not a regular file"));
  }
  file.size_ = static_cast<uint64_t>(st.st_size);
  return file;
}

LocalFileReader::LocalFileReader(LocalFileReader&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), size_(other.size_), path_(std::move(other.path_)) {}

LocalFileReader& LocalFileReader::operator=(LocalFileReader&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    size_ = other.size_;
    path_ = std::move(other.path_);
  }
  return *this;
}

LocalFileReader::~LocalFileReader() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status LocalFileReader::ReadError(int err) const { return FileError(err, "read", path_); }

absl::StatusOr<size_t> LocalFileReader::ReadAt(uint64_t offset, char* buffer, size_t length) const {
  for (;;) {
    ssize_t n = ::pread(fd_, buffer, length, static_cast<off_t>(offset));
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return ReadError(errno);
  }
}

absl::StatusOr<std::string> LocalFileReader::ReadAll() const {
  std::string data(size_, '\0');
  size_t done = 0;
  while (done < data.size()) {
    absl::StatusOr<size_t> n = ReadAt(done, data.data() + done, data.size() - done);
    if (!n.ok()) return n.status();
    if (*n == 0) break;  // shrank since it was opened
    done += *n;
  }
  data.resize(done);
  return data;
}

}  // namespace embers::objstore
