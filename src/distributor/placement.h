// Placement: which segment-writer shard a profile goes to (DESIGN §2, reference §3).
//
// Shards are numbered 0..N-1 (N = segment-writers × tokens each). Like Pyroscope, placement is a
// three-level consistent hash: the tenant gets a contiguous subring of shards, the service
// (dataset) a subring inside it, and a series one shard of the service's subring, each level
// chosen with jump consistent hashing so that changing N moves few keys. With the default of one
// shard per service, all of a service's profiles land in the same segment and object, which is
// what makes per-service objects and compaction cheap.
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
  uint32_t Shard(std::string_view tenant, std::string_view service, uint64_t fingerprint) const;
  uint32_t shard_count() const { return options_.shards; }

 private:
  PlacementOptions options_;
};

}  // namespace embers::distributor

#endif  // EMBERS_DISTRIBUTOR_PLACEMENT_H_
