// OpenBucket() and the PrefixedBucket it builds.

#include "objstore/bucket_config.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "objstore/memory_bucket.h"
#include "objstore/prefixed_bucket.h"
#include "objstore/test_temp_dir.h"

namespace embers::objstore {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(BucketConfigTest, DefaultsMatchTheSingleBinary) {
  BucketConfig config;
  EXPECT_EQ(config.backend, "filesystem");
  EXPECT_EQ(config.filesystem_dir, "./data");
  EXPECT_EQ(config.prefix, "");
}

TEST(BucketConfigTest, OpensFilesystem) {
  TempDir tmp;
  BucketConfig config;
  config.filesystem_dir = tmp.path() + "/data";
  absl::StatusOr<std::unique_ptr<Bucket>> bucket = OpenBucket(config);
  ASSERT_TRUE(bucket.ok()) << bucket.status();
  ASSERT_TRUE((*bucket)->Put("a/b", "v").ok());
  EXPECT_TRUE(fs::exists(fs::path(config.filesystem_dir) / "a/b"));
  EXPECT_THAT(std::string((*bucket)->Name()), HasSubstr("filesystem:"));
}

TEST(BucketConfigTest, OpensMemory) {
  BucketConfig config;
  config.backend = "memory";
  absl::StatusOr<std::unique_ptr<Bucket>> bucket = OpenBucket(config);
  ASSERT_TRUE(bucket.ok()) << bucket.status();
  ASSERT_TRUE((*bucket)->Put("a", "v").ok());
  EXPECT_EQ((*bucket)->Get("a").value(), "v");
  EXPECT_EQ((*bucket)->Name(), "memory");
}

TEST(BucketConfigTest, UnknownBackendListsValidOnes) {
  BucketConfig config;
  config.backend = "gcs";
  absl::StatusOr<std::unique_ptr<Bucket>> bucket = OpenBucket(config);
  ASSERT_EQ(bucket.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bucket.status().message()), HasSubstr("gcs"));
  EXPECT_THAT(std::string(bucket.status().message()), HasSubstr("filesystem"));
  EXPECT_THAT(std::string(bucket.status().message()), HasSubstr("memory"));
}

TEST(BucketConfigTest, EmptyFilesystemDirIsInvalid) {
  BucketConfig config;
  config.filesystem_dir = "";
  EXPECT_EQ(OpenBucket(config).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(BucketConfigTest, PrefixStoresKeysUnderIt) {
  TempDir tmp;
  BucketConfig config;
  config.filesystem_dir = tmp.path();
  config.prefix = "cluster-a/";  // a trailing '/' is accepted and trimmed
  absl::StatusOr<std::unique_ptr<Bucket>> prefixed = OpenBucket(config);
  ASSERT_TRUE(prefixed.ok()) << prefixed.status();
  ASSERT_TRUE((*prefixed)->Put("segments/1/x", "v").ok());
  EXPECT_TRUE(fs::exists(fs::path(tmp.path()) / "cluster-a/segments/1/x"));
  EXPECT_THAT(std::string((*prefixed)->Name()), HasSubstr("/cluster-a"));

  // A sibling prefix that starts with the same text stays separate.
  config.prefix = "cluster-ab";
  absl::StatusOr<std::unique_ptr<Bucket>> sibling = OpenBucket(config);
  ASSERT_TRUE(sibling.ok()) << sibling.status();
  ASSERT_TRUE((*sibling)->Put("segments/1/y", "w").ok());

  EXPECT_THAT(ListKeys(**prefixed, "").value(), ElementsAre("segments/1/x"));
  EXPECT_THAT(ListKeys(**prefixed, "seg").value(), ElementsAre("segments/1/x"));
  EXPECT_THAT(ListKeys(**sibling, "").value(), ElementsAre("segments/1/y"));

  config.prefix = "";
  absl::StatusOr<std::unique_ptr<Bucket>> whole = OpenBucket(config);
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_THAT(ListKeys(**whole, "").value(),
              ElementsAre("cluster-a/segments/1/x", "cluster-ab/segments/1/y"));
}

TEST(BucketConfigTest, BadPrefixIsInvalidArgument) {
  for (std::string_view prefix : {"../up", "/abs", "a//b", "a/./b", "/"}) {
    BucketConfig config;
    config.backend = "memory";
    config.prefix = std::string(prefix);
    EXPECT_EQ(OpenBucket(config).status().code(), absl::StatusCode::kInvalidArgument) << prefix;
  }
}

TEST(PrefixedBucketTest, NestedPrefixAndNotFoundNamesThePrefixedBucket) {
  auto inner = std::make_unique<MemoryBucket>("mem");
  MemoryBucket* raw = inner.get();
  absl::StatusOr<std::unique_ptr<PrefixedBucket>> b =
      PrefixedBucket::Create(std::move(inner), "p/q");
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_TRUE((*b)->Put("k", "v").ok());
  EXPECT_EQ(raw->Get("p/q/k").value(), "v");
  EXPECT_EQ((*b)->Name(), "mem/p/q");
  absl::Status missing = (*b)->Get("nope").status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.message()), HasSubstr("\"nope\""));
  EXPECT_THAT(std::string(missing.message()), HasSubstr("mem/p/q"));
  EXPECT_EQ(PrefixedBucket::Create(nullptr, "p").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace embers::objstore
