#include "metastore/index/block_id.h"

#include <gtest/gtest.h>

namespace embers::metastore {
namespace {

TEST(BlockIdTest, RoundTripAndOrder) {
  const std::string text = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
  auto id = BlockId::Parse(text);
  ASSERT_TRUE(id);
  EXPECT_EQ(id->ToString(), text);
  EXPECT_EQ(id->TimeMs(), 1469922850259);  // the ULID spec's example
  auto lower = BlockId::Parse("01arz3ndektsv4rrffq69g5fav");
  ASSERT_TRUE(lower);
  EXPECT_EQ(*lower, *id);
  // Integer order equals string order.
  auto a = BlockId::Parse("01ARZ3NDEKTSV4RRFFQ69G5FAV");
  auto b = BlockId::Parse("01ARZ3NDEKTSV4RRFFQ69G5FAW");
  auto c = BlockId::Parse("7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
  EXPECT_LT(*a, *b);
  EXPECT_LT(*b, *c);
  EXPECT_EQ(c->ToString(), "7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
  EXPECT_EQ(BlockId().ToString(), "00000000000000000000000000");
}

TEST(BlockIdTest, RejectsMalformed) {
  for (std::string_view bad :
       {"", "01ARZ3NDEKTSV4RRFFQ69G5FA", "01ARZ3NDEKTSV4RRFFQ69G5FAVX",
        "8ZZZZZZZZZZZZZZZZZZZZZZZZZ", "01ARZ3NDEKTSV4RRFFQ69G5FAU", "01ARZ3NDEKTSV4RRFFQ69G5FA-"}) {
    EXPECT_FALSE(BlockId::Parse(bad)) << bad;
  }
}

}  // namespace
}  // namespace embers::metastore
