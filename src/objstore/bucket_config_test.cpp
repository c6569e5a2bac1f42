// OpenBucket() and the PrefixedBucket it builds.

#include "objstore/bucket_config.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "base/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "objstore/azure/azurite_process.h"
#include "objstore/memory_bucket.h"
#include "objstore/prefixed_bucket.h"
#include "objstore/s3/s3rver_process.h"
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
  EXPECT_THAT(std::string(bucket.status().message()), HasSubstr("s3"));
  EXPECT_THAT(std::string(bucket.status().message()), HasSubstr("azure"));
}

TEST(BucketConfigTest, OpensS3WithFlagsOrTheAwsEnvironment) {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<s3::S3rverProcess>> server =
      s3::S3rverProcess::Start(dir.path(), "embers");
  ASSERT_TRUE(server.ok()) << server.status();
  BucketConfig config;
  config.backend = "s3";
  config.s3.endpoint = (*server)->endpoint();
  config.s3.insecure = true;
  config.s3.force_path_style = true;
  EXPECT_EQ(OpenBucket(config).status().code(), absl::StatusCode::kInvalidArgument);  // no name
  config.s3.bucket_name = "embers";

  // Empty flags: the AWS SDKs' variables.
  ::setenv("AWS_ACCESS_KEY_ID", s3::S3rverProcess::kAccessKeyId, 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", s3::S3rverProcess::kSecretAccessKey, 1);
  absl::StatusOr<std::unique_ptr<Bucket>> bucket = OpenBucket(config);
  ASSERT_TRUE(bucket.ok()) << bucket.status();
  ASSERT_TRUE((*bucket)->Put("a/b", "v").ok());
  EXPECT_EQ((*bucket)->Get("a/b").value(), "v");
  EXPECT_THAT(std::string((*bucket)->Name()), HasSubstr("s3://embers"));

  // s3rver checks the key id (not the signature): a wrong one in the environment is refused...
  ::setenv("AWS_ACCESS_KEY_ID", "WRONG", 1);
  EXPECT_EQ(OpenBucket(config).status().code(), absl::StatusCode::kUnauthenticated);
  // ...and flags take precedence over it.
  config.s3.access_key_id = s3::S3rverProcess::kAccessKeyId;
  config.s3.secret_access_key = s3::S3rverProcess::kSecretAccessKey;
  bucket = OpenBucket(config);
  ASSERT_TRUE(bucket.ok()) << bucket.status();
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");

  // Through a prefix, as the server may configure it.
  config.prefix = "cluster-a";
  absl::StatusOr<std::unique_ptr<Bucket>> prefixed = OpenBucket(config);
  ASSERT_TRUE(prefixed.ok()) << prefixed.status();
  ASSERT_TRUE((*prefixed)->Put("x", "w").ok());
  EXPECT_THAT(ListKeys(**bucket, "").value(), ElementsAre("a/b", "cluster-a/x"));
  config.prefix = "";

  // "auto" addresses a store on an IP address in path style, as s3rver needs.
  config.s3.force_path_style = false;
  ASSERT_EQ(config.s3.bucket_lookup_type, "auto");
  EXPECT_TRUE(OpenBucket(config).ok());
  config.s3.bucket_lookup_type = "sideways";
  absl::StatusOr<std::unique_ptr<Bucket>> bad = OpenBucket(config);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("-storage.s3.bucket-lookup-type"));
}

TEST(BucketConfigTest, OpensAzureWithAConnectionStringOrAccountFlags) {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<azure::AzuriteProcess>> server =
      azure::AzuriteProcess::Start(dir.path(), "embers");
  ASSERT_TRUE(server.ok()) << server.status();
  BucketConfig config;
  config.backend = "azure";
  config.azure.connection_string =
      StrCat("DefaultEndpointsProtocol=http;AccountName=", azure::AzuriteProcess::kAccountName,
             ";AccountKey=", azure::AzuriteProcess::kAccountKey,
             ";BlobEndpoint=", (*server)->endpoint_url(), ";");
  EXPECT_EQ(OpenBucket(config).status().code(), absl::StatusCode::kInvalidArgument);  // no name
  config.azure.container_name = "embers";
  absl::StatusOr<std::unique_ptr<Bucket>> bucket = OpenBucket(config);
  ASSERT_TRUE(bucket.ok()) << bucket.status();
  ASSERT_TRUE((*bucket)->Put("a/b", "v").ok());
  EXPECT_EQ((*bucket)->Get("a/b").value(), "v");
  EXPECT_THAT(std::string((*bucket)->Name()), HasSubstr("azure://devstoreaccount1/embers"));

  // Without a connection string: https://<account>.<suffix>. azurite serves http only, so this
  // cannot reach it, but the error names the endpoint that was built.
  BucketConfig flags;
  flags.backend = "azure";
  flags.azure.container_name = "embers";
  EXPECT_EQ(OpenBucket(flags).status().code(), absl::StatusCode::kInvalidArgument);  // no account
  flags.azure.account_name = "devstoreaccount1";
  EXPECT_EQ(OpenBucket(flags).status().code(), absl::StatusCode::kInvalidArgument);  // no key
  ::setenv("AZURE_STORAGE_KEY", azure::AzuriteProcess::kAccountKey, 1);
  flags.azure.endpoint_suffix = StrCat("blob.localhost:", (*server)->endpoint().substr(10));
  flags.azure.max_retries = 0;
  absl::StatusOr<std::unique_ptr<Bucket>> https = OpenBucket(flags);
  ::unsetenv("AZURE_STORAGE_KEY");
  ASSERT_FALSE(https.ok());
  EXPECT_THAT(std::string(https.status().message()),
              HasSubstr(StrCat("https://devstoreaccount1.", flags.azure.endpoint_suffix)));

  // A malformed connection string is named, its key never shown.
  config.azure.connection_string = "AccountName=a;AccountKey=topsecret;SharedAccessSignature=y";
  absl::StatusOr<std::unique_ptr<Bucket>> bad = OpenBucket(config);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("-storage.azure.connection-string"));
  EXPECT_THAT(std::string(bad.status().message()), ::testing::Not(HasSubstr("topsecret")));
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
