// SHA-256 and HMAC-SHA-256 (OpenSSL's libcrypto): the hashes API tokens are stored as
// (server/api_tokens.h), the keys and signatures of S3 requests (objstore/s3/sigv4.h) and the
// payload hashes of the files the S3 bucket uploads (Sha256Hasher, fed piece by piece).
#ifndef EMBERS_BASE_SHA256_H_
#define EMBERS_BASE_SHA256_H_

#include <array>
#include <string>
#include <string_view>

namespace embers {

using Sha256Digest = std::array<unsigned char, 32>;

Sha256Digest Sha256(std::string_view data);

// SHA-256 of data that arrives in pieces (a file read a buffer at a time), so that it is never
// held in memory whole.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(std::string_view data);
  // The digest of everything passed to Update; the hasher is spent afterwards.
  Sha256Digest Finish();

 private:
  struct State;
  State* state_;
};
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
