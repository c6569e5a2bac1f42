// The `bucket` commands as main.cc runs them: parsed by CLI11, run through CliContext, printed as
// JSON. verify exits 0 on a clean bucket and with kExitCheckFailed naming the corrupt object;
// inspect reads a key of the bucket and a local file alike.
#include "cmd/cli/bucket/bucket_commands.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

#include "cmd/cli/bucket/bucket_testing.h"
#include "cmd/cli/exit_code.h"
#include "nlohmann/json.hpp"
#include "objstore/filesystem_bucket.h"
#include "objstore/test_temp_dir.h"

namespace embers::cli {
namespace {

using ::testing::HasSubstr;
using testing::MakeObject;
using testing::TestObject;

// Runs one command line (after the program name) with the bucket in `dir`; returns its status and
// what it printed.
std::pair<absl::Status, std::string> RunCommand(const std::string& dir,
                                                const std::string& command_line) {
  CliContext context;
  context.options().bucket.filesystem_dir = dir;
  context.options().output = OutputFormat::kJson;
  context.options().quiet = true;
  CLI::App app;
  app.require_subcommand(1);
  RegisterBucketCommands(app, context);
  try {
    app.parse(command_line, false);
  } catch (const CLI::ParseError& e) {
    return {absl::InvalidArgumentError(e.what()), ""};
  }
  ::testing::internal::CaptureStdout();
  absl::Status status = context.command()();
  return {status, ::testing::internal::GetCapturedStdout()};
}

class BucketCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto bucket = objstore::FilesystemBucket::Open(dir_.path());
    ASSERT_TRUE(bucket.ok()) << bucket.status();
    bucket_ = std::move(*bucket);
    objects_.push_back(MakeObject({.level = 0, .tenants = {"tenant-a", "tenant-b"}}));
    objects_.push_back(MakeObject({.level = 1, .shard = 2, .tenants = {"tenant-a"}}));
    for (const TestObject& o : objects_) ASSERT_TRUE(testing::PutObject(*bucket_, o).ok());
  }

  objstore::TempDir dir_;
  std::unique_ptr<objstore::FilesystemBucket> bucket_;
  std::vector<TestObject> objects_;
};

TEST_F(BucketCommandsTest, VerifyPassesACleanBucketAndFailsACorruptOne) {
  auto [status, out] = RunCommand(dir_.path(), "bucket verify --no-index --concurrency 2");
  ASSERT_TRUE(status.ok()) << status;
  nlohmann::json report = nlohmann::json::parse(out);
  EXPECT_EQ(report["summary"][0]["objects"], 2);
  EXPECT_EQ(report["summary"][0]["index_compared"], "no");
  EXPECT_TRUE(report["findings"].empty());

  std::string bytes = objects_[1].bytes;
  bytes[10] ^= 1;
  ASSERT_TRUE(bucket_->Put(objects_[1].key, bytes).ok());
  std::tie(status, out) = RunCommand(dir_.path(), "bucket verify --no-index");
  EXPECT_EQ(ExitCodeFor(status), kExitCheckFailed) << status;
  EXPECT_THAT(status.message(), HasSubstr("1 corrupt"));
  report = nlohmann::json::parse(out);
  ASSERT_EQ(report["findings"].size(), 1u);
  EXPECT_EQ(report["findings"][0]["kind"], "corrupt");
  EXPECT_EQ(report["findings"][0]["key"], objects_[1].key);
}

TEST_F(BucketCommandsTest, VerifyRefusesABadMinimumAge) {
  auto [status, out] = RunCommand(dir_.path(), "bucket verify --no-index --orphan-min-age soon");
  EXPECT_EQ(ExitCodeFor(status), kExitUsage) << status;
}

TEST_F(BucketCommandsTest, InspectReadsAKeyOrALocalFile) {
  for (const std::string& target : {objects_[0].key, dir_.path() + "/" + objects_[0].key}) {
    auto [status, out] = RunCommand(dir_.path(), "bucket inspect " + target);
    ASSERT_TRUE(status.ok()) << status;
    nlohmann::json doc = nlohmann::json::parse(out);
    EXPECT_EQ(doc["object"][0]["id"], objects_[0].meta.id());
    EXPECT_EQ(doc["object"][0]["key"], target);
    ASSERT_EQ(doc["datasets"].size(), 2u);
    EXPECT_EQ(doc["datasets"][1]["tenant"], "tenant-b");
    EXPECT_EQ(doc["datasets"][1]["rows"], static_cast<int64_t>(objects_[0].rows_per_dataset));
  }
  auto [status, out] =
      RunCommand(dir_.path(), "bucket inspect blocks/9/t/01JKT426999WRKSJZ0A43F75TA/block.bin");
  EXPECT_TRUE(absl::IsNotFound(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("not a local file"));
}

}  // namespace
}  // namespace embers::cli
