// VerifyBucket over objects written by the project's writer: a clean bucket reports nothing; a
// byte changed in any section or in the footer, an indexed block without its object, an object
// no indexed block names and a parked segment are each reported under the right key; candidates
// that the index or the bucket resolve during the check are not.
#include "cmd/cli/bucket/bucket_verifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>

#include "cmd/cli/bucket/bucket_testing.h"
#include "objstore/filesystem_bucket.h"
#include "objstore/forwarding_bucket.h"
#include "objstore/memory_bucket.h"
#include "objstore/test_temp_dir.h"

namespace embers::cli {
namespace {

using ::testing::HasSubstr;
using testing::IndexEntry;
using testing::MakeObject;
using testing::ObjectSpec;
using testing::PutObject;
using testing::TestObject;
using Kind = VerifyFinding::Kind;

// Three objects as a small cluster holds them: a segment of two tenants and a compacted block of
// each tenant.
std::vector<TestObject> ThreeObjects() {
  std::vector<TestObject> objects;
  objects.push_back(
      MakeObject({.level = 0, .tenants = {"tenant-a", "tenant-b"}, .services = {"api", "web"}}));
  objects.push_back(MakeObject({.level = 1, .shard = 2, .tenants = {"tenant-a"}}));
  objects.push_back(MakeObject({.level = 2, .shard = 1, .tenants = {"tenant-b"}}));
  return objects;
}

IndexSource IndexOf(const std::vector<TestObject>& objects) {
  IndexListing listing;
  for (const TestObject& o : objects) listing.blocks.push_back(IndexEntry(o));
  return [listing] { return absl::StatusOr<IndexListing>(listing); };
}

void PutAll(objstore::Bucket& bucket, const std::vector<TestObject>& objects) {
  for (const TestObject& o : objects) ASSERT_TRUE(PutObject(bucket, o).ok());
}

VerifyReport Verify(objstore::Bucket& bucket, const IndexSource& index,
                    VerifyOptions options = {}) {
  absl::StatusOr<VerifyReport> report = VerifyBucket(bucket, index, options);
  EXPECT_TRUE(report.ok()) << report.status();
  return report.ok() ? *std::move(report) : VerifyReport{};
}

std::vector<std::pair<Kind, std::string>> KindsAndKeys(const VerifyReport& report) {
  std::vector<std::pair<Kind, std::string>> out;
  for (const VerifyFinding& f : report.findings) out.emplace_back(f.kind, f.key);
  return out;
}

// A copy of `object` with byte `offset` changed.
std::string Flipped(const TestObject& object, uint64_t offset) {
  std::string bytes = object.bytes;
  bytes[offset] = static_cast<char>(bytes[offset] ^ 0x5a);
  return bytes;
}

TEST(BucketVerifierTest, CleanBucketReportsNothing) {
  objstore::MemoryBucket bucket;
  std::vector<TestObject> objects = ThreeObjects();
  PutAll(bucket, objects);
  VerifyReport report = Verify(bucket, IndexOf(objects));
  EXPECT_TRUE(report.ok());
  EXPECT_TRUE(report.findings.empty()) << report.findings.front().detail;
  EXPECT_TRUE(report.index_compared);
  EXPECT_EQ(report.indexed_blocks, 3u);
  EXPECT_EQ(report.objects_checked, 3u);
  uint64_t bytes = 0;
  for (const TestObject& o : objects) bytes += o.bytes.size();
  EXPECT_EQ(report.bytes_checked, bytes);
}

TEST(BucketVerifierTest, CleanFilesystemBucketReportsNothing) {
  objstore::TempDir dir;
  auto bucket = objstore::FilesystemBucket::Open(dir.path());
  ASSERT_TRUE(bucket.ok()) << bucket.status();
  std::vector<TestObject> objects = ThreeObjects();
  PutAll(**bucket, objects);
  VerifyReport report = Verify(**bucket, IndexOf(objects), {.concurrency = 2});
  EXPECT_TRUE(report.ok());
  EXPECT_TRUE(report.findings.empty());
  EXPECT_EQ(report.objects_checked, 3u);
}

// A changed byte in each section of each dataset, read whole and by small ranged reads (the
// stored checksum then straddles reads).
class CorruptSectionTest : public ::testing::TestWithParam<std::tuple<int, bool>> {};

TEST_P(CorruptSectionTest, IsReportedUnderItsKeyNamingTheSection) {
  const auto [section, streamed] = GetParam();
  const char* names[] = {"series", "profiles", "symbols"};
  std::vector<TestObject> objects = ThreeObjects();
  const TestObject& victim = objects[0];
  for (int dataset : {0, victim.meta.datasets_size() - 1}) {
    for (bool crc_byte : {false, true}) {
      auto [begin, end] = testing::SectionBounds(victim, dataset, section);
      const uint64_t offset = crc_byte ? end - 2 : (begin + end) / 2;
      objstore::MemoryBucket bucket;
      PutAll(bucket, objects);
      ASSERT_TRUE(bucket.Put(victim.key, Flipped(victim, offset)).ok());
      VerifyOptions options;
      if (streamed) options.check = {.whole_object_limit = 100, .window_bytes = 7};
      VerifyReport report = Verify(bucket, IndexOf(objects), options);
      ASSERT_EQ(report.findings.size(), 1u) << "dataset " << dataset << " offset " << offset;
      const VerifyFinding& f = report.findings[0];
      EXPECT_EQ(f.kind, Kind::kCorrupt);
      EXPECT_EQ(f.key, victim.key);
      EXPECT_THAT(f.detail, HasSubstr(victim.key));
      EXPECT_THAT(f.detail, HasSubstr(absl::StrCat("dataset ", dataset)));
      EXPECT_THAT(f.detail, HasSubstr(absl::StrCat(names[section], " section: checksum mismatch")));
      EXPECT_FALSE(report.ok());
      EXPECT_EQ(report.objects_checked, 3u);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Sections, CorruptSectionTest,
                         ::testing::Combine(::testing::Values(0, 1, 2), ::testing::Bool()));

TEST(BucketVerifierTest, CorruptFooterIsReportedUnderItsKey) {
  std::vector<TestObject> objects = ThreeObjects();
  const TestObject& victim = objects[1];
  const uint64_t size = victim.bytes.size();
  const uint64_t metadata = victim.meta.metadata_offset();
  struct Case {
    uint64_t offset;
    const char* reason;
  };
  for (const Case& c : {Case{metadata + 3, "metadata checksum mismatch"},
                        Case{size - 11, "metadata checksum mismatch"},  // the stored CRC
                        Case{size - 2, "bad magic"}, Case{size - 8, "format version"}}) {
    for (bool streamed : {false, true}) {
      objstore::MemoryBucket bucket;
      PutAll(bucket, objects);
      ASSERT_TRUE(bucket.Put(victim.key, Flipped(victim, c.offset)).ok());
      VerifyOptions options;
      if (streamed) options.check = {.whole_object_limit = 100, .window_bytes = 64};
      VerifyReport report = Verify(bucket, IndexOf(objects), options);
      ASSERT_EQ(report.findings.size(), 1u) << c.reason;
      EXPECT_EQ(report.findings[0].kind, Kind::kCorrupt);
      EXPECT_EQ(report.findings[0].key, victim.key);
      EXPECT_THAT(report.findings[0].detail, HasSubstr(victim.key));
      EXPECT_THAT(report.findings[0].detail, HasSubstr(c.reason));
    }
  }
}

TEST(BucketVerifierTest, TruncatedObjectAndWrongSizeAreCorrupt) {
  std::vector<TestObject> objects = ThreeObjects();
  objstore::MemoryBucket bucket;
  PutAll(bucket, objects);
  ASSERT_TRUE(bucket.Put(objects[2].key, objects[2].bytes.substr(0, 100)).ok());
  VerifyReport report = Verify(bucket, IndexOf(objects));
  ASSERT_EQ(report.findings.size(), 1u);
  EXPECT_EQ(report.findings[0].kind, Kind::kCorrupt);
  EXPECT_EQ(report.findings[0].key, objects[2].key);
  EXPECT_THAT(report.findings[0].detail, HasSubstr("the index says"));

  // Without the index, the footer is where it is looked for, and not found.
  report = Verify(bucket, nullptr);
  ASSERT_EQ(report.findings.size(), 1u);
  EXPECT_EQ(report.findings[0].kind, Kind::kCorrupt);
  EXPECT_THAT(report.findings[0].detail, HasSubstr("bad magic"));
}

TEST(BucketVerifierTest, ObjectUnderAnotherBlocksKeyIsCorrupt) {
  std::vector<TestObject> objects = ThreeObjects();
  objstore::MemoryBucket bucket;
  PutAll(bucket, objects);
  // Block 1's bytes under a key naming another id.
  TestObject other = MakeObject({.level = 1, .shard = 2, .tenants = {"tenant-a"}});
  ASSERT_TRUE(bucket.Put(other.key, objects[1].bytes).ok());
  VerifyReport report = Verify(bucket, nullptr);
  ASSERT_EQ(report.findings.size(), 1u);
  EXPECT_EQ(report.findings[0].kind, Kind::kCorrupt);
  EXPECT_EQ(report.findings[0].key, other.key);
  EXPECT_THAT(report.findings[0].detail, HasSubstr("not the one its key names"));
}

TEST(BucketVerifierTest, IndexedBlockWithoutObjectIsMissing) {
  std::vector<TestObject> objects = ThreeObjects();
  objstore::MemoryBucket bucket;
  PutAll(bucket, {objects[0], objects[2]});
  VerifyReport report = Verify(bucket, IndexOf(objects));
  ASSERT_EQ(report.findings.size(), 1u);
  EXPECT_EQ(report.findings[0].kind, Kind::kMissing);
  EXPECT_EQ(report.findings[0].key, objects[1].key);
  EXPECT_THAT(report.findings[0].detail, HasSubstr(objects[1].meta.id()));
  EXPECT_FALSE(report.ok());
  EXPECT_EQ(report.objects_checked, 2u);
}

TEST(BucketVerifierTest, OldUnindexedObjectIsAnOrphanAndAYoungOneIsRecent) {
  std::vector<TestObject> objects = ThreeObjects();
  const absl::Time now = absl::Now();
  TestObject old = MakeObject({.level = 1, .shard = 3, .created = now - absl::Hours(2)});
  TestObject young = MakeObject({.level = 0, .shard = 3, .created = now - absl::Minutes(10)});
  objstore::MemoryBucket bucket;
  PutAll(bucket, objects);
  PutAll(bucket, {old, young});
  VerifyReport report = Verify(bucket, IndexOf(objects), {.now = now});
  EXPECT_THAT(KindsAndKeys(report), ::testing::ElementsAre(std::pair(Kind::kOrphan, old.key),
                                                           std::pair(Kind::kRecent, young.key)));
  EXPECT_THAT(report.findings[0].detail, HasSubstr("2h0m old"));
  EXPECT_EQ(report.problems(), 1u);
  EXPECT_EQ(report.objects_checked, 5u);

  // A shorter minimum age makes the young one an orphan too.
  report = Verify(bucket, IndexOf(objects), {.orphan_min_age = absl::Minutes(5), .now = now});
  EXPECT_EQ(report.Count(Kind::kOrphan), 2u);

  // Without the index nothing is compared.
  report = Verify(bucket, nullptr, {.now = now});
  EXPECT_TRUE(report.findings.empty());
  EXPECT_FALSE(report.index_compared);
}

TEST(BucketVerifierTest, TombstonedObjectWaitingForDeletionIsNotAnOrphan) {
  std::vector<TestObject> objects = ThreeObjects();
  const absl::Time now = absl::Now();
  // Replaced by compaction two hours after it was written; its object stays for the cleanup delay.
  TestObject replaced = MakeObject({.level = 1, .shard = 3, .created = now - absl::Hours(2)});
  objstore::MemoryBucket bucket;
  PutAll(bucket, objects);
  PutAll(bucket, {replaced});
  IndexListing listing;
  for (const TestObject& o : objects) listing.blocks.push_back(IndexEntry(o));
  listing.tombstoned_keys = {replaced.key};
  VerifyReport report =
      Verify(bucket, [listing] { return absl::StatusOr<IndexListing>(listing); }, {.now = now});
  EXPECT_THAT(KindsAndKeys(report),
              ::testing::ElementsAre(std::pair(Kind::kTombstoned, replaced.key)));
  EXPECT_THAT(report.findings[0].detail, HasSubstr("cleanup-delay"));
  EXPECT_TRUE(report.ok());
}

TEST(BucketVerifierTest, StrayKeysAreOrphans) {
  std::vector<TestObject> objects = ThreeObjects();
  objstore::MemoryBucket bucket;
  PutAll(bucket, objects);
  ASSERT_TRUE(bucket.Put("blocks/1/tenant-a/notes.txt", "hello").ok());
  ASSERT_TRUE(bucket.Put("dlq/1/anonymous/whatever", "x").ok());
  VerifyReport report = Verify(bucket, IndexOf(objects));
  EXPECT_THAT(KindsAndKeys(report),
              ::testing::UnorderedElementsAre(
                  std::pair(Kind::kCorrupt, std::string("blocks/1/tenant-a/notes.txt")),
                  std::pair(Kind::kOrphan, std::string("blocks/1/tenant-a/notes.txt")),
                  std::pair(Kind::kOrphan, std::string("dlq/1/anonymous/whatever"))));
}

TEST(BucketVerifierTest, ParkedSegmentIsListedNotAnOrphan) {
  std::vector<TestObject> objects = ThreeObjects();
  TestObject parked = MakeObject({.level = 0, .shard = 4, .created = absl::Now() - absl::Hours(3)});
  objstore::MemoryBucket bucket;
  PutAll(bucket, objects);
  PutAll(bucket, {parked});
  const std::string entry = absl::StrCat("dlq/4/anonymous/", parked.meta.id(), "/meta.pb");
  ASSERT_TRUE(bucket.Put(entry, parked.meta.SerializeAsString()).ok());
  VerifyReport report = Verify(bucket, IndexOf(objects));
  ASSERT_EQ(report.findings.size(), 1u);
  EXPECT_EQ(report.findings[0].kind, Kind::kParked);
  EXPECT_EQ(report.findings[0].key, parked.key);
  EXPECT_THAT(report.findings[0].detail, HasSubstr(entry));
  EXPECT_TRUE(report.ok());
}

TEST(BucketVerifierTest, ParkedSegmentWithoutItsObjectIsMissing) {
  TestObject gone = MakeObject({.level = 0, .shard = 4});
  objstore::MemoryBucket bucket;
  const std::string entry = absl::StrCat("dlq/4/anonymous/", gone.meta.id(), "/meta.pb");
  ASSERT_TRUE(bucket.Put(entry, gone.meta.SerializeAsString()).ok());
  VerifyReport report = Verify(bucket, nullptr);
  EXPECT_THAT(KindsAndKeys(report), ::testing::ElementsAre(std::pair(Kind::kMissing, gone.key)));
  EXPECT_THAT(report.findings[0].detail, HasSubstr(entry));
}

TEST(BucketVerifierTest, CandidatesResolvedDuringTheCheckAreNotReported) {
  std::vector<TestObject> objects = ThreeObjects();
  TestObject late = MakeObject({.level = 1, .shard = 5});  // indexed only by the second listing
  objstore::MemoryBucket bucket;
  PutAll(bucket, objects);
  PutAll(bucket, {late});
  // The first listing names objects[2] (compacted away and removed from the index since) and not
  // `late`; the second one is the truth at the end.
  IndexListing first, second;
  for (const TestObject& o : objects) first.blocks.push_back(IndexEntry(o));
  second = first;
  second.blocks.pop_back();
  second.blocks.push_back(IndexEntry(late));
  ASSERT_TRUE(bucket.Delete(objects[2].key).ok());
  std::atomic<int> calls{0};
  IndexSource index = [&]() -> absl::StatusOr<IndexListing> {
    return ++calls == 1 ? first : second;
  };
  VerifyReport report = Verify(bucket, index);
  EXPECT_TRUE(report.findings.empty()) << report.findings.front().detail;
  EXPECT_EQ(calls.load(), 2);
}

// Deletes one object when it is first read: compaction's cleanup racing the check.
class DeletingBucket : public objstore::ForwardingBucket {
 public:
  DeletingBucket(objstore::Bucket* inner, std::string key)
      : ForwardingBucket(inner), key_(std::move(key)) {}
  absl::StatusOr<std::string> Get(std::string_view key) override {
    if (key == key_) {
      EXPECT_TRUE(ForwardingBucket::Delete(key).ok());
    }
    return ForwardingBucket::Get(key);
  }

 private:
  std::string key_;
};

TEST(BucketVerifierTest, ObjectDeletedDuringTheCheckHasVanished) {
  std::vector<TestObject> objects = ThreeObjects();
  objstore::MemoryBucket memory;
  PutAll(memory, objects);
  DeletingBucket bucket(&memory, objects[1].key);
  std::vector<TestObject> indexed = {objects[0], objects[2]};  // already out of the index
  VerifyReport report = Verify(bucket, IndexOf(indexed));
  EXPECT_THAT(KindsAndKeys(report),
              ::testing::ElementsAre(std::pair(Kind::kVanished, objects[1].key)));
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.objects_checked, 2u);
}

TEST(BucketVerifierTest, UnreachableIndexIsAnError) {
  objstore::MemoryBucket bucket;
  IndexSource index = [] {
    return absl::StatusOr<IndexListing>(absl::UnavailableError("no metastore"));
  };
  absl::StatusOr<VerifyReport> report = VerifyBucket(bucket, index, {});
  EXPECT_TRUE(absl::IsUnavailable(report.status())) << report.status();
}

TEST(BucketVerifierTest, ManyObjectsOnSeveralThreadsWithProgressAndDeepDecoding) {
  std::vector<TestObject> objects;
  for (int i = 0; i < 12; ++i) {
    objects.push_back(MakeObject({.level = static_cast<uint32_t>(i % 3),
                                  .shard = static_cast<uint32_t>(i),
                                  .tenants = {"tenant-a", "tenant-b"},
                                  .rows_per_series = 20}));
  }
  objstore::MemoryBucket bucket;
  PutAll(bucket, objects);
  uint64_t total_bytes = 0;
  for (const TestObject& o : objects) total_bytes += o.bytes.size();
  for (bool streamed : {false, true}) {
    std::atomic<uint64_t> started_items{0}, started_bytes{0}, items{0}, bytes{0};
    VerifyOptions options;
    options.concurrency = 4;
    options.check.deep = true;
    if (streamed) {
      options.check.whole_object_limit = 200;
      options.check.window_bytes = 33;
    }
    options.on_start = [&](uint64_t n, uint64_t b) {
      started_items = n;
      started_bytes = b;
    };
    options.on_progress = [&](uint64_t n, uint64_t b) {
      items += n;
      bytes += b;
    };
    VerifyReport report = Verify(bucket, IndexOf(objects), options);
    EXPECT_TRUE(report.findings.empty()) << report.findings.front().detail;
    EXPECT_EQ(report.objects_checked, objects.size());
    EXPECT_EQ(report.bytes_checked, total_bytes);
    EXPECT_EQ(started_items.load(), objects.size());
    EXPECT_EQ(started_bytes.load(), total_bytes);  // every size is known from the index
    EXPECT_EQ(items.load(), objects.size());
    EXPECT_EQ(bytes.load(), total_bytes);
  }
}

}  // namespace
}  // namespace embers::cli
