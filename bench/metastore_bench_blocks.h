// Benchmark data for the metastore index benchmarks (metastore_index_bench,
// metastore_snapshot_bench): level-0 segments as the distributor places them: `shards` shards,
// 3 tenants, 240 services each placed on 2 shards, `datasets` datasets per segment with two
// profile-type label sets each. Not part of the product.
#ifndef EMBERS_BENCH_METASTORE_BENCH_BLOCKS_H_
#define EMBERS_BENCH_METASTORE_BENCH_BLOCKS_H_

#include <algorithm>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "metastore/index/block_index.h"
#include "metastore/index/test_blocks.h"

namespace embers::metastore::bench {

using testing::BlockBuilder;
using testing::DatasetSpec;
using testing::TestId;

constexpr int64_t kHour = 3600 * 1000;
constexpr int64_t kT0 = 1'700'000'000'000;
constexpr int kServices = 240;
constexpr int kTenants = 3;

inline std::string Service(int i) { return "svc-" + std::to_string(i); }
inline std::string TenantOf(int service) { return "tenant-" + std::to_string(service % kTenants); }

// Adds `count` segments whose data spans `span_ms`, `datasets` datasets each, round-robin over
// `shards` shards.
inline void Fill(BlockIndex& index, int count, int64_t span_ms, int datasets, uint64_t seed,
                 int shards = 16) {
  std::mt19937_64 rng(seed);
  // Services of each shard: service s lives on shards s % shards and (s + 5) % shards.
  std::vector<std::vector<int>> by_shard(static_cast<size_t>(shards));
  for (int s = 0; s < kServices; ++s) {
    by_shard[s % shards].push_back(s);
    by_shard[(s + 5) % shards].push_back(s);
  }
  const std::vector<std::string> types = {"process_cpu:cpu:nanoseconds:cpu:nanoseconds",
                                          "memory:alloc_space:bytes:space:bytes"};
  for (int i = 0; i < count; ++i) {
    int shard = i % shards;
    int64_t t = kT0 + span_ms * i / count;
    BlockBuilder b(TestId(t, static_cast<uint64_t>(i) + 1), "", static_cast<uint32_t>(shard));
    std::vector<int> services = by_shard[shard];
    std::shuffle(services.begin(), services.end(), rng);
    for (int k = 0; k < datasets && k < static_cast<int>(services.size()); ++k) {
      DatasetSpec d;
      d.service = Service(services[k]);
      d.tenant = TenantOf(services[k]);
      d.min_time = t;
      d.max_time = t + 500 + static_cast<int64_t>(rng() % 10000);
      d.size = 10000 + rng() % 100000;
      for (const std::string& type : types) {
        d.label_sets.push_back({{"__profile_type__", type}, {"service_name", d.service}});
      }
      b.Add(d);
    }
    auto r = index.AddBlock(b.Build());
    if (!r.ok()) std::abort();
  }
}

}  // namespace embers::metastore::bench

#endif  // EMBERS_BENCH_METASTORE_BENCH_BLOCKS_H_
