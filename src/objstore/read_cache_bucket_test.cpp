// ReadCacheBucket: repeated ranged reads are served from memory within its byte bound, large reads
// pass through, and writes or deletes through it drop what it held of the key.

#include "objstore/read_cache_bucket.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "base/strings.h"
#include "gtest/gtest.h"
#include "objstore/memory_bucket.h"

namespace embers::objstore {
namespace {

// Counts the ranged reads that reach the store.
class CountingBucket : public ForwardingBucket {
 public:
  using ForwardingBucket::ForwardingBucket;
  absl::StatusOr<std::string> GetRange(std::string_view key, uint64_t offset,
                                       uint64_t length) override {
    ++reads;
    return ForwardingBucket::GetRange(key, offset, length);
  }
  std::atomic<int> reads{0};
};

class ReadCacheBucketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_.Put("a", "0123456789").ok());
    ASSERT_TRUE(store_.Put("b", std::string(100, 'b')).ok());
  }
  MemoryBucket store_;
  CountingBucket counting_{&store_};
};

TEST_F(ReadCacheBucketTest, RepeatedRangesAreServedFromMemory) {
  ReadCacheBucket cache(&counting_, {.max_bytes = 1000, .max_entry_bytes = 50});
  EXPECT_EQ(cache.GetRange("a", 2, 3).value(), "234");
  EXPECT_EQ(cache.GetRange("a", 2, 3).value(), "234");
  EXPECT_EQ(counting_.reads, 1);
  EXPECT_EQ(cache.GetRange("a", 2, 4).value(), "2345");  // another range: another entry
  EXPECT_EQ(counting_.reads, 2);
  EXPECT_EQ(cache.entries(), 2u);
  EXPECT_EQ(cache.bytes(), 7);
  // Larger than max_entry_bytes: read every time, never held.
  EXPECT_EQ(cache.GetRange("b", 0, 100).value().size(), 100u);
  EXPECT_EQ(cache.GetRange("b", 0, 100).value().size(), 100u);
  EXPECT_EQ(counting_.reads, 4);
  EXPECT_EQ(cache.entries(), 2u);
  // Errors are not cached.
  EXPECT_EQ(cache.GetRange("missing", 0, 1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(cache.GetRange("missing", 0, 1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(counting_.reads, 6);
}

TEST_F(ReadCacheBucketTest, EvictsTheLeastRecentlyUsedToStayWithinItsBytes) {
  ReadCacheBucket cache(&counting_, {.max_bytes = 30, .max_entry_bytes = 30});
  ASSERT_TRUE(cache.GetRange("b", 0, 10).ok());   // A
  ASSERT_TRUE(cache.GetRange("b", 10, 10).ok());  // B
  ASSERT_TRUE(cache.GetRange("b", 0, 10).ok());   // A again: now the most recent
  ASSERT_TRUE(cache.GetRange("b", 20, 15).ok());  // C: 35 bytes > 30, B goes
  EXPECT_EQ(cache.bytes(), 25);
  const int before = counting_.reads;
  ASSERT_TRUE(cache.GetRange("b", 0, 10).ok());  // A: still held
  EXPECT_EQ(counting_.reads, before);
  ASSERT_TRUE(cache.GetRange("b", 10, 10).ok());  // B: read again
  EXPECT_EQ(counting_.reads, before + 1);
  EXPECT_LE(cache.bytes(), 30);
}

TEST_F(ReadCacheBucketTest, WritesAndDeletesDropTheKeysEntries) {
  ReadCacheBucket cache(&counting_, {.max_bytes = 1000, .max_entry_bytes = 100});
  ASSERT_EQ(cache.GetRange("a", 0, 3).value(), "012");
  ASSERT_TRUE(cache.Put("a", "abcdef").ok());
  EXPECT_EQ(cache.GetRange("a", 0, 3).value(), "abc");
  ASSERT_TRUE(cache.Delete("a").ok());
  EXPECT_EQ(cache.GetRange("a", 0, 3).status().code(), absl::StatusCode::kNotFound);
  ASSERT_EQ(cache.GetRange("b", 0, 3).value(), "bbb");
  ASSERT_TRUE(cache.DeleteMany(std::vector<std::string>{"b"}).ok());
  EXPECT_EQ(cache.entries(), 0u);
  EXPECT_EQ(cache.bytes(), 0);
}

TEST_F(ReadCacheBucketTest, ConcurrentReadersSeeTheRightBytes) {
  ReadCacheBucket cache(&counting_, {.max_bytes = 64, .max_entry_bytes = 64});
  std::atomic<int> wrong{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const uint64_t offset = static_cast<uint64_t>((i * 7 + t) % 10);
        absl::StatusOr<std::string> got = cache.GetRange("a", offset, 3);
        if (!got.ok() || *got != std::string("0123456789").substr(offset, 3)) ++wrong;
      }
    });
  }
  for (std::thread& r : readers) r.join();
  EXPECT_EQ(wrong, 0);
  EXPECT_LE(cache.bytes(), 64);
}

}  // namespace
}  // namespace embers::objstore
