#include "metastore/placement/dataset_usage.h"

#include <gtest/gtest.h>

#include <string>

namespace embers::metastore {
namespace {

constexpr int64_t kStart = 1'700'000'000'000;

// A level-0 segment of `shard` holding one dataset per (tenant, service, size).
v1::BlockMeta Segment(uint32_t shard,
                      std::vector<std::tuple<std::string, std::string, uint64_t>> datasets) {
  v1::BlockMeta b;
  b.set_format_version(1);
  b.set_shard(shard);
  b.add_string_table("");
  auto ref = [&b](const std::string& s) {
    for (int i = 0; i < b.string_table_size(); ++i) {
      if (b.string_table(i) == s) return i;
    }
    b.add_string_table(s);
    return b.string_table_size() - 1;
  };
  for (const auto& [tenant, service, size] : datasets) {
    v1::Dataset* d = b.add_datasets();
    d->set_tenant(ref(tenant));
    d->set_name(ref(service));
    d->set_size(size);
  }
  return b;
}

const DatasetUsage::DatasetRate* Find(const DatasetUsage::Snapshot& s, std::string_view tenant,
                                      std::string_view dataset) {
  for (const auto& d : s.datasets) {
    if (d.tenant == tenant && d.dataset == dataset) return &d;
  }
  return nullptr;
}

TEST(DatasetUsage, RatesConvergePerDatasetAndPerShard) {
  DatasetUsage usage({.stats_window = absl::Minutes(3)});
  int64_t now = kStart;
  // Every 500 ms each of two shards flushes a segment: checkout 50 KB + 10 KB, cart 1 KB on
  // shard 1 only. checkout: 120 KB/s, cart: 2 KB/s.
  for (int i = 0; i < 7200; ++i, now += 500) {
    usage.RecordBlock(Segment(1, {{"t1", "checkout", 50'000}, {"t1", "cart", 1'000}}), now);
    usage.RecordBlock(Segment(2, {{"t1", "checkout", 10'000}}), now);
  }
  now -= 500;
  const DatasetUsage::Snapshot s = usage.Collect(now);
  ASSERT_EQ(s.datasets.size(), 2u);
  const auto* checkout = Find(s, "t1", "checkout");
  ASSERT_NE(checkout, nullptr);
  EXPECT_NEAR(checkout->bytes_per_second, 120'000, 120'000 * 0.02);
  EXPECT_EQ(checkout->shards, 2u);
  // Shard rates 100 KB/s and 20 KB/s: mean 60, std-dev 40.
  EXPECT_NEAR(checkout->shard_rel_stddev, 40.0 / 60.0, 0.01);
  EXPECT_NEAR(Find(s, "t1", "cart")->bytes_per_second, 2'000, 40);
  EXPECT_EQ(Find(s, "t1", "cart")->shard_rel_stddev, 0);
  ASSERT_EQ(s.shards.size(), 2u);
  EXPECT_EQ(s.shards[0].shard, 1u);
  EXPECT_NEAR(s.shards[0].bytes_per_second, 102'000, 102'000 * 0.02);
  EXPECT_NEAR(s.shards[1].bytes_per_second, 20'000, 20'000 * 0.02);
}

TEST(DatasetUsage, IgnoresCompactedBlocksAndBadReferences) {
  DatasetUsage usage;
  v1::BlockMeta compacted = Segment(1, {{"t1", "checkout", 1'000'000}});
  compacted.set_compaction_level(1);
  usage.RecordBlock(compacted, kStart);
  v1::BlockMeta bad = Segment(1, {{"t1", "checkout", 1'000'000}});
  bad.mutable_datasets(0)->set_name(99);
  usage.RecordBlock(bad, kStart);
  EXPECT_EQ(usage.dataset_count(), 0u);
}

TEST(DatasetUsage, ForgetsIdleDatasetsAndShards) {
  DatasetUsage usage({.idle_timeout = absl::Minutes(15)});
  usage.Record("t1", "old", 3, 1000, kStart);
  usage.Record("t1", "live", 4, 1000, kStart);
  usage.Record("t1", "live", 4, 1000, kStart + 10 * 60'000);
  DatasetUsage::Snapshot s = usage.Collect(kStart + 15 * 60'000);
  EXPECT_EQ(s.datasets.size(), 2u);  // exactly at the timeout: still kept
  s = usage.Collect(kStart + 16 * 60'000);
  ASSERT_EQ(s.datasets.size(), 1u);
  EXPECT_EQ(s.datasets[0].dataset, "live");
  ASSERT_EQ(s.shards.size(), 1u);
  EXPECT_EQ(s.shards[0].shard, 4u);
  EXPECT_EQ(usage.Collect(kStart + 26 * 60'000).datasets.size(), 0u);
}

TEST(DatasetUsage, ForgetsADatasetsIdleShards) {
  DatasetUsage usage;
  usage.Record("t1", "svc", 1, 1000, kStart);
  for (int64_t m = 0; m <= 20; ++m) usage.Record("t1", "svc", 2, 1000, kStart + m * 60'000);
  const DatasetUsage::Snapshot s = usage.Collect(kStart + 20 * 60'000);
  ASSERT_EQ(s.datasets.size(), 1u);
  EXPECT_EQ(s.datasets[0].shards, 1u);
}

TEST(DatasetUsage, BoundsTheDatasetsAndCountsWhatItIgnores) {
  DatasetUsage usage({.idle_timeout = absl::Minutes(15), .max_datasets = 3});
  for (int i = 0; i < 5; ++i) usage.Record("t1", "svc-" + std::to_string(i), 1, 100, kStart);
  usage.Record("t1", "svc-4", 1, 100, kStart + 1);
  EXPECT_EQ(usage.dataset_count(), 3u);
  EXPECT_EQ(usage.ignored_samples(), 3u);
  // Tracked datasets keep counting.
  usage.Record("t1", "svc-0", 1, 100, kStart + 2);
  EXPECT_EQ(usage.ignored_samples(), 3u);
  // Once the old ones are idle, a new dataset takes a free place without waiting for Collect.
  usage.Record("t1", "svc-9", 1, 100, kStart + 16 * 60'000);
  EXPECT_EQ(usage.ignored_samples(), 3u);
  const DatasetUsage::Snapshot s = usage.Collect(kStart + 16 * 60'000);
  ASSERT_EQ(s.datasets.size(), 1u);
  EXPECT_EQ(s.datasets[0].dataset, "svc-9");
}

TEST(DatasetUsage, TenantsSeparateDatasetsOfTheSameName) {
  DatasetUsage usage;
  usage.RecordBlock(Segment(1, {{"a", "svc", 1000}, {"b", "svc", 3000}}), kStart);
  const DatasetUsage::Snapshot s = usage.Collect(kStart);
  ASSERT_EQ(s.datasets.size(), 2u);
  EXPECT_LT(Find(s, "a", "svc")->bytes_per_second, Find(s, "b", "svc")->bytes_per_second);
}

}  // namespace
}  // namespace embers::metastore
