// libFuzzer entry point for the decompression of untrusted bodies (every gzip'd push and every
// Content-Encoding: gzip request goes through GunzipBounded).
//
// Differential: zlib's streaming inflate, with the header auto-detection and member-by-member
// loop GunzipBounded documents, is the independent oracle. Whenever both succeed the bytes must
// be equal, and GunzipBounded must not reject as corrupt what zlib inflates. The converse is
// allowed: libdeflate accepts a few Huffman codes zlib calls invalid (regressions/
// compression_fuzzer/zlib_invalid_code_accepted_by_libdeflate.zz), and what it then returns has
// still passed the stream's Adler-32/CRC-32 check. Limits: a result is never larger than the
// limit, and ZstdDecompressBounded must not crash either.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/compression.h"

namespace {

constexpr size_t kLimit = 1 << 20;

enum class Outcome { kOk, kCorrupt, kTooLarge };

Outcome ZlibInflate(std::string_view data, std::string* out) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) std::abort();
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  char chunk[16384];
  Outcome result = Outcome::kCorrupt;
  for (;;) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof(chunk);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    out->append(chunk, sizeof(chunk) - zs.avail_out);
    if (out->size() > kLimit) {
      result = Outcome::kTooLarge;
      break;
    }
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) {
        result = Outcome::kOk;
        break;
      }
      inflateReset(&zs);
      continue;
    }
    if (rc != Z_OK && !(rc == Z_BUF_ERROR && zs.avail_in > 0)) break;
  }
  inflateEnd(&zs);
  return result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto ours = embers::GunzipBounded(input, kLimit);
  if (ours.ok() && ours->size() > kLimit) std::abort();
  std::string reference;
  const Outcome ref = ZlibInflate(input, &reference);
  if (ours.ok() && ref == Outcome::kOk && *ours != reference) std::abort();
  if (!ours.ok() && ours.status().code() == absl::StatusCode::kInvalidArgument &&
      ref == Outcome::kOk) {
    std::abort();
  }
  (void)embers::ZstdDecompressBounded(input, kLimit);
  return 0;
}
