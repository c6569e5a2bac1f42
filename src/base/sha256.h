// SHA-256 and HMAC-SHA-256 (OpenSSL's libcrypto): the hashes API tokens are stored as
// (server/api_tokens.h) and the keys and signatures of S3 requests (objstore/s3/sigv4.h).
#ifndef EMBERS_BASE_SHA256_H_
#define EMBERS_BASE_SHA256_H_

#include <array>
#include <string>
#include <string_view>

namespace embers {

using Sha256Digest = std::array<unsigned char, 32>;

Sha256Digest Sha256(std::string_view data);
Sha256Digest HmacSha256(std::string_view key, std::string_view data);

// The digest's bytes (e.g. as the key of the next HMAC).
inline std::string_view BytesOf(const Sha256Digest& digest) {
  return std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size());
}

// Lower-case hexadecimal of the bytes (64 digits for a digest).
std::string LowerHex(std::string_view bytes);
inline std::string LowerHex(const Sha256Digest& digest) { return LowerHex(BytesOf(digest)); }

// LowerHex(Sha256(data)).
inline std::string Sha256Hex(std::string_view data) { return LowerHex(Sha256(data)); }

}  // namespace embers

#endif  // EMBERS_BASE_SHA256_H_
