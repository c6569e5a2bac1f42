// LocalFileReader: a local file opened for reading by the PutFile implementations.
//
// Bucket::PutFile uploads a file the caller assembled (compaction writes its output blocks to a
// temporary file): the filesystem bucket copies it into its own temporary file piece by piece, the
// memory bucket reads it whole. Both open it here, so a missing or unreadable file gives the same
// error, naming the path, whatever the backend.
#ifndef EMBERS_OBJSTORE_LOCAL_FILE_H_
#define EMBERS_OBJSTORE_LOCAL_FILE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace embers::objstore {

class LocalFileReader {
 public:
  // Opens a regular file. NotFound when it does not exist, FailedPrecondition when it is not a
  // regular file, another code for other errors; every message names `path`.
  static absl::StatusOr<LocalFileReader> Open(const std::string& path);

  LocalFileReader(LocalFileReader&& other) noexcept;
  LocalFileReader& operator=(LocalFileReader&& other) noexcept;
  LocalFileReader(const LocalFileReader&) = delete;
  LocalFileReader& operator=(const LocalFileReader&) = delete;
  ~LocalFileReader();

  int fd() const { return fd_; }
  // The size when opened.
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Reads up to `length` bytes at `offset` into `buffer`; returns how many (0 at end of file).
  absl::StatusOr<size_t> ReadAt(uint64_t offset, char* buffer, size_t length) const;
  // The whole file.
  absl::StatusOr<std::string> ReadAll() const;
  // The error for a failed read of this file (errno `err`).
  absl::Status ReadError(int err) const;

 private:
  LocalFileReader(int fd, uint64_t size, std::string path)
      : fd_(fd), size_(size), path_(std::move(path)) {}

  int fd_ = -1;
  uint64_t size_ = 0;
  std::string path_;
};

}  // namespace embers::objstore

#endif  // EMBERS_OBJSTORE_LOCAL_FILE_H_
