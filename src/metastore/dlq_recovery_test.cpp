#include "metastore/dlq_recovery.h"

#include <gtest/gtest.h>

#include "objstore/memory_bucket.h"

namespace embers::metastore {
namespace {

v1::BlockMeta Block(const std::string& id) {
  v1::BlockMeta b;
  b.set_format_version(1);
  b.set_id(id);
  b.set_shard(3);
  b.set_min_time(1000);
  b.set_max_time(2000);
  b.add_string_table("");
  b.add_string_table("tenant-a");
  b.add_string_table("api");
  v1::Dataset* d = b.add_datasets();
  d->set_tenant(1);
  d->set_name(2);
  d->set_min_time(1000);
  d->set_max_time(2000);
  d->add_table_of_contents(0);
  d->add_table_of_contents(10);
  d->add_table_of_contents(20);
  d->set_size(30);
  return b;
}

TEST(DlqRecovery, ParkedBlocksAreIndexedAndTheirDlqObjectsRemoved) {
  objstore::MemoryBucket bucket;
  BlockIndex index;
  LocalIndexService service(&index);
  const std::string id = "01JKT426999WRKSJZ0A43F75TA";
  ASSERT_TRUE(bucket.Put("dlq/3/anonymous/" + id + "/meta.pb", Block(id).SerializeAsString()).ok());
  ASSERT_TRUE(bucket.Put("dlq/3/anonymous/01JKT426999WRKSJZ0A43F75TB/meta.pb", "not a block").ok());

  DlqRecovery recovery(&bucket, &service, absl::Seconds(15));
  auto n = recovery.RecoverOnce();
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(index.BlockCount(), 1u);
  EXPECT_FALSE(*bucket.Exists("dlq/3/anonymous/" + id + "/meta.pb"));
  // The unparsable object stays for an operator to look at.
  EXPECT_TRUE(*bucket.Exists("dlq/3/anonymous/01JKT426999WRKSJZ0A43F75TB/meta.pb"));
  // A second pass finds nothing new and does not duplicate the block.
  EXPECT_EQ(*recovery.RecoverOnce(), 0);
  EXPECT_EQ(index.BlockCount(), 1u);
}

}  // namespace
}  // namespace embers::metastore
