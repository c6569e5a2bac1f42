#include "base/compression.h"

#include <gtest/gtest.h>
#include <zlib.h>

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

// zlib's own streaming inflate (header auto-detection, members back to back) is the oracle for
// the libdeflate-based GunzipBounded.
std::string ZlibCompress(std::string_view data) {
  uLongf size = compressBound(data.size());
  std::string out(size, '\0');
  EXPECT_EQ(compress(reinterpret_cast<Bytef*>(out.data()), &size,
                     reinterpret_cast<const Bytef*>(data.data()), data.size()),
            Z_OK);
  out.resize(size);
  return out;
}

TEST(Compression, ConcatenatedGzipAndZlibMembersInflateInOrder) {
  const std::string a(5000, 'a'), b = "second member", c(70000, 'c');
  auto out = GunzipBounded(Gzip(a) + ZlibCompress(b) + Gzip(c), 1 << 20);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, a + b + c);
}

TEST(Compression, LyingSizeTrailerIsCorruptData) {
  // The trailer's size is only the first guess at the buffer (capped by what deflate can expand
  // to); libdeflate then checks it, as zlib does, so a wrong one is corrupt data.
  const std::string data(300000, 'z');
  const std::string z = Gzip(data);
  for (uint32_t claimed : {0xffffffffu, 1u}) {
    std::string lie = z;
    for (int i = 0; i < 4; ++i) lie[lie.size() - 4 + i] = static_cast<char>(claimed >> (8 * i));
    EXPECT_EQ(GunzipBounded(lie, 1 << 20).status().code(), absl::StatusCode::kInvalidArgument);
  }
  auto good = GunzipBounded(z, 1 << 20);
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ(*good, data);
}

TEST(Compression, TrailingGarbageAndNonGzipAreInvalid) {
  std::string z = Gzip("payload");
  EXPECT_EQ(GunzipBounded(z + "x", 100).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GunzipBounded(z + "garbage!", 100).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GunzipBounded("not gzip at all", 100).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GunzipBounded("", 100).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Compression, LimitAppliesAcrossMembers) {
  std::string z = Gzip(std::string(3000, 'a')) + Gzip(std::string(3000, 'b'));
  EXPECT_TRUE(GunzipBounded(z, 6000).ok());
  EXPECT_EQ(GunzipBounded(z, 5999).status().code(), absl::StatusCode::kResourceExhausted);
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
