// JfrReader: a streaming, allocation-light parser of Java Flight Recorder (JFR) files.
//
// Used by the JFR converter (jfr_to_profiles.h), which turns the profiling events of a recording
// into stack-sample series for /ingest?format=jfr. The reader knows the JFR binary format in
// general (chunk header, self-describing metadata, constant pools, events) and decodes the
// handful of event and constant-pool types a profiler needs; everything else is skipped using
// the metadata's field descriptions.
//
// Format summary (JFR v2, as written by the JDK and async-profiler):
//   file   = chunk+
//   chunk  = header (68 bytes, big-endian) then events; the header gives the chunk size and the
//            offsets of the metadata event and of the last constant-pool (checkpoint) event.
//   event  = varint size (including itself), varlong type id, fields in metadata order.
//            Type 0 is the metadata event, type 1 a checkpoint; checkpoints form a chain
//            through relative offsets.
//   ints   = "compressed": LEB128, at most 9 bytes with the 9th byte contributing 8 bits.
// Constant pools (and so the ids events refer to) are per chunk.
//
// Untrusted input: every read is bounds-checked against the enclosing event, counts are checked
// against the bytes left, recursion is bounded, and errors are InvalidArgument naming the chunk
// and file offset. Strings are string_views into the input buffer (or into the reader's own
// storage for the rare Latin-1/UTF-16 encodings), so the input must outlive the reader.
//
// Usage:
//   JfrReader r(data);
//   while (r.NextChunk()) {
//     JfrEvent ev;
//     while (r.NextEvent(&ev)) { ... r.chunk().FindStackTrace(ev.stack_trace) ... }
//   }
//   if (!r.status().ok()) ...
#ifndef EMBERS_INGEST_JFR_JFR_READER_H_
#define EMBERS_INGEST_JFR_JFR_READER_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"

namespace embers::jfr {

struct JfrChunkHeader {
  uint16_t major = 0;
  uint16_t minor = 0;
  uint64_t size = 0;                  // bytes, including the header
  uint64_t constant_pool_offset = 0;  // relative to the chunk start
  uint64_t metadata_offset = 0;
  int64_t start_nanos = 0;
  int64_t duration_nanos = 0;
  int64_t start_ticks = 0;
  int64_t ticks_per_second = 0;
  uint32_t features = 0;
};

// The event types the reader decodes; all others are skipped.
enum class JfrEventType : uint8_t {
  kExecutionSample,   // jdk.ExecutionSample (cpu / itimer / wall modes of async-profiler)
  kWallClockSample,   // profiler.WallClockSample
  kAllocInNewTlab,    // jdk.ObjectAllocationInNewTLAB
  kAllocOutsideTlab,  // jdk.ObjectAllocationOutsideTLAB
  kAllocSample,       // jdk.ObjectAllocationSample
  kLiveObject,        // profiler.LiveObject
  kMonitorEnter,      // jdk.JavaMonitorEnter
  kThreadPark,        // jdk.ThreadPark
  kActiveSetting,     // jdk.ActiveSetting (async-profiler records its mode as name "event")
  kCount,
};

// One decoded event. Fields the event type does not have are zero / empty. Reference fields
// (thread, stack_trace, state) are constant-pool ids of the current chunk.
struct JfrEvent {
  JfrEventType type = JfrEventType::kCount;
  uint64_t start_time = 0;  // ticks
  uint64_t duration = 0;    // ticks
  uint64_t thread = 0;      // java.lang.Thread (eventThread or sampledThread)
  uint64_t stack_trace = 0;
  uint64_t state = 0;       // jdk.types.ThreadState
  uint64_t context_id = 0;  // async-profiler's Pyroscope context id (0 = none)
  uint64_t tlab_size = 0;
  uint64_t allocation_size = 0;
  uint64_t samples = 0;            // WallClockSample: samples folded into this one
  uint64_t weight = 0;             // ObjectAllocationSample
  std::string_view setting_name;   // ActiveSetting
  std::string_view setting_value;  // ActiveSetting
};

struct JfrStackFrame {
  uint64_t method = 0;  // jdk.types.Method id
  int32_t line = 0;
  int32_t bytecode_index = 0;
  uint64_t type = 0;  // jdk.types.FrameType id
};

struct JfrStackTrace {
  uint32_t first_frame = 0;  // index into the chunk's frame array; frames are leaf first
  uint32_t frame_count = 0;
  bool truncated = false;
};

struct JfrMethod {
  uint64_t class_id = 0;     // java.lang.Class id
  uint64_t name_symbol = 0;  // jdk.types.Symbol id
};

namespace internal {
struct ChunkMetadata;
class Cursor;
}  // namespace internal

// The constant pools of one chunk, resolved by id. Lookups return nullptr / false when the id
// is unknown (broken references are the converter's business, not a parse error).
class JfrChunk {
 public:
  JfrChunk();
  ~JfrChunk();
  JfrChunk(const JfrChunk&) = delete;
  JfrChunk& operator=(const JfrChunk&) = delete;

  const JfrChunkHeader& header() const { return header_; }
  int index() const { return index_; }  // 0-based chunk number in the file
  uint64_t file_offset() const { return offset_; }

  const JfrStackTrace* FindStackTrace(uint64_t id) const;
  std::span<const JfrStackFrame> Frames(const JfrStackTrace& st) const {
    return {frames_.data() + st.first_frame, st.frame_count};
  }
  const JfrMethod* FindMethod(uint64_t id) const;
  // The name symbol of a java.lang.Class; false when the class is unknown.
  bool FindClassName(uint64_t class_id, uint64_t* name_symbol) const;
  // jdk.types.Symbol; false when unknown.
  bool FindSymbol(uint64_t id, std::string_view* out) const;
  // Empty when unknown.
  std::string_view ThreadStateName(uint64_t id) const;
  std::string_view ThreadName(uint64_t id) const;

 private:
  friend class JfrReader;
  void Clear();

  JfrChunkHeader header_;
  int index_ = -1;
  uint64_t offset_ = 0;
  absl::flat_hash_map<uint64_t, uint32_t> stack_trace_index_;
  std::vector<JfrStackTrace> stack_traces_;
  std::vector<JfrStackFrame> frames_;
  absl::flat_hash_map<uint64_t, JfrMethod> methods_;
  absl::flat_hash_map<uint64_t, uint64_t> classes_;  // class id -> name symbol id
  absl::flat_hash_map<uint64_t, std::string_view> symbols_;
  absl::flat_hash_map<uint64_t, std::string_view> thread_states_;
  absl::flat_hash_map<uint64_t, std::string_view> threads_;
  absl::flat_hash_map<uint64_t, std::string_view> strings_;  // java.lang.String pool
};

class JfrReader {
 public:
  // `data` is an uncompressed JFR file; it must outlive the reader and everything read from it.
  explicit JfrReader(std::string_view data);
  ~JfrReader();
  JfrReader(const JfrReader&) = delete;
  JfrReader& operator=(const JfrReader&) = delete;

  // Moves to the next chunk and parses its header, metadata and constant pools. Returns false at
  // the end of the input or on error (then status() says why).
  bool NextChunk();
  // Decodes the next event of a JfrEventType in the current chunk. Returns false at the end of
  // the chunk or on error.
  bool NextEvent(JfrEvent* ev);

  const JfrChunk& chunk() const { return chunk_; }
  const absl::Status& status() const { return status_; }

 private:
  bool ParseHeader(uint64_t pos);
  bool ParseMetadata();
  bool ParseConstantPools();
  bool ParseCheckpoint(uint64_t pos, int64_t* delta);
  bool ParsePool(internal::Cursor& c, uint64_t type_id);
  bool Fail(uint64_t pos, std::string_view what);

  std::string_view data_;
  uint64_t next_chunk_ = 0;  // file offset of the next chunk header
  uint64_t event_pos_ = 0;   // file offset of the next event in the current chunk
  uint64_t chunk_end_ = 0;
  int chunk_count_ = 0;
  // Struct fields the current chunk may still decode: bounds the work on hostile metadata.
  int64_t budget_ = 0;
  bool in_chunk_ = false;
  absl::Status status_;
  JfrChunk chunk_;
  std::unique_ptr<internal::ChunkMetadata> meta_;
  // Owns the bytes of strings that are not stored as UTF-8 in the input.
  std::deque<std::string> owned_strings_;
};

}  // namespace embers::jfr

#endif  // EMBERS_INGEST_JFR_JFR_READER_H_
