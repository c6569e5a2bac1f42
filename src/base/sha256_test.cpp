// SHA-256, HMAC-SHA-256 and the incremental hasher against published test vectors.
#include "base/sha256.h"

#include <string>

#include "gtest/gtest.h"

namespace embers {
namespace {

TEST(Sha256Test, KnownDigests) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231 test case 2.
  EXPECT_EQ(LowerHex(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Sha256Test, HasherMatchesTheOneShotDigestWhateverThePieces) {
  std::string data;
  for (int i = 0; i < 100000; ++i) data.push_back(static_cast<char>(i * 31));
  for (size_t piece : {1u, 7u, 64u, 4096u, 100000u}) {
    Sha256Hasher hasher;
    for (size_t at = 0; at < data.size(); at += piece) {
      hasher.Update(std::string_view(data).substr(at, piece));
    }
    EXPECT_EQ(LowerHex(hasher.Finish()), Sha256Hex(data)) << piece;
  }
  Sha256Hasher empty;
  EXPECT_EQ(LowerHex(empty.Finish()), Sha256Hex(""));
}

}  // namespace
}  // namespace embers
