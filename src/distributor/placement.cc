#include "distributor/placement.h"

#include <algorithm>

#include <xxhash.h>

namespace embers::distributor {

uint32_t JumpHash(uint64_t key, uint32_t buckets) {
  if (buckets == 0) return 0;
  int64_t b = -1, j = 0;
  while (j < static_cast<int64_t>(buckets)) {
    b = j;
    key = key * 2862933555777941757ULL + 1;
    j = static_cast<int64_t>(static_cast<double>(b + 1) * (static_cast<double>(1LL << 31) /
                                                           static_cast<double>((key >> 33) + 1)));
  }
  return static_cast<uint32_t>(b);
}

uint32_t Placement::Shard(std::string_view tenant, std::string_view service, uint64_t fingerprint,
                          uint32_t dataset_shards, uint32_t shards) const {
  const uint32_t n = std::max<uint32_t>(1, shards);
  const uint32_t tenant_size =
      options_.tenant_shards == 0 ? n : std::min(options_.tenant_shards, n);
  const uint32_t dataset_size = std::clamp<uint32_t>(dataset_shards, 1, tenant_size);
  const uint64_t tenant_key = XXH64(tenant.data(), tenant.size(), 0);
  // Seed the service hash with the tenant's so two tenants' services spread independently.
  const uint64_t service_key = XXH64(service.data(), service.size(), tenant_key);
  // A range of size s in a ring of n can start at n - s + 1 places: jump-hashing over those keeps
  // it inside the ring, so no range wraps (see the header). A tenant on every shard needs no
  // range of its own.
  const uint32_t tenant_start = tenant_size == n ? 0 : JumpHash(tenant_key, n - tenant_size + 1);
  const uint32_t dataset_start = JumpHash(service_key, tenant_size - dataset_size + 1);
  const uint32_t series_offset = JumpHash(fingerprint, dataset_size);
  return tenant_start + dataset_start + series_offset;
}

}  // namespace embers::distributor
