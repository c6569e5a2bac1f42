#include "base/compression.h"
#include "base/strings.h"

#include <algorithm>

#include <libdeflate.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <memory>

#include "base/status.h"

namespace embers {
namespace {

absl::Status TooLarge(size_t max_output) {
  return PayloadTooLargeError(
      StrCat("decompressed body exceeds the limit of ", max_output, " bytes"));
}

}  // namespace

Compression SniffCompression(std::string_view data) {
  if (data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
      static_cast<unsigned char>(data[1]) == 0x8b) {
    return Compression::kGzip;
  }
  if (data.size() >= 4 && static_cast<unsigned char>(data[0]) == 0x28 &&
      static_cast<unsigned char>(data[1]) == 0xb5 && static_cast<unsigned char>(data[2]) == 0x2f &&
      static_cast<unsigned char>(data[3]) == 0xfd) {
    return Compression::kZstd;
  }
  return Compression::kNone;
}

namespace {

// One decompressor per thread: allocating one costs more than inflating a small profile.
libdeflate_decompressor* ThreadDecompressor() {
  struct Holder {
    libdeflate_decompressor* d = libdeflate_alloc_decompressor();
    ~Holder() { libdeflate_free_decompressor(d); }
  };
  thread_local Holder holder;
  return holder.d;
}

bool IsGzipMember(std::string_view data) {
  return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
         static_cast<unsigned char>(data[1]) == 0x8b;
}

// A zlib (RFC 1950) header: deflate with a window of at most 32 KiB, and a valid check value.
bool IsZlibHeader(std::string_view data) {
  if (data.size() < 2) return false;
  const unsigned cmf = static_cast<unsigned char>(data[0]);
  const unsigned flg = static_cast<unsigned char>(data[1]);
  return (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && (cmf * 256 + flg) % 31 == 0;
}

// The size a gzip stream says it inflates to (ISIZE, the last 4 bytes: the last member's size
// mod 2^32). Only a first guess at the buffer size; nothing trusts it.
size_t GzipSizeHint(std::string_view data) {
  if (data.size() < 18) return 0;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data() + data.size() - 4);
  return static_cast<size_t>(p[0]) | static_cast<size_t>(p[1]) << 8 |
         static_cast<size_t>(p[2]) << 16 | static_cast<size_t>(p[3]) << 24;
}

}  // namespace

// libdeflate inflates a whole buffer in one call, about 2.5x faster than zlib's streaming
// inflate on pushed profiles (docs/performance.md). It needs the output buffer up front: the
// first guess is the gzip trailer's size, and a buffer found too small is doubled (up to
// `max_output`) and the member inflated again, so a lying trailer costs time, never memory
// beyond the limit. As zlib's inflate with header auto-detection does, the input may be several
// gzip or zlib members back to back; each is inflated after the previous one.
absl::StatusOr<std::string> GunzipBounded(std::string_view data, size_t max_output) {
  libdeflate_decompressor* d = ThreadDecompressor();
  if (d == nullptr) return absl::InternalError("libdeflate_alloc_decompressor failed");
  // Deflate expands at most ~1,032:1, so a trailer claiming more is a lie: do not let a tiny
  // body make us allocate the whole limit up front.
  const size_t plausible = data.size() * 1032 + 65536;
  size_t capacity = std::min({max_output, plausible,
                              std::max<size_t>(IsGzipMember(data) ? GzipSizeHint(data) : 0,
                                               std::max<size_t>(data.size() * 4, 4096))});
  std::string out;
  size_t produced = 0;
  std::string_view rest = data;
  do {
    const bool gzip = IsGzipMember(rest);
    if (!gzip && !IsZlibHeader(rest)) {
      return absl::InvalidArgumentError(rest.size() < 2 && produced > 0
                                            ? "invalid gzip data: trailing bytes after the stream"
                                            : "invalid gzip data: incorrect header check");
    }
    for (;;) {
      out.resize(std::max(capacity, produced + 1));
      size_t in_used = 0, out_used = 0;
      const libdeflate_result rc =
          gzip ? libdeflate_gzip_decompress_ex(d, rest.data(), rest.size(), out.data() + produced,
                                               out.size() - produced, &in_used, &out_used)
               : libdeflate_zlib_decompress_ex(d, rest.data(), rest.size(), out.data() + produced,
                                               out.size() - produced, &in_used, &out_used);
      if (rc == LIBDEFLATE_SUCCESS) {
        if (produced + out_used > max_output) return TooLarge(max_output);
        produced += out_used;
        rest.remove_prefix(in_used);
        break;
      }
      if (rc != LIBDEFLATE_INSUFFICIENT_SPACE) {
        return absl::InvalidArgumentError("invalid gzip data: corrupt or truncated stream");
      }
      if (out.size() >= max_output) return TooLarge(max_output);
      capacity = std::min(max_output, out.size() * 2);
    }
  } while (!rest.empty());
  out.resize(produced);
  return out;
}

namespace {

struct ZstdDCtxDeleter {
  void operator()(ZSTD_DCtx* dctx) const { ZSTD_freeDCtx(dctx); }
};

// One decompression context per thread, reset before each use: creating one costs a few hundred
// KiB of allocations, and the threads that decode request bodies are a fixed pool.
ZSTD_DCtx* ThreadZstdContext() {
  thread_local std::unique_ptr<ZSTD_DCtx, ZstdDCtxDeleter> dctx(ZSTD_createDCtx());
  return dctx.get();
}

// The largest window a frame may ask for. A frame's header alone makes the decoder allocate its
// window (zstd's own limit is 128 MiB), so the limit follows the output bound: no window need be
// larger than the output, but streaming compressors pick up to 8 MiB (level 19) whatever the input
// size, so never below that.
int ZstdWindowLogMax(size_t max_output) {
  int log = 10;
  while (log < 27 && (size_t{1} << log) < max_output) ++log;
  return std::max(log, 23);
}

}  // namespace

absl::StatusOr<std::string> ZstdDecompressBounded(std::string_view data, size_t max_output) {
  ZSTD_DCtx* dctx = ThreadZstdContext();
  if (dctx == nullptr) return absl::InternalError("ZSTD_createDCtx failed");
  ZSTD_DCtx_reset(dctx, ZSTD_reset_session_and_parameters);
  size_t rc = ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, ZstdWindowLogMax(max_output));
  if (ZSTD_isError(rc)) {
    return absl::InternalError(StrCat("zstd window limit: ", ZSTD_getErrorName(rc)));
  }
  std::string out;
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  char chunk[64 * 1024];
  while (true) {
    ZSTD_outBuffer ob{chunk, sizeof(chunk), 0};
    rc = ZSTD_decompressStream(dctx, &ob, &in);
    if (ZSTD_isError(rc)) {
      if (ZSTD_getErrorCode(rc) == ZSTD_error_frameParameter_windowTooLarge) {
        return PayloadTooLargeError(StrCat(
            "zstd frame needs a window larger than ", size_t{1} << ZstdWindowLogMax(max_output),
            " bytes: compress with a lower level or a smaller window"));
      }
      return absl::InvalidArgumentError(StrCat("invalid zstd data: ", ZSTD_getErrorName(rc)));
    }
    if (out.size() + ob.pos > max_output) return TooLarge(max_output);
    out.append(chunk, ob.pos);
    if (rc == 0 && in.pos == in.size) break;
    if (in.pos == in.size && ob.pos < ob.size) {
      return absl::InvalidArgumentError("zstd data is truncated");
    }
  }
  return out;
}

absl::StatusOr<std::string> MaybeDecompress(std::string_view data, size_t max_output) {
  switch (SniffCompression(data)) {
    case Compression::kGzip:
      return GunzipBounded(data, max_output);
    case Compression::kZstd:
      return ZstdDecompressBounded(data, max_output);
    case Compression::kNone:
      break;
  }
  if (data.size() > max_output) return TooLarge(max_output);
  return std::string(data);
}

std::string Gzip(std::string_view data, int level) {
  z_stream zs{};
  deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out;
  out.resize(deflateBound(&zs, data.size()) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace embers
