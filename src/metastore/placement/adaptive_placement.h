// AdaptivePlacement: the metastore leader's side of adaptive placement (reference §3.5). It
// learns how fast each dataset (a tenant's service) ingests from the blocks added to the index,
// and periodically turns that into PlacementRules — per dataset, how many shards the
// distributors should spread its series over — which the leader replicates and the
// distributors apply (distributor/placement_rules_table.h). A service that ingests more than a
// shard can take is spread over more shards, hence more segment-writers; the others stay on
// one shard, so that their data lands in few objects.
//
// Wiring: RecordBlock on every successful AddBlock (any thread); on the leader loop, BuildRules
// every rules update and propose the result when !SameRules(previous, result); Seed once with
// the replicated rules when this node becomes leader; StatusJson for the status page. Pure: no
// clocks, no I/O — the caller passes the times.
#ifndef EMBERS_METASTORE_PLACEMENT_ADAPTIVE_PLACEMENT_H_
#define EMBERS_METASTORE_PLACEMENT_ADAPTIVE_PLACEMENT_H_

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "metastore/placement/dataset_key.h"
#include "metastore/placement/dataset_usage.h"
#include "metastore/placement/shard_allocator.h"
#include "metastore/v1/membership.pb.h"
#include "metastore/v1/types.pb.h"

namespace embers::metastore {

struct AdaptivePlacementOptions {
  // Shards of a dataset without a rule (Pyroscope's adaptive-placement.default-dataset-shards).
  uint32_t default_dataset_shards = 1;
  uint32_t min_dataset_shards = 1;
  uint32_t max_dataset_shards = 32;
  // Bytes per second one shard is meant to take.
  uint64_t unit_size_bytes = 128 << 10;
  // Half-life of the usage rates.
  absl::Duration stats_window = absl::Minutes(3);
  // ShardAllocator's windows: consecutive scale-outs within burst_window step further; a count
  // shrinks only after the load stayed low for a decay window.
  absl::Duration burst_window = absl::Minutes(17);
  absl::Duration decay_window = absl::Minutes(19);
  // A dataset without blocks for this long is forgotten (and falls back to the default).
  absl::Duration dataset_idle_timeout = absl::Minutes(15);
  size_t max_datasets = 100000;
};

class AdaptivePlacement {
 public:
  explicit AdaptivePlacement(AdaptivePlacementOptions options = {});

  AdaptivePlacement(const AdaptivePlacement&) = delete;
  AdaptivePlacement& operator=(const AdaptivePlacement&) = delete;

  // Counts a block added to the index (level-0 blocks only; see DatasetUsage). Thread-safe.
  void RecordBlock(const v1::BlockMeta& block, int64_t now_ms);

  // Observes every dataset's usage and returns the rules: one entry per dataset whose shard
  // count differs from default_dataset_shards, sorted by (tenant, dataset), so that equal inputs
  // give byte-identical rules. Forgets idle datasets.
  v1::PlacementRules BuildRules(int64_t now_ms);

  // Whether two rules place every dataset alike: equal but for created_at_ms and the usages, so
  // that the leader proposes new rules only when a shard count changes.
  static bool SameRules(const v1::PlacementRules& a, const v1::PlacementRules& b);

  // Replaces the allocators by the published rules' shard counts, as observed at `now_ms` (see
  // ShardAllocator::Seed), so that a new leader neither collapses the datasets a previous leader
  // spread nor flaps while its rates warm up. Datasets beyond max_datasets are left out.
  void Seed(const v1::PlacementRules& published, int64_t now_ms);

  // For the status page, as of the last BuildRules: the datasets (usage, shards, relative
  // std-dev of their shards' usage) and the shards' load in bytes/s, largest first, at most 100
  // of each; and the counts of datasets tracked and of samples ignored.
  std::string StatusJson() const;

  size_t tracked_datasets() const;
  // Samples ignored because max_datasets datasets were already tracked.
  uint64_t ignored_samples() const { return usage_.ignored_samples(); }

 private:
  struct Allocation {
    ShardAllocator allocator;
    // Time of the dataset's last block (or of the seeding): the allocation is forgotten when it
    // is older than the idle timeout.
    int64_t last_seen_ms = 0;
    // As of the last BuildRules (0 when no blocks were seen since the seeding).
    double usage_bytes_per_second = 0;
    double shard_rel_stddev = 0;
  };
  struct DatasetStatus {
    std::string tenant;
    std::string dataset;
    double usage_bytes_per_second;
    uint32_t shards;
    double shard_rel_stddev;
  };

  const AdaptivePlacementOptions options_;
  const ShardAllocatorOptions allocator_options_;
  DatasetUsage usage_;

  mutable std::mutex mu_;
  DatasetMap<Allocation> allocations_;
  // The last BuildRules' view, for StatusJson.
  int64_t built_at_ms_ = 0;
  std::vector<DatasetStatus> top_datasets_;
  std::vector<DatasetUsage::ShardRate> top_shards_;
};

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_PLACEMENT_ADAPTIVE_PLACEMENT_H_
