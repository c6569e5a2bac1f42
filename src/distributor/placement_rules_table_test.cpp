#include "distributor/placement_rules_table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

// Counts heap allocations so a test can tell that lookups make none. The replacement forwards
// to malloc, so the rest of the binary is unaffected.
namespace {
std::atomic<size_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace embers::distributor {
namespace {

::metastore::v1::PlacementRules Rules(uint32_t default_shards) {
  ::metastore::v1::PlacementRules rules;
  rules.set_created_at_ms(1234);
  rules.set_default_dataset_shards(default_shards);
  auto add = [&](const char* tenant, const char* dataset, uint32_t shards) {
    ::metastore::v1::DatasetPlacement* d = rules.add_datasets();
    d->set_tenant_id(tenant);
    d->set_dataset(dataset);
    d->set_dataset_shards(shards);
  };
  add("t1", "checkout", 8);
  add("t1", "cart", 3);
  add("t2", "checkout", 2);
  add("t2", "zero", 0);
  add("t1", "checkout", 16);  // a duplicate: the first wins
  return rules;
}

TEST(PlacementRulesTable, ListedServicesGetTheirCountOthersTheDefault) {
  const PlacementRulesTable table(Rules(1));
  EXPECT_EQ(table.DatasetShards("t1", "checkout"), 8u);
  EXPECT_EQ(table.DatasetShards("t1", "cart"), 3u);
  EXPECT_EQ(table.DatasetShards("t2", "checkout"), 2u);
  EXPECT_EQ(table.DatasetShards("t2", "zero"), 1u);
  EXPECT_EQ(table.DatasetShards("t2", "cart"), 1u);      // known tenant, unknown service
  EXPECT_EQ(table.DatasetShards("t3", "checkout"), 1u);  // unknown tenant
  EXPECT_EQ(table.size(), 4u);
  EXPECT_EQ(table.created_at_ms(), 1234);
}

TEST(PlacementRulesTable, DefaultsComeFromTheRules) {
  EXPECT_EQ(PlacementRulesTable(Rules(4)).DatasetShards("t9", "svc"), 4u);
  EXPECT_EQ(PlacementRulesTable(Rules(0)).DatasetShards("t9", "svc"), 1u);
  const PlacementRulesTable none;
  EXPECT_EQ(none.DatasetShards("t1", "checkout"), 1u);
  EXPECT_EQ(none.size(), 0u);
  EXPECT_EQ(PlacementRulesTable(2).DatasetShards("t1", "checkout"), 2u);
}

TEST(PlacementRulesTable, LookupsDoNotAllocate) {
  const PlacementRulesTable table(Rules(1));
  // Long names, so that a std::string built from them could not live in the small buffer.
  const std::string tenant = "t1", service = "checkout";
  const std::string long_tenant(100, 't'), long_service(100, 's');
  uint32_t sum = 0;
  const size_t before = g_allocations.load();
  for (int i = 0; i < 1000; ++i) {
    sum += table.DatasetShards(tenant, service);
    sum += table.DatasetShards(long_tenant, long_service);
    sum += table.DatasetShards(tenant, long_service);
  }
  EXPECT_EQ(g_allocations.load(), before);
  EXPECT_EQ(sum, 1000u * (8 + 1 + 1));
  // The counter does see allocations.
  const std::string copy = long_tenant;
  EXPECT_GT(g_allocations.load(), before);
}

}  // namespace
}  // namespace embers::distributor
