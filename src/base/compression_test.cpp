#include "base/compression.h"

#include <gtest/gtest.h>

#include "base/status.h"

namespace embers {
namespace {

TEST(Compression, GzipRoundTrip) {
  std::string data(100000, 'x');
  std::string z = Gzip(data);
  EXPECT_EQ(SniffCompression(z), Compression::kGzip);
  auto out = GunzipBounded(z, 1 << 20);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, data);
}

TEST(Compression, ExactlyAtLimitIsAccepted) {
  std::string data(4096, 'a');
  auto out = GunzipBounded(Gzip(data), 4096);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->size(), 4096u);
}

TEST(Compression, BombIsRejectedWithoutInflating) {
  std::string big(64 << 20, '\0');  // compresses to ~64 KiB
  std::string z = Gzip(big, 9);
  auto out = GunzipBounded(z, 1 << 20);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(HttpStatusOverride(out.status()), 413);
}

TEST(Compression, TruncatedAndCorruptGzip) {
  std::string z = Gzip(std::string(10000, 'q'));
  auto truncated = GunzipBounded(z.substr(0, z.size() / 2), 1 << 20);
  EXPECT_EQ(truncated.status().code(), absl::StatusCode::kInvalidArgument);
  std::string corrupt = z;
  corrupt[12] ^= 0x55;
  corrupt[13] ^= 0x55;
  auto bad = GunzipBounded(corrupt, 1 << 20);
  EXPECT_FALSE(bad.ok());
}

TEST(Compression, MaybeDecompressPassesPlainDataThrough) {
  auto out = MaybeDecompress("plain", 100);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "plain");
  EXPECT_EQ(MaybeDecompress(std::string(101, 'p'), 100).status().code(),
            absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace embers
