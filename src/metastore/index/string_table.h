// StringTable: interned strings of one index shard.
//
// Every string of a stored block (tenant, service, writer, label names and values) becomes a
// 32-bit id into the table of the shard that holds the block. Ids are assigned in insertion
// order, so replicas that apply the same commands (and a node restored from a snapshot, which
// stores the table in order) hold identical tables. Label matching then compares integers, and a
// selector naming a string the shard has never seen rules the whole shard out at once. Entry 0
// is always "", as in BlockMeta.string_table.
//
// Snapshots: a table only grows, and a stored string never moves (segments of doubling size
// under a fixed directory; nothing is reallocated on append). So a snapshot capture
// (BlockIndex::Capture) records size() and may read the ids below it from another thread while
// Intern keeps appending on the apply thread: the two never touch the same memory. For the same
// reason the copy-on-write copies of a shard share one table instead of copying it.
//
// Not thread-safe otherwise: Intern and Find are guarded by the BlockIndex lock.
#ifndef EMBERS_METASTORE_INDEX_STRING_TABLE_H_
#define EMBERS_METASTORE_INDEX_STRING_TABLE_H_

#include <array>
#include <bit>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"

namespace embers::metastore {

class StringTable {
 public:
  static constexpr uint32_t kNotFound = UINT32_MAX;

  StringTable() { Intern(""); }
  StringTable(const StringTable&) = delete;
  StringTable& operator=(const StringTable&) = delete;

  uint32_t Intern(std::string_view s) {
    auto it = ids_.find(s);
    if (it != ids_.end()) return it->second;
    const uint32_t id = size_;
    const auto [segment, offset] = Locate(id);
    if (offset == 0) segments_[segment] = std::make_unique<std::string[]>(SegmentSize(segment));
    // The key views the stored copy, not the caller's buffer: stored strings never move.
    std::string& stored = segments_[segment][offset];
    stored.assign(s);
    ids_.emplace(std::string_view(stored), id);
    ++size_;
    return id;
  }

  uint32_t Find(std::string_view s) const {
    auto it = ids_.find(s);
    return it == ids_.end() ? kNotFound : it->second;
  }

  // Any thread, for an id below a size() read earlier on the writing thread.
  std::string_view Get(uint32_t id) const {
    const auto [segment, offset] = Locate(id);
    return segments_[segment][offset];
  }
  uint32_t size() const { return size_; }

 private:
  // Segment k holds kFirstSegment << k strings; 28 segments cover every 32-bit id.
  static constexpr uint64_t kFirstSegment = 16;
  static constexpr int kSegments = 28;

  static size_t SegmentSize(int segment) { return kFirstSegment << segment; }

  // Segment k starts at id kFirstSegment * (2^k - 1).
  static std::pair<int, uint64_t> Locate(uint32_t id) {
    const uint64_t x = id / kFirstSegment + 1;
    const int segment = std::bit_width(x) - 1;
    return {segment, id - kFirstSegment * ((uint64_t{1} << segment) - 1)};
  }

  std::array<std::unique_ptr<std::string[]>, kSegments> segments_;
  uint32_t size_ = 0;
  absl::flat_hash_map<std::string_view, uint32_t, std::hash<std::string_view>> ids_;
};

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_INDEX_STRING_TABLE_H_
