// CowChunkedMap against std::map: random inserts and erases with tiny chunks (so splits and
// merges happen constantly), and copies taken in between that must keep their contents however
// the original changes afterwards.
#include "metastore/index/cow_chunked_map.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <vector>

namespace embers::metastore {
namespace {

using SmallMap = CowChunkedMap<int, std::shared_ptr<const int>, 4>;

std::map<int, int> Contents(const SmallMap& m) {
  std::map<int, int> out;
  int previous = -1;
  for (const auto& [k, v] : m) {
    EXPECT_GT(k, previous) << "iteration out of order";
    previous = k;
    out.emplace(k, *v);
  }
  EXPECT_EQ(out.size(), m.size());
  return out;
}

TEST(CowChunkedMapTest, MatchesStdMapAndCopiesNeverChange) {
  std::mt19937 rng(7);
  SmallMap map;
  std::map<int, int> model;
  uint64_t generation = 1;
  std::vector<std::pair<SmallMap, std::map<int, int>>> copies;
  for (int op = 0; op < 20000; ++op) {
    const int key = static_cast<int>(rng() % 500);
    if (rng() % 3 == 0) {
      EXPECT_EQ(map.Erase(key, generation), model.erase(key) == 1) << key;
    } else {
      const int value = static_cast<int>(rng());
      const bool added = model.emplace(key, value).second;
      EXPECT_EQ(map.Insert(key, std::make_shared<const int>(value), generation), added) << key;
    }
    if (op % 1000 == 0) {
      // What BlockIndex::Capture does: copy, then write in a newer generation.
      copies.emplace_back(map, model);
      ++generation;
    }
    const int probe = static_cast<int>(rng() % 500);
    const std::shared_ptr<const int>* found = map.Find(probe);
    auto it = model.find(probe);
    ASSERT_EQ(found != nullptr, it != model.end()) << probe;
    if (found != nullptr) {
      EXPECT_EQ(**found, it->second);
    }
  }
  EXPECT_EQ(Contents(map), model);
  for (const auto& [copy, at_copy] : copies) EXPECT_EQ(Contents(copy), at_copy);
}

TEST(CowChunkedMapTest, InOrderInsertsFillChunksAndWritesCopyOneChunk) {
  CowChunkedMap<int, std::shared_ptr<const int>, 512> map;
  for (int i = 0; i < 100000; ++i) map.Insert(i, std::make_shared<const int>(i), 1);
  // Appends keep chunks full rather than half full.
  EXPECT_EQ(map.chunk_count(), (100000 + 511) / 512);
  auto copy = map;
  // A write in the next generation copies only the chunk it touches: only that chunk's other
  // 511 values are now held by two chunks.
  ASSERT_TRUE(map.Erase(50000, 2));
  int held_twice = 0;
  for (const auto& [k, v] : copy) held_twice += v.use_count() == 2;
  EXPECT_EQ(held_twice, 511);
  EXPECT_EQ(copy.size(), 100000u);
  EXPECT_EQ(map.size(), 99999u);
  EXPECT_EQ(map.Find(50000), nullptr);
  ASSERT_NE(copy.Find(50000), nullptr);
}

TEST(CowChunkedMapTest, RemovalsMergeNearlyEmptyChunks) {
  CowChunkedMap<int, std::shared_ptr<const int>, 512> map;
  for (int i = 0; i < 100000; ++i) map.Insert(i, std::make_shared<const int>(i), 1);
  std::mt19937 rng(3);
  for (int i = 0; i < 100000; ++i) {
    if (rng() % 10 != 0) map.Erase(i, 1);
  }
  EXPECT_GT(map.size(), 9000u);
  // Without merging this would stay at 196 chunks of ~51 entries.
  EXPECT_LE(map.chunk_count(), map.size() / 128 + 1);
}

}  // namespace
}  // namespace embers::metastore
