#include "base/compression.h"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include "base/status.h"

namespace embers {
namespace {

// Compresses as a streaming client would (no content size in the frame header) with the given
// level and, when non-zero, window log.
std::string ZstdStream(std::string_view data, int level, int window_log = 0) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
  if (window_log != 0) ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, window_log);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
  std::string out(ZSTD_compressBound(data.size()) + 1024, '\0');
  ZSTD_outBuffer ob{out.data(), out.size(), 0};
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  // Fed with ZSTD_e_continue first, the compressor cannot size the window to the input: the frame
  // declares the level's (or the requested) window, as a streaming client's would.
  while (in.pos < in.size) ZSTD_compressStream2(cctx, &ob, &in, ZSTD_e_continue);
  size_t rc = 0;
  do {
    rc = ZSTD_compressStream2(cctx, &ob, &in, ZSTD_e_end);
  } while (rc != 0 && !ZSTD_isError(rc));
  ZSTD_freeCCtx(cctx);
  EXPECT_EQ(rc, 0u) << ZSTD_getErrorName(rc);
  out.resize(ob.pos);
  return out;
}

TEST(Compression, ZstdRoundTripReusesTheThreadsContext) {
  std::string data(300000, 'z');
  for (int i = 0; i < 3; ++i) {  // the second and third use the reset context of the first
    std::string z = ZstdStream(data, 3);
    EXPECT_EQ(SniffCompression(z), Compression::kZstd);
    auto out = ZstdDecompressBounded(z, 1 << 20);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(*out, data);
  }
}

TEST(Compression, ZstdBombIsRejectedWithoutInflating) {
  std::string z = ZstdStream(std::string(64 << 20, '\0'), 3);
  auto out = ZstdDecompressBounded(z, 1 << 20);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(HttpStatusOverride(out.status()), 413);
  // A corrupt frame after a failed one still decodes as invalid (the context was reset).
  std::string bad = ZstdStream("hello", 1);
  bad[bad.size() / 2] ^= 0x55;
  EXPECT_FALSE(ZstdDecompressBounded(bad, 1 << 20).ok());
  EXPECT_TRUE(ZstdDecompressBounded(ZstdStream("hello", 1), 1 << 20).ok());
}

TEST(Compression, ZstdFrameAskingForAHugeWindowIsRefused) {
  // A 128 MiB window would be allocated from the frame header alone, before any output.
  std::string z = ZstdStream(std::string(1 << 20, 'w'), 3, /*window_log=*/27);
  auto out = ZstdDecompressBounded(z, 4 << 20);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(HttpStatusOverride(out.status()), 413);
  EXPECT_NE(out.status().message().find("window"), std::string_view::npos) << out.status();
  // The same frame is fine where the output bound itself allows 128 MiB.
  EXPECT_TRUE(ZstdDecompressBounded(z, 128 << 20).ok());
}

TEST(Compression, ZstdHighLevelStreamingFramesStillDecodeUnderASmallBound) {
  // Level 19 picks an 8 MiB window whatever the input size: still accepted under a 4 MiB bound.
  std::string data(100000, 'q');
  auto out = ZstdDecompressBounded(ZstdStream(data, 19), 4 << 20);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, data);
}

TEST(Compression, TruncatedZstdIsInvalid) {
  std::string z = ZstdStream(std::string(100000, 't'), 3);
  auto out = ZstdDecompressBounded(std::string_view(z).substr(0, z.size() - 4), 1 << 20);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
}

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
