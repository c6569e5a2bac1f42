// DatasetKey: a (tenant, dataset) pair as the key of hash maps that are looked up with
// string_views — the usage statistics (DatasetUsage) and the shard allocators (AdaptivePlacement)
// are found from the strings of a block's string table without building a key per lookup.
#ifndef EMBERS_METASTORE_PLACEMENT_DATASET_KEY_H_
#define EMBERS_METASTORE_PLACEMENT_DATASET_KEY_H_

#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"

namespace embers::metastore {

using DatasetKey = std::pair<std::string, std::string>;
using DatasetRef = std::pair<std::string_view, std::string_view>;

// Transparent hash and equality: a DatasetRef finds the DatasetKey with the same strings (absl
// hashes a std::string and a string_view of the same bytes alike).
struct DatasetKeyHash {
  using is_transparent = void;
  size_t operator()(DatasetRef r) const { return absl::HashOf(r.first, r.second); }
  size_t operator()(const DatasetKey& k) const { return (*this)(DatasetRef(k.first, k.second)); }
};

struct DatasetKeyEq {
  using is_transparent = void;
  static DatasetRef Ref(DatasetRef r) { return r; }
  static DatasetRef Ref(const DatasetKey& k) { return DatasetRef(k.first, k.second); }
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return Ref(a) == Ref(b);
  }
};

template <typename V>
using DatasetMap = absl::flat_hash_map<DatasetKey, V, DatasetKeyHash, DatasetKeyEq>;

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_PLACEMENT_DATASET_KEY_H_
