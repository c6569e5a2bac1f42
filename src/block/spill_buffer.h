// SpillBuffer: bytes written once, in order, then copied on or uploaded; held in memory up to a
// bound and in a temporary file beyond it.
//
// Compaction's output can be larger than a worker's memory: it writes each output dataset's
// profile chunks into one while it merges (they can only be placed in the object once the series
// section before them is known) and assembles each output object in another before uploading it
// with Bucket::PutFile. The segment-writer's datasets and objects use memory-only ones (the
// default constructor), so both paths share DatasetWriter and ObjectWriter.
//
// I/O errors are sticky: the first is kept in status() and later writes are dropped, so writers
// append without checking each time and the owner checks once, before using the bytes. The file
// is removed when the buffer is destroyed.
#ifndef EMBERS_BLOCK_SPILL_BUFFER_H_
#define EMBERS_BLOCK_SPILL_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "objstore/bucket.h"

namespace embers::block {

class SpillBuffer {
 public:
  // Memory only: never spills, never fails.
  SpillBuffer() = default;
  // Moves its bytes to a new file in `temp_dir` (which must exist) once holding them in memory
  // would take more than `memory_limit` bytes.
  SpillBuffer(std::string temp_dir, size_t memory_limit);
  SpillBuffer(SpillBuffer&& other) noexcept;
  SpillBuffer& operator=(SpillBuffer&& other) noexcept;
  SpillBuffer(const SpillBuffer&) = delete;
  SpillBuffer& operator=(const SpillBuffer&) = delete;
  ~SpillBuffer();

  void Append(std::string_view bytes);
  // Appends every byte of `from`, extending `*crc` (Crc32cExtend) over them. A read error of
  // `from` (or its own sticky error) becomes this buffer's error.
  void AppendFrom(const SpillBuffer& from, uint32_t* crc);

  // Stores the bytes as `key`: Put from memory, PutFile from the spill file.
  absl::Status Upload(objstore::Bucket* bucket, std::string_view key) const;

  const absl::Status& status() const { return status_; }
  uint64_t size() const { return size_; }
  bool spilled() const { return fd_ >= 0; }
  // Bytes held in memory (capacity), for memory accounting.
  size_t MemoryBytes() const { return memory_.capacity(); }
  // The bytes, when not spilled.
  std::string_view memory() const { return memory_; }
  std::string TakeMemory() { return std::move(memory_); }

 private:
  void Fail(absl::Status status);
  void RemoveFile();
  // Creates the file and moves the bytes held in memory to it.
  void Spill();
  void Write(std::string_view bytes);

  std::string temp_dir_;  // empty: memory only
  size_t memory_limit_ = 0;
  std::string memory_;
  int fd_ = -1;
  std::string path_;
  uint64_t size_ = 0;
  absl::Status status_;
};

}  // namespace embers::block

#endif  // EMBERS_BLOCK_SPILL_BUFFER_H_
