// The bytes of one metastore snapshot as FsmSnapshotWriter produces them: consecutive pieces,
// each in a buffer of its own, handed to libraft as they are (it writes a list of buffers).
//
// Why not a std::string: the snapshot is serialised on an idle-priority thread, and every page
// that thread touches for the first time is a page fault under the process's address-space lock.
// An idle thread preempted while it holds that lock stalls every thread that maps or unmaps
// memory, and behind those every page fault of the process (the Raft loop and gRPC handlers
// included). So the buffers are mapped with their pages populated beforehand (Reserve, called on
// a normal-priority thread), and the serialiser only writes into memory that is already there.
// Buffers are unmapped when the output is destroyed, which the engine does on a normal-priority
// thread too.
#ifndef EMBERS_METASTORE_RAFT_SNAPSHOT_OUTPUT_H_
#define EMBERS_METASTORE_RAFT_SNAPSHOT_OUTPUT_H_

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace embers::metastore::raft {

class SnapshotOutput {
 public:
  SnapshotOutput() = default;
  ~SnapshotOutput();
  SnapshotOutput(SnapshotOutput&& other) noexcept;
  SnapshotOutput& operator=(SnapshotOutput&& other) noexcept;
  SnapshotOutput(const SnapshotOutput&) = delete;
  SnapshotOutput& operator=(const SnapshotOutput&) = delete;

  // Adds a buffer of at least `bytes` with every page faulted in. Throws std::bad_alloc when the
  // memory cannot be mapped.
  void Reserve(size_t bytes);
  // Free space to write into: the rest of the last buffer, or a new buffer of at least
  // `min_bytes` (mapped here, its pages faulted in as they are written) when that one is full.
  std::span<char> Writable(size_t min_bytes = kOverflowBufferBytes);
  // Marks the first `n` bytes of the last Writable() span as written.
  void Commit(size_t n);
  void Append(std::string_view bytes);

  // The written bytes, in order, as views into the buffers (valid while the output lives).
  std::vector<std::string_view> pieces() const;
  size_t size() const { return size_; }
  // Bytes mapped, written or not.
  size_t capacity() const;
  // The pieces joined (tests, tools).
  std::string ToString() const;

  // Size of a buffer added when the reserved ones are full.
  static constexpr size_t kOverflowBufferBytes = size_t{8} << 20;

 private:
  struct Buffer {
    char* data = nullptr;
    size_t capacity = 0;
    size_t used = 0;
  };
  void Map(size_t bytes, bool populate);
  void Release();

  std::vector<Buffer> buffers_;  // written in order; only the last one has free space in use
  size_t current_ = 0;           // the buffer being written
  size_t size_ = 0;
};

}  // namespace embers::metastore::raft

#endif  // EMBERS_METASTORE_RAFT_SNAPSHOT_OUTPUT_H_
