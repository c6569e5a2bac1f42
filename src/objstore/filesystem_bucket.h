// FilesystemBucket: a Bucket stored as files under a local directory, one file per object.
//
// The default backend of a single-node `embers -target=all` (under ./data). Key "a/b/c" is the
// file <root>/a/b/c. Put writes a temporary file next to the target, fsyncs it, renames it over
// the target and fsyncs the directory, so readers never see a partial object and an acknowledged
// Put survives a crash. PutFile does the same with the kernel copying the source file into the
// temporary file (copy_file_range), so a large object never passes through memory.
//
// Confinement guarantee: no operation touches anything outside the root. Keys are validated
// (ValidateKey rejects "..", ".", empty segments and absolute keys), and every path below the
// root is resolved one component at a time with openat(O_NOFOLLOW) relative to the parent
// directory, so symbolic links below the root are never followed: a key whose path meets a
// symlink reads as absent (NotFound / false), a Put through one fails with FailedPrecondition,
// and List skips symlinks. (The root itself may be a symlink; it is resolved once, at Open.)
// To put part of the tree on another disk, mount it there instead of symlinking.
//
// Limits of a filesystem, unlike object stores: a key cannot also be a "directory" of other keys
// ("a" and "a/b" cannot both exist; the second Put fails with FailedPrecondition), and each
// segment is limited to NAME_MAX (255) bytes (InvalidArgument). Delete is not fsynced: a crash
// may bring a deleted object back, which callers already tolerate (deletion is garbage
// collection, never a correctness step).

#ifndef EMBERS_OBJSTORE_FILESYSTEM_BUCKET_H_
#define EMBERS_OBJSTORE_FILESYSTEM_BUCKET_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "objstore/bucket.h"

namespace embers::objstore {

class FilesystemBucket final : public Bucket {
 public:
  // Opens (creating it and its parents if missing) the directory `dir` as a bucket.
  static absl::StatusOr<std::unique_ptr<FilesystemBucket>> Open(const std::string& dir);

  ~FilesystemBucket() override;

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

  // Removes temporary files older than `min_age` left behind by a crash during Put, and returns
  // how many it removed. Not automatic: another process may be writing to the same directory,
  // so callers choose an age well beyond the longest Put (e.g. one hour).
  absl::StatusOr<int> RemoveStaleTempFiles(std::chrono::seconds min_age);

  // The absolute path of the root directory.
  const std::string& root() const { return root_; }

 private:
  FilesystemBucket(int root_fd, std::string root);

  // Put's protocol around `write`, which fills the new temporary file `fd`: the file is fsynced
  // and renamed over the key only when `write` succeeds, and removed otherwise.
  absl::Status PutWith(std::string_view key, absl::FunctionRef<absl::Status(int fd)> write);

  // A unique temporary file name (kReservedSegmentPrefix + pid + nonce + counter).
  std::string TempName();

  const int root_fd_;  // the root directory, opened once; all paths resolve relative to it
  const std::string root_;
  const std::string name_;     // "filesystem:<root>"
  const uint64_t temp_nonce_;  // random per instance, so processes sharing a root never collide
  std::atomic<uint64_t> temp_counter_{0};
};

}  // namespace embers::objstore

#endif  // EMBERS_OBJSTORE_FILESYSTEM_BUCKET_H_
