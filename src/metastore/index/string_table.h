// StringTable: interned strings of one index shard.
//
// Every string of a stored block (tenant, service, writer, label names and values) becomes a
// 32-bit id into the table of the shard that holds the block. Ids are assigned in insertion
// order, so replicas that apply the same commands (and a node restored from a snapshot, which
// stores the table in order) hold identical tables. Label matching then compares integers, and a
// selector naming a string the shard has never seen rules the whole shard out at once. Entry 0
// is always "", as in BlockMeta.string_table. Not thread-safe: guarded by the BlockIndex lock.
#ifndef EMBERS_METASTORE_INDEX_STRING_TABLE_H_
#define EMBERS_METASTORE_INDEX_STRING_TABLE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>

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
    // The key views the stored copy, not the caller's buffer: a deque never moves its elements
    // on emplace_back, so the view stays valid.
    const std::string& stored = strings_.emplace_back(s);
    uint32_t id = static_cast<uint32_t>(strings_.size() - 1);
    ids_.emplace(std::string_view(stored), id);
    return id;
  }

  uint32_t Find(std::string_view s) const {
    auto it = ids_.find(s);
    return it == ids_.end() ? kNotFound : it->second;
  }

  std::string_view Get(uint32_t id) const { return strings_[id]; }
  uint32_t size() const { return static_cast<uint32_t>(strings_.size()); }

 private:
  std::deque<std::string> strings_;
  absl::flat_hash_map<std::string_view, uint32_t, std::hash<std::string_view>> ids_;
};

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_INDEX_STRING_TABLE_H_
