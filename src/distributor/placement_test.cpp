#include "distributor/placement.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace embers::distributor {
namespace {

// Reference vectors of Lamping & Veach's algorithm, as published with other implementations
// (keys 0..19 into 100 buckets; three large keys into 11; small keys into 100,001; 0xdeadbeef
// into 1..19 buckets): a change to the arithmetic would move every tenant's data to other shards.
TEST(JumpHash, MatchesReferenceVectors) {
  const uint32_t golden100[] = {0,  55, 62, 8,  45, 59, 86, 97, 82, 59,
                                73, 37, 17, 56, 86, 21, 90, 37, 38, 83};
  for (uint64_t key = 0; key < 20; ++key) EXPECT_EQ(JumpHash(key, 100), golden100[key]) << key;
  EXPECT_EQ(JumpHash(10863919174838991ULL, 11), 6u);
  EXPECT_EQ(JumpHash(2016238256797177309ULL, 11), 3u);
  EXPECT_EQ(JumpHash(1673758223894951030ULL, 11), 5u);
  EXPECT_EQ(JumpHash(2, 100001), 80343u);
  EXPECT_EQ(JumpHash(2201, 100001), 22152u);
  EXPECT_EQ(JumpHash(2202, 100001), 15018u);
  const uint32_t deadbeef[] = {0, 1, 2, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 16, 16, 16};
  for (uint32_t n = 1; n <= 19; ++n) EXPECT_EQ(JumpHash(0xdeadbeef, n), deadbeef[n - 1]) << n;
}

TEST(JumpHash, InRangeAndStable) {
  for (uint64_t k = 0; k < 1000; ++k) {
    EXPECT_LT(JumpHash(k, 7), 7u);
    EXPECT_EQ(JumpHash(k, 7), JumpHash(k, 7));
  }
  EXPECT_EQ(JumpHash(42, 1), 0u);
}

TEST(Placement, OneServiceMapsToASmallStableShardSet) {
  Placement one({.shards = 16, .dataset_shards = 1});
  Placement two({.shards = 16, .dataset_shards = 2});
  std::set<uint32_t> a, b;
  for (uint64_t fp = 0; fp < 1000; ++fp) {
    a.insert(one.Shard("tenant", "checkout", fp * 0x9e3779b97f4a7c15ull));
    b.insert(two.Shard("tenant", "checkout", fp * 0x9e3779b97f4a7c15ull));
  }
  EXPECT_EQ(a.size(), 1u);
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(one.Shard("tenant", "checkout", 1), one.Shard("tenant", "checkout", 2));
}

TEST(Placement, ServicesSpreadOverShards) {
  Placement p({.shards = 8});
  std::set<uint32_t> used;
  for (int i = 0; i < 200; ++i) used.insert(p.Shard("t", "svc-" + std::to_string(i), 0));
  EXPECT_EQ(used.size(), 8u);
}

TEST(Placement, AddingAWriterMovesFewServices) {
  // 4 tokens per writer: 3 writers → 4 writers is 12 → 16 shards.
  Placement before({.shards = 12}), after({.shards = 16});
  int moved = 0;
  const int n = 2000;
  for (int i = 0; i < n; ++i) {
    std::string svc = "svc-" + std::to_string(i);
    const uint32_t a = before.Shard("t", svc, 0), b = after.Shard("t", svc, 0);
    if (a != b) {
      ++moved;
      EXPECT_GE(b, 12u) << svc;  // a service moves only onto the new writer's shards
    }
  }
  // Jump hashing moves 1 - 12/16 = 25% of the services; modulo placement would move ~75%.
  EXPECT_LT(moved, n * 30 / 100) << moved;
}

TEST(Placement, RemovingTheLastShardsMovesOnlyWhatWasOnThem) {
  Placement p({.tenant_shards = 0});
  for (int i = 0; i < 2000; ++i) {
    const std::string svc = "svc-" + std::to_string(i);
    for (uint64_t fp = 0; fp < 8; ++fp) {
      const uint32_t before = p.Shard("t", svc, fp, 3, 2000);
      const uint32_t after = p.Shard("t", svc, fp, 3, 1996);
      if (before < 1996 - 3) {
        EXPECT_EQ(before, after) << svc;
      }
      EXPECT_LT(after, 1996u);
    }
  }
}

TEST(Placement, AServiceSpreadsOverItsDatasetShardsWithoutWrapping) {
  Placement p({.shards = 4});
  for (int i = 0; i < 200; ++i) {
    const std::string svc = "svc-" + std::to_string(i);
    std::set<uint32_t> used;
    for (uint64_t fp = 0; fp < 400; ++fp) {
      used.insert(p.Shard("t", svc, fp * 0x9e3779b97f4a7c15ull, 8, 40));
    }
    ASSERT_EQ(used.size(), 8u) << svc;
    EXPECT_EQ(*used.rbegin() - *used.begin(), 7u) << svc;  // contiguous, inside the ring
    EXPECT_LT(*used.rbegin(), 40u);
  }
  // The per-call counts are clamped: no shards → one; more dataset shards than the ring → all.
  EXPECT_EQ(p.Shard("t", "svc", 1, 0, 0), 0u);
  std::set<uint32_t> all;
  for (uint64_t fp = 0; fp < 1000; ++fp) all.insert(p.Shard("t", "svc", fp * 7919, 64, 8));
  EXPECT_EQ(all.size(), 8u);
}

TEST(Placement, TheOptionsOverloadIsTheGeneralOne) {
  Placement p({.shards = 24, .tenant_shards = 8, .dataset_shards = 3});
  for (uint64_t fp = 0; fp < 100; ++fp) {
    EXPECT_EQ(p.Shard("t", "svc", fp), p.Shard("t", "svc", fp, 3, 24));
  }
}

TEST(Placement, ATenantStaysInsideItsShards) {
  Placement p({.shards = 64, .tenant_shards = 8});
  std::set<uint32_t> used;
  for (int i = 0; i < 500; ++i) {
    for (uint64_t fp = 0; fp < 4; ++fp) {
      used.insert(p.Shard("tenant-a", "svc-" + std::to_string(i), fp, 4, 64));
    }
  }
  EXPECT_EQ(used.size(), 8u);
  EXPECT_EQ(*used.rbegin() - *used.begin(), 7u);
}

}  // namespace
}  // namespace embers::distributor
