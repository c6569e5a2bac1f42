// DedupWindow: the results of the last `capacity` request ids MetastoreFsm applied, so that a
// retried proposal (its outcome was unknown, libraft-notes gotcha 3) is answered with its
// recorded result instead of being applied again. Replicated state: part of every snapshot.
//
// Snapshots: Capture() must be cheap because it runs on the Raft apply thread, yet the window
// holds up to 100,000 ids (copying them took several ms, see docs/performance.md). So the ids
// are kept in apply order in chunks of up to kChunk entries held by shared_ptr: a capture copies
// one pointer per chunk and seals the last chunk (the next id starts a new one), evictions only
// advance an offset into the first chunk, and a chunk is never changed once a capture may hold
// it. A capture is then read on the snapshot thread while ids keep being remembered.
//
// Not thread-safe: the FSM's apply thread owns it; a Captured may be read from any thread.
#ifndef EMBERS_METASTORE_RAFT_DEDUP_WINDOW_H_
#define EMBERS_METASTORE_RAFT_DEDUP_WINDOW_H_

#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "metastore/index/block_index.h"  // namespace v1
#include "metastore/v1/raft_log.pb.h"

namespace embers::metastore::raft {

class DedupWindow {
  struct Entry {
    std::string request_id;
    absl::Status result;
  };
  struct Chunk {
    std::vector<Entry> entries;  // capacity kChunk, reserved up front
  };

 public:
  static constexpr size_t kChunk = 1024;

  // An immutable view of the window, in apply order.
  class Captured {
   public:
    // Appends the entries oldest first.
    void AppendTo(google::protobuf::RepeatedPtrField<v1::AppliedRequest>* out) const;
    size_t size() const { return size_; }

   private:
    friend class DedupWindow;
    std::vector<std::shared_ptr<const Chunk>> chunks_;
    size_t front_offset_ = 0;
    size_t size_ = 0;
  };

  explicit DedupWindow(size_t capacity) : capacity_(capacity) {}

  // The recorded result of `request_id`, or null.
  const absl::Status* Find(std::string_view request_id) const;
  // Records a result (for an id not in the window), evicting the oldest beyond the capacity.
  void Remember(std::string_view request_id, const absl::Status& result);
  size_t size() const { return results_.size(); }

  // O(size / kChunk).
  Captured Capture();
  // Replaces the contents (oldest first, as AppendTo wrote them).
  void Restore(const google::protobuf::RepeatedPtrField<v1::AppliedRequest>& requests);

 private:
  size_t capacity_;
  std::deque<std::shared_ptr<Chunk>> chunks_;
  size_t front_offset_ = 0;         // entries of chunks_.front() already evicted
  bool last_chunk_shared_ = false;  // a capture holds chunks_.back(): append to a new one
  absl::flat_hash_map<std::string, absl::Status> results_;
};

}  // namespace embers::metastore::raft

#endif  // EMBERS_METASTORE_RAFT_DEDUP_WINDOW_H_
