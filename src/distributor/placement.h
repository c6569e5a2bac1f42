// Placement: which segment-writer shard a profile goes to (DESIGN §2, reference §3).
//
// Shards are numbered 0..N-1 (N = segment-writer slots × tokens each; the writer in slot k owns
// shards [k × tokens, (k + 1) × tokens)). Like Pyroscope, placement is a three-level hash: the
// tenant gets a contiguous range of shards, the service (dataset) a contiguous range of
// `dataset_shards` inside it, and a series one shard of the service's range, each level chosen
// with jump consistent hashing. With the default of one shard per service, all of a service's
// profiles land in the same segment and object, which is what makes per-service objects and
// compaction cheap; adaptive placement (distributor/placement_rules_table.h) gives the few
// services that ingest more than a shard can take more shards.
//
// Unlike upstream, a range starts at JumpHash(key, room for its start) and does not wrap around
// the end of the ring, so adding shards at the end (a writer joins) moves only the services
// whose start jumps onto the new shards — about tokens / N of them — rather than every service
// whose range would wrap at a different place; removing the last shards likewise moves only what
// was on them.
#ifndef EMBERS_DISTRIBUTOR_PLACEMENT_H_
#define EMBERS_DISTRIBUTOR_PLACEMENT_H_

#include <cstdint>
#include <string_view>

namespace embers::distributor {

// Lamping & Veach's jump consistent hash: a bucket in [0, buckets) for `key`.
uint32_t JumpHash(uint64_t key, uint32_t buckets);

struct PlacementOptions {
  uint32_t shards = 4;
  // Shards per tenant (0 = all shards) and per service (Pyroscope's
  // adaptive-placement.tenant-shards and default-dataset-shards).
  uint32_t tenant_shards = 0;
  uint32_t dataset_shards = 1;
};

class Placement {
 public:
  explicit Placement(PlacementOptions options) : options_(options) {}

  // The shard of a series with the options' shard counts.
  uint32_t Shard(std::string_view tenant, std::string_view service, uint64_t fingerprint) const {
    return Shard(tenant, service, fingerprint, options_.dataset_shards, options_.shards);
  }

  // The shard of a series when the service is spread over `dataset_shards` (its placement rule)
  // and the ring has `shards` shards (which changes as writers join and leave); tenant_shards is
  // the options'. Both counts are clamped to what fits: at least 1, the service's range inside
  // the tenant's, the tenant's inside the ring.
  uint32_t Shard(std::string_view tenant, std::string_view service, uint64_t fingerprint,
                 uint32_t dataset_shards, uint32_t shards) const;

  uint32_t shard_count() const { return options_.shards; }

 private:
  PlacementOptions options_;
};

}  // namespace embers::distributor

#endif  // EMBERS_DISTRIBUTOR_PLACEMENT_H_
