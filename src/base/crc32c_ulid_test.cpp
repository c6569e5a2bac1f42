#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "base/crc32c.h"
#include "base/ulid.h"

namespace embers {
namespace {

TEST(Crc32c, KnownVectors) {
  // RFC 3720 B.4 test vectors.
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8a9136aau);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62a8ab43u);
  EXPECT_EQ(Crc32c("123456789"), 0xe3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
}

TEST(Crc32c, ExtendEqualsWhole) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 7));
  for (size_t cut : {0u, 1u, 7u, 8u, 9u, 500u, 999u, 1000u}) {
    uint32_t c = Crc32cExtend(Crc32c(std::string_view(data).substr(0, cut)),
                              std::string_view(data).substr(cut));
    EXPECT_EQ(c, Crc32c(data)) << cut;
  }
}

TEST(Ulid, RoundTripAndOrder) {
  Ulid a = NewUlid(1700000000000);
  Ulid b = NewUlid(1700000000001);
  EXPECT_EQ(a.TimeMs(), 1700000000000u);
  EXPECT_LT(a.ToString(), b.ToString());
  EXPECT_LT(a, b);
  auto parsed = ParseUlid(a.ToString());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, a);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(NewUlid(1).ToString());
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Ulid, KnownEncodingAndErrors) {
  // A ULID from Pyroscope's testdata: its time is 1739264694569 ms (2025-02-11 09:04:54.569 UTC,
  // decoded independently with a few lines of Python).
  auto u = ParseUlid("01JKT426999WRKSJZ0A43F75TA");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->ToString(), "01JKT426999WRKSJZ0A43F75TA");
  EXPECT_EQ(u->TimeMs(), 1739264694569u);
  EXPECT_FALSE(ParseUlid("short").ok());
  EXPECT_FALSE(ParseUlid("81JKT426999WRKSJZ0A43F75TA").ok());  // overflows 128 bits
  EXPECT_FALSE(ParseUlid("01JKT426999WRKSJZ0A43F75T!").ok());
  // One spelling per id: Crockford's aliases would parse to an id that prints differently.
  EXPECT_FALSE(ParseUlid("01JKT426999WRKSJZ0A43F75TO").ok());
  EXPECT_FALSE(ParseUlid("01JKT426999WRKSJZ0A43F75TI").ok());
  EXPECT_FALSE(ParseUlid("01JKT426999WRKSJZ0A43F75TU").ok());
  EXPECT_EQ(ParseUlid("01jkt426999wrksjz0a43f75ta")->ToString(), "01JKT426999WRKSJZ0A43F75TA");
  const Ulid halves = Ulid::FromHalves(0x0123456789abcdefULL, 0xfedcba9876543210ULL);
  EXPECT_EQ(halves.hi(), 0x0123456789abcdefULL);
  EXPECT_EQ(halves.lo(), 0xfedcba9876543210ULL);
  EXPECT_EQ(ParseUlid(halves.ToString())->hi(), halves.hi());
  EXPECT_EQ(DeterministicUlid(5, 1, 2), DeterministicUlid(5, 1, 2));
}

}  // namespace
}  // namespace embers

#include "base/varint.h"

namespace embers {
namespace {

TEST(Varint, MoreThan64BitsIsRefused) {
  // UINT64_MAX is nine 0xff bytes and a final 0x01; a final 0x02 or an 11th byte is too much.
  std::string max(9, '\xff');
  uint64_t v = 0;
  ASSERT_TRUE(ByteReader(max + '\x01').ReadVarint64(&v));
  EXPECT_EQ(v, UINT64_MAX);
  EXPECT_FALSE(ByteReader(max + '\x02').ReadVarint64(&v));
  EXPECT_FALSE(ByteReader(max + '\xff' + '\x01').ReadVarint64(&v));
}

TEST(Varint, RoundTripAndTruncation) {
  std::string buf;
  const uint64_t values[] = {0, 1, 127, 128, 300, UINT32_MAX, UINT64_MAX};
  for (uint64_t v : values) PutVarint64(&buf, v);
  PutZigzag64(&buf, -5);
  PutZigzag64(&buf, INT64_MIN);
  PutFixed32(&buf, 0xdeadbeef);
  PutFixed64(&buf, 0x0123456789abcdefull);
  PutLengthPrefixed(&buf, "hello");
  ByteReader r(buf);
  for (uint64_t v : values) {
    uint64_t got;
    ASSERT_TRUE(r.ReadVarint64(&got));
    EXPECT_EQ(got, v);
  }
  int64_t z;
  ASSERT_TRUE(r.ReadZigzag64(&z));
  EXPECT_EQ(z, -5);
  ASSERT_TRUE(r.ReadZigzag64(&z));
  EXPECT_EQ(z, INT64_MIN);
  uint32_t f32;
  uint64_t f64;
  ASSERT_TRUE(r.ReadFixed32(&f32));
  EXPECT_EQ(f32, 0xdeadbeefu);
  ASSERT_TRUE(r.ReadFixed64(&f64));
  EXPECT_EQ(f64, 0x0123456789abcdefull);
  std::string_view s;
  ASSERT_TRUE(r.ReadLengthPrefixed(&s));
  EXPECT_EQ(s, "hello");
  EXPECT_TRUE(r.empty());

  uint64_t v;
  ByteReader truncated(std::string_view("\x80\x80", 2));
  EXPECT_FALSE(truncated.ReadVarint64(&v));
  std::string too_long(11, '\x80');
  ByteReader overlong(too_long);
  EXPECT_FALSE(overlong.ReadVarint64(&v));
  ByteReader short_prefix(
      std::string_view("\x05"
                       "ab",
                       3));
  EXPECT_FALSE(short_prefix.ReadLengthPrefixed(&s));
}

TEST(Varint, SkipVarintsStopsAfterTheLastOneAskedFor) {
  // Varints of 1 to 10 bytes, so their ends fall anywhere within the 8-byte words skipped at once.
  std::vector<uint64_t> values;
  for (int i = 0; i < 200; ++i) values.push_back((uint64_t{1} << ((i * 7) % 64)) + i);
  std::string buf;
  std::vector<size_t> ends;
  for (uint64_t v : values) {
    PutVarint64(&buf, v);
    ends.push_back(buf.size());
  }
  for (size_t count = 0; count <= values.size(); ++count) {
    ByteReader r(buf);
    ASSERT_TRUE(r.SkipVarints(count)) << count;
    EXPECT_EQ(r.position(), count == 0 ? 0 : ends[count - 1]) << count;
    if (count < values.size()) {
      uint64_t next;
      ASSERT_TRUE(r.ReadVarint64(&next));
      EXPECT_EQ(next, values[count]);
    }
  }
  EXPECT_FALSE(ByteReader(buf).SkipVarints(values.size() + 1));
  EXPECT_FALSE(ByteReader(std::string_view("\x80\x80\x80", 3)).SkipVarints(1));
}

}  // namespace
}  // namespace embers
