// The container format of MetastoreFsm snapshots: tagged, length-prefixed, checksummed
// sections, one per part of the replicated state (the FSM's own header, the BlockIndex, ...).
//
// MetastoreFsm writes it from a capture on the consensus engine's snapshot thread and reads it
// in Restore. Each part encodes its own section; the container only frames them, so adding a
// part of the state is a new FsmSection tag plus one writer call and one reader lookup.
//
// Version 3 (written): "EMFS" | fixed32 LE version (3) | fixed64 LE length of the sections |
//   one zstd frame (level 1) of the sections below. libraft writes and fsyncs the snapshot on its
//   own threads at normal priority, next to the Raft log: at 2 M blocks the 260 MB it wrote held
//   up every log fsync (AddBlock p99 222 ms while a file was written). Compressing on our
//   idle-priority serialiser thread shrinks what libraft writes (50 similar blocks: over 2x).
// Version 2 (read only): "EMFS" | fixed32 LE version (2) | the sections.
// The sections:
//   { fixed32 tag | fixed64 length | bytes | fixed64 XXH64(bytes, seed 0) }*   tags ascending
// Version 1 (read only): "EMFS" | fixed32 1 | fixed32 header length | RaftSnapshotHeader |
// BlockIndex snapshot, read as the sections kHeader and kIndex.
//
// A snapshot with a version or a section tag this build does not know is refused (DataLoss):
// every section is replicated state, so skipping one would silently diverge from the leader.
#ifndef EMBERS_METASTORE_RAFT_FSM_SNAPSHOT_FORMAT_H_
#define EMBERS_METASTORE_RAFT_FSM_SNAPSHOT_FORMAT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"

namespace embers::metastore::raft {

// Section tags. Never reuse or renumber one: old snapshots stay readable.
enum class FsmSection : uint32_t {
  kHeader = 1,      // RaftSnapshotHeader: applied index, leader time, dedup window, node endpoints
  kIndex = 2,       // BlockIndex snapshot (block_index_snapshot.cc)
  kCompaction = 3,  // CompactionState::Encode (compaction_state.h): queued blocks and jobs
};

// Builds a version-3 snapshot. Sections must be added in ascending tag order.
class FsmSnapshotWriter {
 public:
  // `expected_bytes`: reserved up front. Growing a string of hundreds of MB step by step copies
  // and unmaps each old buffer; the unmapping blocks every other thread's page faults while a
  // low-priority serialiser holds the address-space lock.
  explicit FsmSnapshotWriter(size_t expected_bytes = 0);
  // Appends section `tag`; `write` appends the section's bytes to the string it is given (the
  // snapshot itself, so large parts are not copied).
  void AddSection(FsmSection tag, absl::FunctionRef<void(std::string*)> write);
  // Compresses the sections. `compress = false` writes version 2 (tests of the reader), moving
  // the sections out. Otherwise the writer keeps the uncompressed sections until it is destroyed:
  // freeing hundreds of MB unmaps them, holding the address-space lock, so a low-priority
  // serialiser should leave that to a normal-priority thread.
  std::string Finish(bool compress = true);
  // Bytes of the sections, uncompressed (what the next snapshot's writer should reserve).
  size_t sections_bytes() const { return sections_bytes_; }

 private:
  std::string out_;                     // the sections
  std::unique_ptr<char[]> compressed_;  // Finish's scratch, kept like out_
  size_t sections_bytes_ = 0;
  uint32_t last_tag_ = 0;
};

// The sections of a snapshot (views into `snapshot`, or into `*storage` where the snapshot is
// compressed: it must outlive them), after checking magic, version, framing and checksums.
// DataLoss naming the problem otherwise, including an unknown version or tag.
absl::StatusOr<std::map<FsmSection, std::string_view>> ParseFsmSnapshot(std::string_view snapshot,
                                                                        std::string* storage);

}  // namespace embers::metastore::raft

#endif  // EMBERS_METASTORE_RAFT_FSM_SNAPSHOT_FORMAT_H_
