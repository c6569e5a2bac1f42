// Retention planning on a BlockIndex: per-tenant periods, 0 = forever, segment shards held by
// their longest-lived tenant, the per-run cap, and the plan applied as ReplaceBlocks.
#include "metastore/retention.h"

#include <gtest/gtest.h>

#include "metastore/index/test_blocks.h"

namespace embers::metastore {
namespace {

using testing::BlockBuilder;
using testing::DatasetSpec;
using testing::TestId;

constexpr int64_t kDay = 24 * 3600 * 1000;
constexpr int64_t kNow =
    1'700'000'000'000 / BlockIndex::kPartitionDurationMs * BlockIndex::kPartitionDurationMs;

v1::BlockMeta Block(uint64_t seq, const std::string& owner, std::vector<std::string> tenants,
                    int64_t t) {
  BlockBuilder b(TestId(t, seq), owner, 1);
  for (const std::string& tenant : tenants) {
    b.Add(DatasetSpec{tenant, "svc", t, t + 1000, {{{"service_name", "svc"}}}});
  }
  return b.Build();
}

std::vector<std::string> Names(const std::vector<v1::ReplaceBlocksRequest>& plan) {
  std::vector<std::string> out;
  for (const auto& r : plan) out.push_back(r.tombstones().name());
  return out;
}

TEST(RetentionTest, DropsShardsOlderThanTheirTenantsPeriod) {
  BlockIndex index;
  // Tenant "a": 7 days; "b": default 31 days; "keep": forever.
  RetentionOptions o;
  o.tenant_periods = {{"a", absl::Hours(24 * 7)}, {"keep", absl::ZeroDuration()}};
  const int64_t old10 = kNow - 10 * kDay, old40 = kNow - 40 * kDay;
  ASSERT_TRUE(index.AddBlock(Block(1, "a", {"a"}, old10)).ok());         // expired (7 d)
  ASSERT_TRUE(index.AddBlock(Block(2, "b", {"b"}, old10)).ok());         // kept (31 d)
  ASSERT_TRUE(index.AddBlock(Block(3, "b", {"b"}, old40)).ok());         // expired
  ASSERT_TRUE(index.AddBlock(Block(4, "keep", {"keep"}, old40)).ok());   // forever
  ASSERT_TRUE(index.AddBlock(Block(5, "", {"a", "b"}, old10)).ok());     // segment: b keeps it
  ASSERT_TRUE(index.AddBlock(Block(6, "", {"a", "b"}, old40)).ok());     // segment: expired
  ASSERT_TRUE(index.AddBlock(Block(7, "", {"a", "keep"}, old40)).ok());  // segment: forever
  // Blocks 6 and 7 share a segment shard: "keep" holds the whole shard.

  std::vector<v1::ReplaceBlocksRequest> plan = PlanRetention(index, o, kNow);
  std::string p40 =
      std::to_string(old40 / BlockIndex::kPartitionDurationMs * BlockIndex::kPartitionDurationMs);
  std::string p10 =
      std::to_string(old10 / BlockIndex::kPartitionDurationMs * BlockIndex::kPartitionDurationMs);
  std::string now = std::to_string(kNow);
  // Partition order, then tenant ("" first): the old segment shard loses block 6 only.
  EXPECT_EQ(Names(plan), (std::vector<std::string>{"retention/" + p40 + "/-/1/" + now,
                                                   "retention/" + p40 + "/b/1/" + now,
                                                   "retention/" + p10 + "/a/1/" + now}));
  ASSERT_EQ(plan.size(), 3u);
  ASSERT_EQ(plan[0].tombstones().blocks_size(), 1);
  EXPECT_EQ(plan[0].tombstones().blocks(0), Block(6, "", {"a", "b"}, old40).id());
  EXPECT_EQ(plan[0].tombstones().tenant(), "");
  EXPECT_EQ(plan[1].tombstones().blocks(0), Block(3, "b", {"b"}, old40).id());
  EXPECT_EQ(plan[1].blocks_size(), 0);

  // Applied, the blocks are gone and a late retry of one is ignored (tombstoned).
  for (const auto& r : plan) ASSERT_TRUE(index.ReplaceBlocks(r).ok());
  EXPECT_EQ(index.BlockCount(), 4u);
  EXPECT_EQ(index.Tombstones().size(), 3u);
  EXPECT_EQ(*index.AddBlock(Block(3, "b", {"b"}, old40)), BlockIndex::AddResult::kTombstoned);
  EXPECT_TRUE(PlanRetention(index, o, kNow).empty());
}

TEST(RetentionTest, ExpiresBlocksNotWholeShards) {
  BlockIndex index;
  RetentionOptions o;
  o.default_period = absl::Hours(1);
  // One partition and shard: a block of data 3 h old and one of data 10 min old.
  const int64_t t0 = kNow - 3 * 3600 * 1000;
  ASSERT_TRUE(index.AddBlock(Block(1, "t", {"t"}, t0)).ok());
  ASSERT_TRUE(index.AddBlock(Block(2, "t", {"t"}, t0 + 170 * 60 * 1000)).ok());
  std::vector<v1::ReplaceBlocksRequest> plan = PlanRetention(index, o, kNow);
  ASSERT_EQ(plan.size(), 1u);
  ASSERT_EQ(plan[0].tombstones().blocks_size(), 1);
  EXPECT_EQ(plan[0].tombstones().blocks(0), Block(1, "t", {"t"}, t0).id());
}

TEST(RetentionTest, ZeroPeriodKeepsEverythingAndRunsAreCapped) {
  BlockIndex index;
  for (uint64_t i = 0; i < 5; i++) {
    ASSERT_TRUE(index
                    .AddBlock(Block(i + 1, "t" + std::to_string(i), {"t" + std::to_string(i)},
                                    kNow - 100 * kDay))
                    .ok());
  }
  RetentionOptions forever;
  forever.default_period = absl::ZeroDuration();
  EXPECT_TRUE(PlanRetention(index, forever, kNow).empty());

  RetentionOptions capped;
  capped.max_shards_per_run = 3;
  EXPECT_EQ(PlanRetention(index, capped, kNow).size(), 3u);
}

TEST(RetentionTest, ParsesPerTenantPeriods) {
  auto parsed = ParseTenantPeriods({"a=7d", " b = 0 ", ""});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->at("a"), absl::Hours(24 * 7));
  EXPECT_EQ(parsed->at("b"), absl::ZeroDuration());
  EXPECT_FALSE(ParseTenantPeriods({"a"}).ok());
  EXPECT_FALSE(ParseTenantPeriods({"=1d"}).ok());
  EXPECT_FALSE(ParseTenantPeriods({"a=-1h"}).ok());
  EXPECT_FALSE(ParseTenantPeriods({"a=soon"}).ok());
}

}  // namespace
}  // namespace embers::metastore
