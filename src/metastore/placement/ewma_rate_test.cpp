#include "metastore/placement/ewma_rate.h"

#include <gtest/gtest.h>

namespace embers::metastore {
namespace {

constexpr int64_t kHalfLife = 10'000;  // 10 s
constexpr int64_t kStart = 1'700'000'000'000;

TEST(EwmaRate, ReadsHalfTheRateAfterOneHalfLifeAndConverges) {
  EwmaRate r;
  int64_t now = kStart;
  // 10 units every 100 ms: 100 units/s.
  for (int i = 0; i < 100; ++i, now += 100) r.Add(10, now, kHalfLife);
  EXPECT_NEAR(r.RateAt(now, kHalfLife), 50, 3);
  for (int i = 0; i < 900; ++i, now += 100) r.Add(10, now, kHalfLife);
  EXPECT_NEAR(r.RateAt(now, kHalfLife), 100, 5);
}

TEST(EwmaRate, FollowsAChangeAndDecaysWhenIdle) {
  EwmaRate r;
  int64_t now = kStart;
  for (int i = 0; i < 1000; ++i, now += 100) r.Add(10, now, kHalfLife);
  for (int i = 0; i < 1000; ++i, now += 100) r.Add(5, now, kHalfLife);
  EXPECT_NEAR(r.RateAt(now, kHalfLife), 50, 3);
  const double before = r.RateAt(now, kHalfLife);
  EXPECT_NEAR(r.RateAt(now + kHalfLife, kHalfLife), before / 2, 1e-9);
  EXPECT_LT(r.RateAt(now + 20 * kHalfLife, kHalfLife), 1e-3);
  EXPECT_EQ(r.last_update_ms(), now - 100);
}

TEST(EwmaRate, SparseLargeSamplesGiveAboutTheSameRateAsFrequentSmallOnes) {
  // With the stats window of 3 minutes, a shard flushing every 10 s and one flushing every
  // second read alike: right after a sample the estimate is above the mean by about half the
  // sample over the half-life.
  constexpr int64_t kWindow = 180'000;
  EwmaRate frequent, sparse;
  int64_t now = kStart;
  for (int i = 0; i < 1800; ++i, now += 1000) {
    frequent.Add(1000, now, kWindow);
    if (i % 10 == 9) sparse.Add(10'000, now, kWindow);
  }
  now -= 1000;
  EXPECT_NEAR(sparse.RateAt(now, kWindow), 1000, 25);
  EXPECT_NEAR(frequent.RateAt(now, kWindow), 1000, 5);
}

TEST(EwmaRate, ASampleFromThePastDoesNotInflateTheRate) {
  EwmaRate r;
  r.Add(100, kStart, kHalfLife);
  const double at = r.RateAt(kStart, kHalfLife);
  r.Add(100, kStart - 60'000, kHalfLife);
  EXPECT_NEAR(r.RateAt(kStart, kHalfLife), 2 * at, 1e-9);
  EXPECT_EQ(r.last_update_ms(), kStart);
}

}  // namespace
}  // namespace embers::metastore
