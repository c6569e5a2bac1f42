#include "metastore/dlq_recovery.h"

#include <gtest/gtest.h>

#include "block/dataset_builder.h"
#include "block/object_writer.h"
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
  EXPECT_EQ(recovery.parked(), -1);  // no pass yet: unknown
  auto n = recovery.RecoverOnce();
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(index.BlockCount(), 1u);
  // Both entries are gone (one indexed, one discarded): nothing is left parked.
  EXPECT_EQ(recovery.parked(), 0);
  EXPECT_FALSE(*bucket.Exists("dlq/3/anonymous/" + id + "/meta.pb"));
  // Unparsable, and no object to recover from: deleted, not retried forever.
  EXPECT_FALSE(*bucket.Exists("dlq/3/anonymous/01JKT426999WRKSJZ0A43F75TB/meta.pb"));
  // A second pass finds nothing new and does not duplicate the block.
  EXPECT_EQ(*recovery.RecoverOnce(), 0);
  EXPECT_EQ(index.BlockCount(), 1u);
}

}  // namespace
}  // namespace embers::metastore

namespace embers::metastore {
namespace {

TEST(DlqRecovery, UnparsableEntryIsRecoveredFromTheObjectFooter) {
  objstore::MemoryBucket bucket;
  BlockIndex index;
  LocalIndexService service(&index);
  const std::string id = "01JKT426999WRKSJZ0A43F75TC";
  block::DatasetBuilder d("tenant-a", "api");
  pprof::Profile p;
  p.AddString("");
  p.sample_types.push_back({p.AddString("cpu"), p.AddString("nanoseconds")});
  p.functions.push_back({.id = 1, .name = p.AddString("main")});
  p.lines.push_back({.function_id = 1, .line = 1});
  p.locations.push_back({.id = 1, .address = 0x10, .line_begin = 0, .line_count = 1});
  p.location_ids.push_back(1);
  p.values.push_back(5);
  p.samples.push_back(
      {.location_begin = 0, .location_count = 1, .value_begin = 0, .value_count = 1});
  d.Append(model::Labels({{"__profile_type__", "process_cpu:cpu:nanoseconds:cpu:nanoseconds"},
                          {"service_name", "api"}}),
           1000, 0, p);
  std::vector<block::EncodedDataset> datasets;
  datasets.push_back(d.Finish());
  block::BuiltObject obj = block::BuildObject({.id = id, .shard = 3}, std::move(datasets));
  ASSERT_TRUE(bucket.Put(block::ObjectKey(obj.meta), obj.bytes).ok());
  ASSERT_TRUE(bucket.Put("dlq/3/anonymous/" + id + "/meta.pb", "torn").ok());
  // Metadata the index refuses (a dataset time range running backwards) is not retried either.
  v1::BlockMeta bad = Block("01JKT426999WRKSJZ0A43F75TD");
  bad.mutable_datasets(0)->set_min_time(5000);
  ASSERT_TRUE(
      bucket.Put("dlq/3/anonymous/01JKT426999WRKSJZ0A43F75TD/meta.pb", bad.SerializeAsString())
          .ok());

  DlqRecovery recovery(&bucket, &service, absl::Seconds(15));
  auto n = recovery.RecoverOnce();
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1);
  ASSERT_EQ(index.BlockCount(), 1u);
  v1::GetBlockMetadataRequest req;
  req.mutable_blocks()->set_shard(3);
  req.mutable_blocks()->add_blocks(id);
  EXPECT_EQ(index.GetBlockMetadata(req)->blocks_size(), 1);
  EXPECT_TRUE(objstore::ListKeys(bucket, "dlq/")->empty());
}

}  // namespace
}  // namespace embers::metastore
