#include "base/compression.h"
#include "base/strings.h"

#include <zlib.h>
#include <zstd.h>

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

absl::StatusOr<std::string> GunzipBounded(std::string_view data, size_t max_output) {
  z_stream zs{};
  // 15 + 32: accept both gzip and zlib headers.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return absl::InternalError("inflateInit2 failed");
  std::string out;
  out.resize(std::min<size_t>(max_output, std::max<size_t>(data.size() * 4, 4096)));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  size_t produced = 0;
  int rc = Z_OK;
  while (true) {
    if (produced == out.size()) {
      if (out.size() >= max_output) {
        // Output is full: the stream may still be exactly at its end. Probe one more byte.
        char probe;
        zs.next_out = reinterpret_cast<Bytef*>(&probe);
        zs.avail_out = 1;
        rc = inflate(&zs, Z_NO_FLUSH);
        inflateEnd(&zs);
        if (rc == Z_STREAM_END && zs.avail_out == 1) break;
        return TooLarge(max_output);
      }
      out.resize(std::min(max_output, out.size() * 2));
    }
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(out.size() - produced);
    rc = inflate(&zs, Z_NO_FLUSH);
    produced = out.size() - zs.avail_out;
    if (rc == Z_STREAM_END) {
      // Concatenated gzip members are legal; continue with the next one if input remains.
      if (zs.avail_in > 0) {
        inflateReset(&zs);
        continue;
      }
      break;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
      inflateEnd(&zs);
      return absl::InvalidArgumentError("gzip data is truncated");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      std::string msg = zs.msg ? zs.msg : "corrupt stream";
      inflateEnd(&zs);
      return absl::InvalidArgumentError(StrCat("invalid gzip data: ", msg));
    }
  }
  inflateEnd(&zs);
  out.resize(produced);
  return out;
}

absl::StatusOr<std::string> ZstdDecompressBounded(std::string_view data, size_t max_output) {
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  if (dctx == nullptr) return absl::InternalError("ZSTD_createDCtx failed");
  std::string out;
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  size_t rc = 0;
  char chunk[64 * 1024];
  while (true) {
    ZSTD_outBuffer ob{chunk, sizeof(chunk), 0};
    rc = ZSTD_decompressStream(dctx, &ob, &in);
    if (ZSTD_isError(rc)) {
      ZSTD_freeDCtx(dctx);
      return absl::InvalidArgumentError(StrCat("invalid zstd data: ", ZSTD_getErrorName(rc)));
    }
    if (out.size() + ob.pos > max_output) {
      ZSTD_freeDCtx(dctx);
      return TooLarge(max_output);
    }
    out.append(chunk, ob.pos);
    if (rc == 0 && in.pos == in.size) break;
    if (in.pos == in.size && ob.pos < ob.size) {
      ZSTD_freeDCtx(dctx);
      return absl::InvalidArgumentError("zstd data is truncated");
    }
  }
  ZSTD_freeDCtx(dctx);
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
