// DatasetUsage: how fast each dataset (a tenant's service) and each shard ingest, from the blocks
// the segment-writers add to the metastore (adaptive placement, reference §3.5). The leader's
// AdaptivePlacement feeds it from AddBlock and reads it every rules update to size each dataset's
// shard count; the status page shows the same rates.
//
// Rates are bytes per second, smoothed as EWMAs whose half-life is `stats_window` (Pyroscope's
// stats-aggregation-window), per dataset, per shard, and per dataset per shard (so that the
// spread of a dataset over its shards can be reported). Memory is bounded: a dataset or shard
// not written to for `idle_timeout` is forgotten, and at most `max_datasets` datasets are
// tracked — samples of further datasets are ignored (and counted) until others expire. A
// dataset that is not tracked keeps the default shard count, which is always safe.
//
// Thread-safe: samples come from gRPC threads, the leader's loop collects.
#ifndef EMBERS_METASTORE_PLACEMENT_DATASET_USAGE_H_
#define EMBERS_METASTORE_PLACEMENT_DATASET_USAGE_H_

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/time/time.h"
#include "metastore/placement/dataset_key.h"
#include "metastore/placement/ewma_rate.h"
#include "metastore/v1/types.pb.h"

namespace embers::metastore {

namespace v1 = ::metastore::v1;

struct DatasetUsageOptions {
  absl::Duration stats_window = absl::Minutes(3);
  absl::Duration idle_timeout = absl::Minutes(15);
  size_t max_datasets = 100000;
  // Shards tracked in all, and per dataset (a dataset normally writes to its few shards, plus
  // the ones it used before its shard count or the writer count changed, until they go idle).
  size_t max_shards = 4096;
  size_t max_shards_per_dataset = 256;
};

class DatasetUsage {
 public:
  struct DatasetRate {
    std::string tenant;
    std::string dataset;
    double bytes_per_second = 0;
    // Standard deviation of the dataset's per-shard rates over their mean (0 on one shard): how
    // unevenly its series spread over its shards.
    double shard_rel_stddev = 0;
    // Shards the dataset wrote to within the idle timeout.
    uint32_t shards = 0;
    int64_t last_update_ms = 0;
  };
  struct ShardRate {
    uint32_t shard = 0;
    double bytes_per_second = 0;
  };
  struct Snapshot {
    std::vector<DatasetRate> datasets;  // in no particular order
    std::vector<ShardRate> shards;      // sorted by shard id
  };

  explicit DatasetUsage(DatasetUsageOptions options = {});

  // Every dataset of a level-0 block adds its `size` for (its tenant, its name, the block's
  // shard). Compacted blocks are ignored: they rewrite data that was counted when it arrived.
  void RecordBlock(const v1::BlockMeta& block, int64_t now_ms);

  // One sample: what RecordBlock records per dataset.
  void Record(std::string_view tenant, std::string_view dataset, uint32_t shard, uint64_t bytes,
              int64_t now_ms);

  // Forgets what has been idle longer than the idle timeout, then returns the rates at `now_ms`.
  Snapshot Collect(int64_t now_ms);

  // Samples ignored because max_datasets datasets were already tracked.
  uint64_t ignored_samples() const;
  size_t dataset_count() const;

 private:
  struct ShardUsage {
    uint32_t shard;
    EwmaRate rate;
  };
  struct Usage {
    EwmaRate total;
    // Few (usually one: its first is stored inline, saving a cache miss per sample); a linear
    // search beats a map.
    absl::InlinedVector<ShardUsage, 1> shards;
  };

  void ExpireLocked(int64_t now_ms);

  const DatasetUsageOptions options_;
  const int64_t half_life_ms_;
  const int64_t idle_ms_;

  mutable std::mutex mu_;
  DatasetMap<Usage> datasets_;
  absl::flat_hash_map<uint32_t, EwmaRate> shards_;
  uint64_t ignored_samples_ = 0;
  int64_t last_expiry_ms_ = 0;
};

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_PLACEMENT_DATASET_USAGE_H_
