#include "block/profile_identity.h"

#include <vector>

#include "gtest/gtest.h"

namespace embers::block {
namespace {

TEST(ProfileIdentity, DigestIgnoresSampleOrder) {
  std::vector<int64_t> a = {10, 20, 30};
  std::vector<int64_t> b = {30, 10, 20};
  EXPECT_EQ(ProfileDigest(100, {}, a, {}), ProfileDigest(100, {}, b, {}));
  std::vector<uint64_t> spans_a = {1, 2, 3};
  std::vector<uint64_t> spans_b = {3, 1, 2};
  EXPECT_EQ(ProfileDigest(100, {}, a, spans_a), ProfileDigest(100, {}, b, spans_b));
}

TEST(ProfileIdentity, DigestSeesEveryPart) {
  std::vector<int64_t> v = {10, 20, 30};
  const uint64_t base = ProfileDigest(100, {}, v, {});
  EXPECT_NE(base, ProfileDigest(101, {}, v, {}));                                 // duration
  EXPECT_NE(base, ProfileDigest(100, {.hi = 0, .lo = 1}, v, {}));                 // client id
  EXPECT_NE(base, ProfileDigest(100, {}, std::vector<int64_t>{10, 20, 31}, {}));  // a value
  EXPECT_NE(base, ProfileDigest(100, {}, std::vector<int64_t>{10, 20}, {}));      // a sample
  EXPECT_NE(base, ProfileDigest(100, {}, std::vector<int64_t>{10, 20, 30, 0}, {}));
  std::vector<uint64_t> spans = {0, 0, 7};
  EXPECT_NE(base, ProfileDigest(100, {}, v, spans));  // a span id
  // The same values paired with other spans are another profile.
  std::vector<uint64_t> s1 = {1, 2, 0}, s2 = {2, 1, 0};
  EXPECT_NE(ProfileDigest(100, {}, v, s1), ProfileDigest(100, {}, v, s2));
}

}  // namespace
}  // namespace embers::block
