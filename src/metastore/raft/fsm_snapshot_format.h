// The container format of MetastoreFsm snapshots: tagged, checksummed sections, one per part of
// the replicated state (the FSM's own header, the BlockIndex, the compaction planner).
//
// MetastoreFsm writes it from a capture on the consensus engine's snapshot thread and reads it
// in Restore. Each part encodes its own section; the container only frames them, so adding a
// part of the state is a new FsmSection tag plus one writer call and one reader lookup.
//
// Version 4 (written): "EMFS" | fixed32 LE version (4) | one zstd frame (level 1) of
//   { fixed32 tag | { fixed32 length (> 0) | bytes }* | fixed32 0 | fixed64 XXH64(section) }*
// with tags ascending; a section is the concatenation of its fragments. Fragments let a part be
// streamed through the compressor as it is encoded (the index in ~1 MiB pieces), so the
// uncompressed state — 262 MB at 2 M blocks — never exists as a whole: building it took 64 k page
// faults per snapshot on the idle-priority serialiser, each under the address-space lock (see
// snapshot_output.h). Compressing on our idle-priority thread also shrinks what libraft writes
// and fsyncs at normal priority next to the Raft log (40 MB instead of 262 at 2 M blocks).
// Version 3 (read only): "EMFS" | fixed32 3 | fixed64 length of the sections | one zstd frame of
//   the version-2 sections.
// Version 2 (read only): "EMFS" | fixed32 LE version (2) | the sections:
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
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "metastore/raft/snapshot_output.h"

struct ZSTD_CCtx_s;
typedef struct ZSTD_CCtx_s ZSTD_CCtx;

namespace embers::metastore::raft {

// Section tags. Never reuse or renumber one: old snapshots stay readable.
enum class FsmSection : uint32_t {
  kHeader = 1,      // RaftSnapshotHeader: applied index, leader time, dedup window, node endpoints
  kIndex = 2,       // BlockIndex snapshot (block_index_snapshot.cc)
  kCompaction = 3,  // CompactionState::Encode (compaction_state.h): queued blocks and jobs
};

// Reusable state of a snapshot writer: the compressor (its window and tables are a few MB that
// would otherwise be allocated, and faulted in, by every snapshot) and a staging buffer for small
// writes. One writer at a time.
class FsmSnapshotScratch {
 public:
  FsmSnapshotScratch();
  ~FsmSnapshotScratch();
  FsmSnapshotScratch(const FsmSnapshotScratch&) = delete;
  FsmSnapshotScratch& operator=(const FsmSnapshotScratch&) = delete;

 private:
  friend class FsmSnapshotWriter;
  ZSTD_CCtx* cctx_;
  std::string staging_;
};

// Builds a version-4 snapshot into a SnapshotOutput. Sections must be added in ascending tag
// order; Finish ends the frame.
class FsmSnapshotWriter {
 public:
  // Receives a section's bytes piece by piece, in order.
  using Sink = absl::FunctionRef<void(std::string_view)>;

  // Both must outlive the writer.
  FsmSnapshotWriter(FsmSnapshotScratch* scratch, SnapshotOutput* out);
  // Writes section `tag`: `write` passes its bytes to the sink it is given, in pieces of any
  // size (pieces of about a MB stream best: smaller ones are staged, larger ones compressed in
  // place).
  void AddSection(FsmSection tag, absl::FunctionRef<void(Sink)> write);
  // Ends the compressed frame. The output holds the whole snapshot afterwards.
  void Finish();
  // Bytes of the sections before compression.
  size_t sections_bytes() const { return sections_bytes_; }

 private:
  void Put(std::string_view bytes);  // through the staging buffer
  void Compress(std::string_view bytes, bool end);
  void FlushStaging(bool end);

  FsmSnapshotScratch& scratch_;
  SnapshotOutput& out_;
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
