#include "block/spill_buffer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "base/crc32c.h"
#include "objstore/memory_bucket.h"
#include "objstore/test_temp_dir.h"

namespace embers::block {
namespace {

class SpillBufferTest : public ::testing::Test {
 protected:
  size_t FilesInDir() const {
    return static_cast<size_t>(std::distance(std::filesystem::directory_iterator(dir_), {}));
  }
  objstore::TempDir scratch_;
  const std::string dir_ = scratch_.path();
};

std::string Pattern(size_t n, char seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + i * 7);
  return s;
}

TEST_F(SpillBufferTest, StaysInMemoryUpToItsLimitThenMovesToAFile) {
  SpillBuffer buffer(dir_, 100);
  buffer.Append(Pattern(60, 'a'));
  buffer.Append(Pattern(40, 'b'));
  EXPECT_FALSE(buffer.spilled());
  EXPECT_EQ(FilesInDir(), 0u);
  buffer.Append("x");
  EXPECT_TRUE(buffer.spilled());
  EXPECT_LT(buffer.MemoryBytes(), 100u);  // the memory was given back
  EXPECT_EQ(FilesInDir(), 1u);
  buffer.Append(Pattern(3 << 20, 'c'));
  ASSERT_TRUE(buffer.status().ok()) << buffer.status();
  EXPECT_EQ(buffer.size(), 101u + (3 << 20));

  // Copying it on gives every byte, in order, with their checksum.
  const std::string want = Pattern(60, 'a') + Pattern(40, 'b') + "x" + Pattern(3 << 20, 'c');
  SpillBuffer copy;  // memory only
  uint32_t crc = Crc32c("head");
  copy.Append("head");
  copy.AppendFrom(buffer, &crc);
  ASSERT_TRUE(copy.status().ok()) << copy.status();
  EXPECT_TRUE(copy.memory() == "head" + want);
  EXPECT_EQ(crc, Crc32c("head" + want));

  // Uploading streams the file; the bucket gets the same bytes.
  objstore::MemoryBucket bucket;
  ASSERT_TRUE(buffer.Upload(&bucket, "a/b").ok());
  EXPECT_TRUE(bucket.Get("a/b").value() == want);
}

TEST_F(SpillBufferTest, FileIsRemovedWithTheBufferAndMovesWithIt) {
  {
    SpillBuffer buffer(dir_, 0);
    buffer.Append("spilled at once");
    EXPECT_TRUE(buffer.spilled());
    SpillBuffer moved = std::move(buffer);
    EXPECT_EQ(FilesInDir(), 1u);
    EXPECT_EQ(moved.size(), 15u);
    objstore::MemoryBucket bucket;
    ASSERT_TRUE(moved.Upload(&bucket, "k").ok());
    EXPECT_EQ(bucket.Get("k").value(), "spilled at once");
    moved = SpillBuffer();  // assigning over it removes its file
    EXPECT_EQ(FilesInDir(), 0u);
  }
  EXPECT_EQ(FilesInDir(), 0u);
}

TEST_F(SpillBufferTest, MemoryOnlyNeverSpills) {
  SpillBuffer buffer;
  buffer.Append(Pattern(5 << 20, 'z'));
  EXPECT_FALSE(buffer.spilled());
  EXPECT_EQ(buffer.memory().size(), 5u << 20);
  objstore::MemoryBucket bucket;
  ASSERT_TRUE(buffer.Upload(&bucket, "k").ok());
  EXPECT_EQ(bucket.Size("k").value(), 5u << 20);
}

TEST_F(SpillBufferTest, ErrorsAreStickyAndNameTheFile) {
  SpillBuffer buffer(dir_ + "/missing-directory", 4);
  buffer.Append("more than four bytes");
  ASSERT_FALSE(buffer.status().ok());
  EXPECT_NE(buffer.status().message().find("missing-directory"), std::string::npos);
  buffer.Append("dropped");
  EXPECT_EQ(buffer.size(), 0u);
  objstore::MemoryBucket bucket;
  EXPECT_FALSE(buffer.Upload(&bucket, "k").ok());
  EXPECT_FALSE(bucket.Exists("k").value());
  // A copy of a failed buffer fails too.
  SpillBuffer copy;
  uint32_t crc = 0;
  copy.AppendFrom(buffer, &crc);
  EXPECT_FALSE(copy.status().ok());
}

}  // namespace
}  // namespace embers::block
