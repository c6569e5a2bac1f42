// Test and benchmark helper: builds BlockMeta messages from plain strings, interning them into
// the block's string table the way a segment-writer does. Not part of the library.
#ifndef EMBERS_METASTORE_INDEX_TEST_BLOCKS_H_
#define EMBERS_METASTORE_INDEX_TEST_BLOCKS_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "metastore/index/block_id.h"
#include "metastore/v1/types.pb.h"

namespace embers::metastore::testing {

using LabelSet = std::vector<std::pair<std::string, std::string>>;

struct DatasetSpec {
  std::string tenant;
  std::string service;
  int64_t min_time = 0;
  int64_t max_time = 0;
  std::vector<LabelSet> label_sets;
  uint64_t size = 100;
};

// A valid ULID string for a creation time and a sequence number.
inline std::string TestId(int64_t time_ms, uint64_t seq) {
  BlockId id;
  id.hi = (static_cast<uint64_t>(time_ms) << 16) | (seq >> 48 & 0xffff);
  id.lo = seq;
  return id.ToString();
}

class BlockBuilder {
 public:
  BlockBuilder(std::string id, std::string tenant, uint32_t shard, uint32_t level = 0) {
    meta_.set_format_version(1);
    meta_.set_id(std::move(id));
    meta_.add_string_table("");
    strings_[""] = 0;
    meta_.set_tenant(Ref(tenant));
    meta_.set_shard(shard);
    meta_.set_compaction_level(level);
    meta_.set_created_by(Ref("writer-1"));
    meta_.set_min_time(INT64_MAX);
    meta_.set_max_time(INT64_MIN);
  }

  BlockBuilder& Add(const DatasetSpec& spec) {
    v1::Dataset* d = meta_.add_datasets();
    d->set_tenant(Ref(spec.tenant));
    d->set_name(Ref(spec.service));
    d->set_min_time(spec.min_time);
    d->set_max_time(spec.max_time);
    d->set_size(spec.size);
    d->add_table_of_contents(offset_);
    d->add_table_of_contents(offset_ + spec.size / 2);
    offset_ += spec.size;
    for (const LabelSet& set : spec.label_sets) {
      d->add_labels(static_cast<int32_t>(set.size()));
      for (const auto& [k, v] : set) {
        d->add_labels(Ref(k));
        d->add_labels(Ref(v));
      }
    }
    meta_.set_min_time(std::min(meta_.min_time(), spec.min_time));
    meta_.set_max_time(std::max(meta_.max_time(), spec.max_time));
    meta_.set_size(offset_ + 64);
    return *this;
  }

  v1::BlockMeta Build() const {
    v1::BlockMeta m = meta_;
    if (m.datasets_size() == 0) {
      m.set_min_time(0);
      m.set_max_time(0);
    }
    return m;
  }

 private:
  int32_t Ref(const std::string& s) {
    auto [it, inserted] = strings_.emplace(s, meta_.string_table_size());
    if (inserted) meta_.add_string_table(s);
    return it->second;
  }

  v1::BlockMeta meta_;
  std::map<std::string, int32_t> strings_;
  uint64_t offset_ = 0;
};

}  // namespace embers::metastore::testing

#endif  // EMBERS_METASTORE_INDEX_TEST_BLOCKS_H_
