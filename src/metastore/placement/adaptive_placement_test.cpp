#include "metastore/placement/adaptive_placement.h"

#include <gtest/gtest.h>

#include <string>

#include "nlohmann/json.hpp"

namespace embers::metastore {
namespace {

constexpr int64_t kStart = 1'700'000'000'000;
constexpr int64_t kMinute = 60'000;
constexpr int64_t kUpdate = 15'000;
constexpr uint64_t kUnit = 128 << 10;

// A level-0 segment of `shard` with one dataset of `bytes` for `tenant`/`service`.
v1::BlockMeta Segment(uint32_t shard, const std::string& tenant, const std::string& service,
                      uint64_t bytes) {
  v1::BlockMeta b;
  b.set_format_version(1);
  b.set_shard(shard);
  b.add_string_table("");
  b.add_string_table(tenant);
  b.add_string_table(service);
  v1::Dataset* d = b.add_datasets();
  d->set_tenant(1);
  d->set_name(2);
  d->set_size(bytes);
  return b;
}

// Feeds `minutes` of load (bytes/s per service) as one segment per second, building rules every
// update (15 s); returns the last rules, built at the end.
v1::PlacementRules Feed(AdaptivePlacement* p, int64_t* now, int minutes,
                        const std::vector<std::pair<std::string, double>>& load) {
  v1::PlacementRules rules;
  for (int s = 0; s < minutes * 60; ++s) {
    for (const auto& [service, rate] : load) {
      p->RecordBlock(
          Segment(static_cast<uint32_t>(s % 4), "t1", service, static_cast<uint64_t>(rate)), *now);
    }
    *now += 1000;
    if ((s + 1) % (kUpdate / 1000) == 0) rules = p->BuildRules(*now);
  }
  return rules;
}

const v1::DatasetPlacement* Rule(const v1::PlacementRules& rules, std::string_view dataset) {
  for (const auto& d : rules.datasets()) {
    if (d.dataset() == dataset) return &d;
  }
  return nullptr;
}

TEST(AdaptivePlacement, ListsOnlyDatasetsThatNeedMoreThanTheDefault) {
  AdaptivePlacement p;
  int64_t now = kStart;
  const v1::PlacementRules rules =
      Feed(&p, &now, 30, {{"cold", 1000}, {"warm", 3.5 * kUnit}, {"hot", 20.5 * kUnit}});
  EXPECT_EQ(rules.created_at_ms(), now);
  EXPECT_EQ(rules.default_dataset_shards(), 1u);
  ASSERT_EQ(rules.datasets_size(), 2);
  EXPECT_EQ(rules.datasets(0).dataset(), "hot");  // sorted by (tenant, dataset)
  EXPECT_EQ(rules.datasets(1).dataset(), "warm");
  EXPECT_EQ(rules.datasets(0).tenant_id(), "t1");
  // The rates warm up over a few half-lives, and scale-outs in a row step further: at least the
  // load's need, at most twice it.
  EXPECT_GE(rules.datasets(0).dataset_shards(), 21u);
  EXPECT_LE(rules.datasets(0).dataset_shards(), 32u);
  EXPECT_GE(rules.datasets(1).dataset_shards(), 4u);
  EXPECT_LE(rules.datasets(1).dataset_shards(), 8u);
  EXPECT_NEAR(rules.datasets(0).usage_bytes_per_second(), 20.5 * kUnit, 0.05 * 20.5 * kUnit);
  EXPECT_EQ(Rule(rules, "cold"), nullptr);
}

TEST(AdaptivePlacement, EqualInputsGiveByteIdenticalRules) {
  auto build = [] {
    AdaptivePlacement p;
    int64_t now = kStart;
    std::vector<std::pair<std::string, double>> load;
    for (int i = 0; i < 50; ++i) load.emplace_back("svc-" + std::to_string(i), i * 0.3 * kUnit);
    return Feed(&p, &now, 10, load).SerializeAsString();
  };
  const std::string a = build();
  EXPECT_EQ(a, build());
  v1::PlacementRules rules;
  ASSERT_TRUE(rules.ParseFromString(a));
  EXPECT_GT(rules.datasets_size(), 30);
}

TEST(AdaptivePlacement, ForgetsIdleDatasets) {
  AdaptivePlacement p;
  int64_t now = kStart;
  Feed(&p, &now, 10, {{"hot", 4.5 * kUnit}});
  EXPECT_NE(Rule(p.BuildRules(now), "hot"), nullptr);
  // No blocks: the count holds while the dataset is idle less than the timeout.
  EXPECT_NE(Rule(p.BuildRules(now + 14 * kMinute), "hot"), nullptr);
  EXPECT_EQ(p.BuildRules(now + 16 * kMinute).datasets_size(), 0);
  EXPECT_EQ(p.tracked_datasets(), 0u);
}

TEST(AdaptivePlacement, SameRulesIgnoresTimeAndUsage) {
  v1::PlacementRules a;
  a.set_created_at_ms(1);
  a.set_default_dataset_shards(1);
  v1::DatasetPlacement* d = a.add_datasets();
  d->set_tenant_id("t1");
  d->set_dataset("svc");
  d->set_dataset_shards(4);
  d->set_usage_bytes_per_second(1e6);
  v1::PlacementRules b = a;
  b.set_created_at_ms(2);
  b.mutable_datasets(0)->set_usage_bytes_per_second(2e6);
  EXPECT_TRUE(AdaptivePlacement::SameRules(a, b));

  v1::PlacementRules c = a;
  c.mutable_datasets(0)->set_dataset_shards(5);
  EXPECT_FALSE(AdaptivePlacement::SameRules(a, c));
  c = a;
  c.mutable_datasets(0)->set_tenant_id("t2");
  EXPECT_FALSE(AdaptivePlacement::SameRules(a, c));
  c = a;
  c.mutable_datasets(0)->set_dataset("other");
  EXPECT_FALSE(AdaptivePlacement::SameRules(a, c));
  c = a;
  c.set_default_dataset_shards(2);
  EXPECT_FALSE(AdaptivePlacement::SameRules(a, c));
  c = a;
  c.add_datasets()->CopyFrom(a.datasets(0));
  EXPECT_FALSE(AdaptivePlacement::SameRules(a, c));
  EXPECT_TRUE(AdaptivePlacement::SameRules(v1::PlacementRules(), v1::PlacementRules()));
}

TEST(AdaptivePlacement, ASeededLeaderKeepsThePublishedCounts) {
  // The previous leader spread "hot" over 8 shards.
  v1::PlacementRules published;
  published.set_created_at_ms(kStart - kMinute);
  published.set_default_dataset_shards(1);
  v1::DatasetPlacement* d = published.add_datasets();
  d->set_tenant_id("t1");
  d->set_dataset("hot");
  d->set_dataset_shards(8);
  d->set_usage_bytes_per_second(7.5 * kUnit);

  AdaptivePlacement p;
  p.Seed(published, kStart);
  int64_t now = kStart;
  // Without any block yet, the rules are the published ones.
  EXPECT_TRUE(AdaptivePlacement::SameRules(p.BuildRules(now), published));
  // The load continues; its rate, warming up from zero, reads low for minutes: the count holds.
  for (int m = 0; m < 18; ++m) {
    const v1::PlacementRules rules = Feed(&p, &now, 1, {{"hot", 7.5 * kUnit}});
    ASSERT_NE(Rule(rules, "hot"), nullptr);
    EXPECT_EQ(Rule(rules, "hot")->dataset_shards(), 8u) << m;
  }
  // An unseeded leader would have gone through smaller counts.
  AdaptivePlacement fresh;
  now = kStart;
  const v1::PlacementRules early = Feed(&fresh, &now, 2, {{"hot", 7.5 * kUnit}});
  ASSERT_NE(Rule(early, "hot"), nullptr);
  EXPECT_LT(Rule(early, "hot")->dataset_shards(), 8u);
}

TEST(AdaptivePlacement, SeedReplacesThePreviousState) {
  AdaptivePlacement p;
  int64_t now = kStart;
  Feed(&p, &now, 5, {{"a", 4.5 * kUnit}});
  v1::PlacementRules published;
  published.set_default_dataset_shards(1);
  v1::DatasetPlacement* d = published.add_datasets();
  d->set_tenant_id("t1");
  d->set_dataset("b");
  d->set_dataset_shards(3);
  p.Seed(published, now);
  EXPECT_EQ(p.tracked_datasets(), 1u);
}

TEST(AdaptivePlacement, BoundsTheDatasets) {
  AdaptivePlacement p({.max_datasets = 10});
  for (int i = 0; i < 20; ++i) {
    p.RecordBlock(Segment(0, "t1", "svc-" + std::to_string(i), 1000), kStart);
  }
  p.BuildRules(kStart);
  EXPECT_EQ(p.tracked_datasets(), 10u);
  EXPECT_EQ(p.ignored_samples(), 10u);
}

TEST(AdaptivePlacement, StatusListsTheLargestFirstAndIsBounded) {
  AdaptivePlacement p;
  for (int i = 0; i < 150; ++i) {
    for (int s = 0; s < 60; ++s) {
      p.RecordBlock(Segment(static_cast<uint32_t>(i), "t1", "svc-" + std::to_string(i),
                            static_cast<uint64_t>(i) * 1000),
                    kStart + s * 1000);
    }
  }
  p.BuildRules(kStart + kMinute);
  const nlohmann::json status = nlohmann::json::parse(p.StatusJson());
  EXPECT_EQ(status["built_at_ms"], kStart + kMinute);
  EXPECT_EQ(status["tracked_datasets"], 150);
  EXPECT_EQ(status["ignored_samples"], 0);
  ASSERT_EQ(status["datasets"].size(), 100u);
  EXPECT_EQ(status["datasets"][0]["dataset"], "svc-149");
  EXPECT_EQ(status["datasets"][99]["dataset"], "svc-50");
  EXPECT_GE(status["datasets"][0]["shards"], 1);
  ASSERT_EQ(status["shards"].size(), 100u);
  EXPECT_EQ(status["shards"][0]["shard"], 149);
  EXPECT_GT(status["shards"][0]["usage_bytes_per_second"],
            status["shards"][1]["usage_bytes_per_second"]);
}

}  // namespace
}  // namespace embers::metastore
