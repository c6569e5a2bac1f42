#include "metastore/dlq_pending.h"

#include <gtest/gtest.h>

#include "base/strings.h"
#include "base/ulid.h"
#include "objstore/memory_bucket.h"

namespace embers::metastore {
namespace {

constexpr int64_t kMade = 1700000000000;
constexpr int64_t kMinute = 60000;

TEST(ParkedMetadataCheckTest, OnlyParkedSegmentsThatMayOverlapTheRangeMakeItIncomplete) {
  objstore::MemoryBucket bucket;
  ParkedMetadataCheck check(&bucket, absl::Hours(1), absl::Minutes(10));
  EXPECT_TRUE(check.Check(0, kMade * 2).ok()) << "an empty dlq/ holds nothing";

  const std::string parked = StrCat("dlq/3/anonymous/", NewUlid(kMade).ToString(), "/meta.pb");
  ASSERT_TRUE(bucket.Put(parked, "m").ok());
  // Profiles of a segment made at kMade lie in [kMade - 1 h, kMade + 10 min].
  absl::Status s = check.Check(kMade - 30 * kMinute, kMade - 20 * kMinute);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("1 segment(s)"), std::string_view::npos) << s;
  EXPECT_FALSE(check.Check(kMade + 5 * kMinute, kMade + 6 * kMinute).ok());
  EXPECT_TRUE(check.Check(kMade - 3 * 60 * kMinute, kMade - 61 * kMinute).ok());
  EXPECT_TRUE(check.Check(kMade + 11 * kMinute, kMade + 60 * kMinute).ok());

  // Keys that are not parked metadata are not counted; an unreadable id counts as overlapping.
  ASSERT_TRUE(bucket.Delete(parked).ok());  // recovered
  ASSERT_TRUE(bucket.Put("dlq/README", "x").ok());
  EXPECT_TRUE(check.Check(0, 1).ok());
  ASSERT_TRUE(bucket.Put("dlq/0/anonymous/not-a-ulid/meta.pb", "m").ok());
  EXPECT_FALSE(check.Check(0, 1).ok());
}

}  // namespace
}  // namespace embers::metastore
