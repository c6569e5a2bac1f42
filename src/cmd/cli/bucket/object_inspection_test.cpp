// InspectObject reads back what the writer put in an object: header fields, datasets in order,
// section sizes that add up, and the counts of series, rows, samples and symbols. Also the key
// parser and the single-object bucket `inspect FILE` reads through.
#include "cmd/cli/bucket/object_inspection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "cmd/cli/bucket/bucket_key.h"
#include "cmd/cli/bucket/bucket_testing.h"
#include "cmd/cli/bucket/single_object_bucket.h"
#include "objstore/memory_bucket.h"
#include "objstore/test_temp_dir.h"

namespace embers::cli {
namespace {

using ::testing::HasSubstr;
using testing::MakeObject;
using testing::TestObject;

void ExpectMatches(const ObjectInspection& got, const TestObject& want,
                   const std::vector<std::pair<std::string, std::string>>& datasets) {
  EXPECT_EQ(got.format_version, 2u);
  EXPECT_EQ(got.id, want.meta.id());
  EXPECT_EQ(got.shard, want.meta.shard());
  EXPECT_EQ(got.level, want.meta.compaction_level());
  EXPECT_EQ(got.min_time_ms, want.meta.min_time());
  EXPECT_EQ(got.max_time_ms, want.meta.max_time());
  EXPECT_EQ(got.size, want.bytes.size());
  EXPECT_EQ(got.created_by, "test-host");
  ASSERT_EQ(got.datasets.size(), datasets.size());
  uint64_t data_bytes = 0;
  for (size_t i = 0; i < datasets.size(); ++i) {
    const DatasetInspection& d = got.datasets[i];
    SCOPED_TRACE(i);
    EXPECT_EQ(d.tenant, datasets[i].first);
    EXPECT_EQ(d.service, datasets[i].second);
    EXPECT_EQ(d.series_bytes + d.profiles_bytes + d.symbols_bytes, d.size);
    data_bytes += d.size;
    EXPECT_EQ(d.series, want.series_per_dataset);
    EXPECT_EQ(d.rows, want.rows_per_dataset);
    EXPECT_EQ(d.samples, want.samples_per_dataset);
    EXPECT_EQ(d.chunks, (want.rows_per_dataset + 1) / 2);  // rows_per_chunk = 2
    EXPECT_EQ(d.functions, want.functions_per_dataset);
    EXPECT_EQ(d.locations, want.functions_per_dataset);
    EXPECT_EQ(d.stack_nodes, want.stack_nodes_per_dataset);
    EXPECT_GT(d.strings, want.functions_per_dataset);  // their names, "" and more
    EXPECT_THAT(d.profile_types,
                ::testing::ElementsAre("process_cpu:cpu:nanoseconds:cpu:nanoseconds"));
    EXPECT_LE(d.min_time_ms, d.max_time_ms);
  }
  EXPECT_EQ(data_bytes + got.metadata_bytes, got.size);
}

TEST(ObjectInspectionTest, SegmentOfSeveralTenantsAndServices) {
  TestObject object = MakeObject({.level = 0,
                                  .shard = 7,
                                  .tenants = {"tenant-b", "tenant-a"},
                                  .services = {"web", "api"},
                                  .series = 3,
                                  .rows_per_series = 4});
  objstore::MemoryBucket bucket;
  ASSERT_TRUE(testing::PutObject(bucket, object).ok());
  absl::StatusOr<ObjectInspection> got = InspectObject(bucket, object.key);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->key, object.key);
  EXPECT_EQ(got->tenant, "");
  ExpectMatches(
      *got, object,
      {{"tenant-a", "api"}, {"tenant-a", "web"}, {"tenant-b", "api"}, {"tenant-b", "web"}});
}

TEST(ObjectInspectionTest, CompactedBlockFromALocalFile) {
  TestObject object = MakeObject({.level = 2, .shard = 1, .tenants = {"tenant-a"}});
  objstore::TempDir dir;
  const std::string path = dir.path() + "/block.bin";
  std::ofstream(path, std::ios::binary) << object.bytes;
  auto file = SingleObjectBucket::OpenFile(path);
  ASSERT_TRUE(file.ok()) << file.status();
  absl::StatusOr<ObjectInspection> got = InspectObject(**file, path);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->key, path);
  EXPECT_EQ(got->tenant, "tenant-a");
  ExpectMatches(*got, object, {{"tenant-a", "api"}});
}

TEST(ObjectInspectionTest, CorruptObjectIsAnErrorNamingIt) {
  TestObject object = MakeObject({.level = 1});
  auto [begin, end] = testing::SectionBounds(object, 0, 2);
  object.bytes[(begin + end) / 2] ^= 1;
  objstore::MemoryBucket bucket;
  ASSERT_TRUE(testing::PutObject(bucket, object).ok());
  absl::StatusOr<ObjectInspection> got = InspectObject(bucket, object.key);
  EXPECT_TRUE(absl::IsDataLoss(got.status())) << got.status();
  EXPECT_THAT(got.status().message(), HasSubstr(object.key));
  EXPECT_THAT(got.status().message(), HasSubstr("symbols section"));

  EXPECT_TRUE(absl::IsNotFound(InspectObject(bucket, "blocks/1/x/y/block.bin").status()));
}

TEST(SingleObjectBucketTest, ServesOneObjectReadOnly) {
  SingleObjectBucket bucket("k", std::make_shared<const std::string>("hello"));
  EXPECT_EQ(*bucket.Get("k"), "hello");
  EXPECT_EQ(*bucket.GetRange("k", 1, 3), "ell");
  EXPECT_EQ(*bucket.GetRange("k", 3, 100), "lo");
  EXPECT_EQ(*bucket.GetRange("k", 5, 1), "");
  EXPECT_TRUE(absl::IsOutOfRange(bucket.GetRange("k", 6, 1).status()));
  EXPECT_EQ(*bucket.Size("k"), 5u);
  EXPECT_TRUE(absl::IsNotFound(bucket.Get("other").status()));
  EXPECT_FALSE(*bucket.Exists("other"));
  EXPECT_TRUE(absl::IsFailedPrecondition(bucket.Put("k", "x")));
  EXPECT_TRUE(absl::IsFailedPrecondition(bucket.Delete("k")));
  EXPECT_EQ(*objstore::ListKeys(bucket, ""), std::vector<std::string>{"k"});
  EXPECT_TRUE(objstore::ListKeys(bucket, "x")->empty());

  objstore::TempDir dir;
  const std::string path = dir.path() + "/file";
  std::ofstream(path, std::ios::binary) << "0123456789";
  auto file = SingleObjectBucket::OpenFile(path);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(*(*file)->GetRange(path, 2, 3), "234");
  EXPECT_EQ(*(*file)->Get(path), "0123456789");
  EXPECT_TRUE(absl::IsNotFound(SingleObjectBucket::OpenFile(path + ".missing").status()));
}

TEST(BucketKeyTest, ParsesExactlyTheKeysEmbersWrites) {
  const std::string id = "01JKT426999WRKSJZ0A43F75TA";
  absl::StatusOr<BucketKey> key = ParseBucketKey("segments/3/anonymous/" + id + "/block.bin");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->kind, BucketKey::Kind::kSegment);
  EXPECT_EQ(key->shard, 3u);
  EXPECT_EQ(key->id(), id);
  EXPECT_EQ(key->ObjectKey(), "segments/3/anonymous/" + id + "/block.bin");

  key = ParseBucketKey("blocks/12/tenant-a/" + id + "/block.bin");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->kind, BucketKey::Kind::kBlock);
  EXPECT_EQ(key->tenant, "tenant-a");
  EXPECT_EQ(key->ObjectKey(), "blocks/12/tenant-a/" + id + "/block.bin");

  key = ParseBucketKey("dlq/3/anonymous/" + id + "/meta.pb");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->kind, BucketKey::Kind::kDlqEntry);
  EXPECT_EQ(key->ObjectKey(), "segments/3/anonymous/" + id + "/block.bin");

  for (const std::string& bad : std::vector<std::string>{
           "segments/03/anonymous/" + id + "/block.bin", "segments/3/tenant/" + id + "/block.bin",
           "segments/3/anonymous/" + id + "/meta.pb",
           "blocks/3/t/01jkt426999wrksjz0a43f75ta/block.bin",
           "blocks/99999999999/t/" + id + "/block.bin", "blocks/3/t/" + id + "/block.bin/x",
           "blocks/3/t/notanid/block.bin", "other/3/t/" + id + "/block.bin"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(ParseBucketKey(bad).status())) << bad;
  }
}

}  // namespace
}  // namespace embers::cli
