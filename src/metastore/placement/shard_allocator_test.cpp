#include "metastore/placement/shard_allocator.h"

#include <gtest/gtest.h>

#include <cmath>

namespace embers::metastore {
namespace {

constexpr double kUnit = 128 << 10;
constexpr int64_t kStart = 1'700'000'000'000;
constexpr int64_t kMinute = 60'000;
constexpr int64_t kUpdate = 15'000;  // the leader's rules update interval

const ShardAllocatorOptions kOptions = {.unit_size_bytes = 128 << 10,
                                        .min_shards = 1,
                                        .max_shards = 32,
                                        .burst_window = absl::Minutes(17),
                                        .decay_window = absl::Minutes(19)};

TEST(ShardAllocator, OneShardPerUnitOfLoad) {
  ShardAllocator a;
  EXPECT_EQ(a.shards(), 0u);
  EXPECT_EQ(a.Observe(kOptions, 0, kStart), 1u);
  ShardAllocator b;
  EXPECT_EQ(b.Observe(kOptions, kUnit, kStart), 1u);
  ShardAllocator c;
  EXPECT_EQ(c.Observe(kOptions, kUnit + 1, kStart), 2u);
  ShardAllocator d;
  EXPECT_EQ(d.Observe(kOptions, 5.5 * kUnit, kStart), 6u);
}

TEST(ShardAllocator, AHotDatasetGrowsAtOnce) {
  ShardAllocator a;
  int64_t now = kStart;
  EXPECT_EQ(a.Observe(kOptions, 0.5 * kUnit, now), 1u);
  // Long after (outside the burst window), the load jumps to 7 units: 7 shards in one update.
  now += 30 * kMinute;
  EXPECT_EQ(a.Observe(kOptions, 7 * kUnit, now), 7u);
}

TEST(ShardAllocator, ScaleOutsWithinTheBurstWindowStepFurther) {
  ShardAllocator a;
  int64_t now = kStart;
  a.Observe(kOptions, 0.5 * kUnit, now);
  now += 30 * kMinute;
  EXPECT_EQ(a.Observe(kOptions, 2 * kUnit, now), 2u);  // multiplier 1: the target itself
  // 5 minutes later, 3 units: delta 1 × multiplier 2 → 3 + 2 = 5 (≤ 2 × 3).
  now += 5 * kMinute;
  EXPECT_EQ(a.Observe(kOptions, 3 * kUnit, now), 5u);
  // Then 6 units: delta 1 × 4 → 6 + 4 = 10 (≤ 12).
  now += 5 * kMinute;
  EXPECT_EQ(a.Observe(kOptions, 6 * kUnit, now), 10u);
  // Then 11 units: delta 1 × 8 → capped at 2 × 11 = 22 ... 11 + 8 = 19.
  now += 5 * kMinute;
  EXPECT_EQ(a.Observe(kOptions, 11 * kUnit, now), 19u);
  // After the burst window has passed the multiplier starts again from 1.
  now += 18 * kMinute;
  EXPECT_EQ(a.Observe(kOptions, 20 * kUnit, now), 20u);
}

TEST(ShardAllocator, TheStepIsAtMostTwiceTheTarget) {
  ShardAllocator a;
  int64_t now = kStart;
  a.Observe(kOptions, 1 * kUnit, now);
  now += kMinute;
  EXPECT_EQ(a.Observe(kOptions, 2 * kUnit, now), 2u);
  now += kMinute;
  EXPECT_EQ(a.Observe(kOptions, 5 * kUnit, now), 10u);  // 5 + 3 × 2 = 11 > 2 × 5
}

TEST(ShardAllocator, ALoadAroundAThresholdDoesNotFlap) {
  ShardAllocator a;
  int64_t now = kStart;
  uint32_t last = a.Observe(kOptions, 0.9 * kUnit, now);
  int changes = 0;
  // Two hours of a load oscillating between 0.8 and 1.2 units (period 4 minutes), observed
  // every update: the count goes to 2 once and stays there.
  for (int i = 0; i < 480; ++i) {
    now += kUpdate;
    const double load = kUnit * (1 + 0.2 * std::sin(2 * M_PI * static_cast<double>(i) / 16));
    const uint32_t n = a.Observe(kOptions, load, now);
    if (n != last) ++changes;
    last = n;
  }
  EXPECT_EQ(changes, 1);
  EXPECT_EQ(last, 2u);
}

TEST(ShardAllocator, ScalesInOnlyAfterTheLoadStayedLowForADecayWindow) {
  ShardAllocator a;
  int64_t now = kStart;
  for (int i = 0; i < 40; ++i, now += kUpdate) a.Observe(kOptions, 10 * kUnit, now);
  ASSERT_EQ(a.shards(), 10u);
  const int64_t drop = now;
  int64_t shrunk_at = 0;
  for (; now < drop + 60 * kMinute; now += kUpdate) {
    const uint32_t n = a.Observe(kOptions, 2 * kUnit, now);
    if (n != 10 && shrunk_at == 0) {
      shrunk_at = now;
      EXPECT_EQ(n, 2u);
    }
    if (shrunk_at != 0) {
      EXPECT_EQ(n, 2u);
    }
  }
  ASSERT_NE(shrunk_at, 0);
  // Not before a whole decay window of low load, and within two.
  EXPECT_GE(shrunk_at - drop, 19 * kMinute);
  EXPECT_LE(shrunk_at - drop, 2 * 19 * kMinute);
}

TEST(ShardAllocator, ClampsToTheLimits) {
  ShardAllocatorOptions o = kOptions;
  o.min_shards = 2;
  o.max_shards = 8;
  ShardAllocator a;
  EXPECT_EQ(a.Observe(o, 0, kStart), 2u);
  EXPECT_EQ(a.Observe(o, 1000 * kUnit, kStart + kMinute), 8u);
  EXPECT_EQ(a.Observe(o, 1e300, kStart + 2 * kMinute), 8u);
  EXPECT_EQ(a.Observe(o, std::nan(""), kStart + 3 * kMinute), 8u);
  ShardAllocator b;
  EXPECT_EQ(b.Observe(o, -5, kStart), 2u);
}

TEST(ShardAllocator, SeedHoldsTheCountForADecayWindowButAllowsGrowth) {
  ShardAllocator a;
  a.Seed(kOptions, 12, kStart);
  EXPECT_EQ(a.shards(), 12u);
  // The rates of a new leader start from zero: the count holds.
  for (int64_t now = kStart; now < kStart + 19 * kMinute; now += kUpdate) {
    EXPECT_EQ(a.Observe(kOptions, 0.1 * kUnit, now), 12u);
  }
  ShardAllocator b;
  b.Seed(kOptions, 4, kStart);
  EXPECT_EQ(b.Observe(kOptions, 6 * kUnit, kStart + kUpdate), 6u);
  ShardAllocator c;
  c.Seed(kOptions, 100, kStart);
  EXPECT_EQ(c.shards(), 32u);
}

TEST(ShardAllocator, IsDeterministic) {
  auto run = [] {
    ShardAllocator a;
    std::vector<uint32_t> out;
    for (int i = 0; i < 300; ++i) {
      const double load = kUnit * (1 + (i * 7919 % 1000) / 100.0);
      out.push_back(a.Observe(kOptions, load, kStart + i * kUpdate));
    }
    return out;
  };
  EXPECT_EQ(run(), run());
}

}  // namespace
}  // namespace embers::metastore
