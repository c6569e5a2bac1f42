// FilesystemBucket behaviour beyond the Bucket contract (which bucket_conformance_test.cpp
// covers): on-disk layout, temporary files, confinement to the root, directory pruning, errors.

#include "objstore/filesystem_bucket.h"
#include "objstore/temp_file_sweeper.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "objstore/test_temp_dir.h"

namespace embers::objstore {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const fs::path& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
}

// Every file and directory below `root`, relative to it, not following symlinks.
std::vector<std::string> Tree(const fs::path& root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    out.push_back(fs::relative(it->path(), root, ec).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class FilesystemBucketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(tmp_.path()) / "root";
    absl::StatusOr<std::unique_ptr<FilesystemBucket>> bucket = FilesystemBucket::Open(root_);
    ASSERT_TRUE(bucket.ok()) << bucket.status();
    bucket_ = std::move(*bucket);
  }

  std::vector<std::string> Keys(std::string_view prefix) {
    absl::StatusOr<std::vector<std::string>> keys = ListKeys(*bucket_, prefix);
    EXPECT_TRUE(keys.ok()) << keys.status();
    return keys.ok() ? *keys : std::vector<std::string>{};
  }

  TempDir tmp_;
  fs::path root_;  // inside tmp_, so tests can place things "outside the root" in tmp_
  std::unique_ptr<FilesystemBucket> bucket_;
};

TEST_F(FilesystemBucketTest, OpenCreatesTheRootAndNamesIt) {
  EXPECT_TRUE(fs::is_directory(root_));
  EXPECT_EQ(bucket_->root(), root_.string());
  EXPECT_EQ(bucket_->Name(), "filesystem:" + root_.string());

  // Nested missing directories are created too, and a trailing '/' is tidied away.
  const fs::path nested = fs::path(tmp_.path()) / "x" / "y" / "z";
  absl::StatusOr<std::unique_ptr<FilesystemBucket>> b =
      FilesystemBucket::Open(nested.string() + "/");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)->root(), nested.string());
}

TEST_F(FilesystemBucketTest, OpenFailsCleanly) {
  EXPECT_EQ(FilesystemBucket::Open("").status().code(), absl::StatusCode::kInvalidArgument);
  const fs::path file = fs::path(tmp_.path()) / "plain-file";
  WriteFile(file, "x");
  EXPECT_FALSE(FilesystemBucket::Open(file.string()).ok());
  EXPECT_FALSE(FilesystemBucket::Open((file / "below").string()).ok());
}

TEST_F(FilesystemBucketTest, ObjectsAreFilesUnderTheRoot) {
  ASSERT_TRUE(bucket_->Put("segments/1/anonymous/01J/block.bin", "data").ok());
  EXPECT_EQ(ReadFile(root_ / "segments/1/anonymous/01J/block.bin"), "data");
  // Objects placed by other means (e.g. copied in by an operator) are visible.
  fs::create_directories(root_ / "blocks/2");
  WriteFile(root_ / "blocks/2/copied", "copied");
  EXPECT_EQ(bucket_->Get("blocks/2/copied").value(), "copied");
  EXPECT_THAT(Keys(""), ElementsAre("blocks/2/copied", "segments/1/anonymous/01J/block.bin"));
}

TEST_F(FilesystemBucketTest, DataSurvivesReopening) {
  ASSERT_TRUE(bucket_->Put("a/b", "persisted").ok());
  bucket_.reset();
  absl::StatusOr<std::unique_ptr<FilesystemBucket>> reopened = FilesystemBucket::Open(root_);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->Get("a/b").value(), "persisted");
}

TEST_F(FilesystemBucketTest, NoTemporaryFilesAreLeftBehind) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 10; ++i) {
        EXPECT_TRUE(bucket_->Put("same/key", std::string(1000 + t, 'x')).ok());
        EXPECT_TRUE(bucket_->Put("own/" + std::to_string(t) + "/" + std::to_string(i), "v").ok());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& path : Tree(root_)) {
    EXPECT_THAT(path, ::testing::Not(HasSubstr(std::string(kReservedSegmentPrefix)))) << path;
  }
  EXPECT_EQ(Keys("").size(), 1u + 4 * 10);
}

TEST_F(FilesystemBucketTest, PutFileLeavesNoTemporaryFileAndKeepsTheSource) {
  const fs::path source = fs::path(tmp_.path()) / "assembled.bin";
  const std::string data(3 << 20, 'q');
  WriteFile(source, data);
  ASSERT_TRUE(bucket_->PutFile("blocks/1/t/01J/block.bin", source.string()).ok());
  EXPECT_TRUE(ReadFile(root_ / "blocks/1/t/01J/block.bin") == data);
  EXPECT_THAT(Tree(root_), ElementsAre("blocks", "blocks/1", "blocks/1/t", "blocks/1/t/01J",
                                       "blocks/1/t/01J/block.bin"));
  EXPECT_TRUE(ReadFile(source) == data);
  // A failed PutFile (the source is a directory) leaves nothing behind either.
  EXPECT_FALSE(bucket_->PutFile("blocks/1/t/01K/block.bin", tmp_.path()).ok());
  for (const std::string& path : Tree(root_)) {
    EXPECT_THAT(path, ::testing::Not(HasSubstr(std::string(kReservedSegmentPrefix)))) << path;
  }
}

TEST_F(FilesystemBucketTest, ListSkipsTemporaryFiles) {
  ASSERT_TRUE(bucket_->Put("a/obj", "v").ok());
  WriteFile(root_ / "a" / ".embers-tmp-123-abc-0", "half-written");
  WriteFile(root_ / ".embers-tmp-999", "half-written");
  fs::create_directories(root_ / "b");
  WriteFile(root_ / "b" / ".embers-tmp-7", "half-written");
  EXPECT_THAT(Keys(""), ElementsAre("a/obj"));
  EXPECT_THAT(Keys("a/"), ElementsAre("a/obj"));
  EXPECT_THAT(Keys("b"), IsEmpty());
  // And the reserved names cannot be addressed as keys.
  EXPECT_EQ(bucket_->Get("a/.embers-tmp-123-abc-0").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(FilesystemBucketTest, RemoveStaleTempFilesRemovesOnlyOldOnes) {
  fs::create_directories(root_ / "a/b");
  const fs::path old_temp = root_ / "a/b/.embers-tmp-old";
  const fs::path fresh_temp = root_ / "a/.embers-tmp-fresh";
  WriteFile(old_temp, "x");
  WriteFile(fresh_temp, "x");
  WriteFile(root_ / "a/b/old-object", "x");
  std::error_code ec;
  const auto two_hours_ago = fs::file_time_type::clock::now() - std::chrono::hours(2);
  fs::last_write_time(old_temp, two_hours_ago, ec);
  ASSERT_FALSE(ec) << ec.message();
  fs::last_write_time(root_ / "a/b/old-object", two_hours_ago, ec);

  absl::StatusOr<int> removed = bucket_->RemoveStaleTempFiles(std::chrono::hours(1));
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, 1);
  EXPECT_FALSE(fs::exists(old_temp));
  EXPECT_TRUE(fs::exists(fresh_temp));
  EXPECT_TRUE(fs::exists(root_ / "a/b/old-object"));  // objects are never swept
}

TEST_F(FilesystemBucketTest, TheSweeperRemovesStaleTempFilesOnItsOwn) {
  fs::create_directories(root_ / "a");
  const fs::path old_temp = root_ / "a/.embers-tmp-crashed";
  WriteFile(old_temp, "x");
  std::error_code ec;
  fs::last_write_time(old_temp, fs::file_time_type::clock::now() - std::chrono::hours(2), ec);
  ASSERT_FALSE(ec) << ec.message();
  TempFileSweeper sweeper(bucket_.get(), std::chrono::hours(1), std::chrono::hours(1),
                          std::chrono::seconds(0));
  for (int i = 0; i < 500 && fs::exists(old_temp); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(fs::exists(old_temp));
}

TEST_F(FilesystemBucketTest, DeletePrunesEmptyDirectories) {
  ASSERT_TRUE(bucket_->Put("a/b/c/d", "1").ok());
  ASSERT_TRUE(bucket_->Put("a/x", "2").ok());
  ASSERT_TRUE(bucket_->Delete("a/b/c/d").ok());
  EXPECT_FALSE(fs::exists(root_ / "a/b"));  // c and b were left empty
  EXPECT_TRUE(fs::exists(root_ / "a/x"));
  ASSERT_TRUE(bucket_->Delete("a/x").ok());
  EXPECT_FALSE(fs::exists(root_ / "a"));
  EXPECT_TRUE(fs::is_directory(root_));  // never the root itself
  EXPECT_THAT(Tree(root_), IsEmpty());
}

TEST_F(FilesystemBucketTest, KeysCannotEscapeTheRoot) {
  const fs::path outside = fs::path(tmp_.path()) / "secret";
  WriteFile(outside, "secret");
  EXPECT_EQ(bucket_->Get("../secret").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bucket_->Put("../evil", "x").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bucket_->Put("a/../../evil", "x").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bucket_->Delete("../secret").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bucket_->Get(outside.string()).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(fs::path(tmp_.path()) / "evil"));
  EXPECT_EQ(ReadFile(outside), "secret");
}

// The guarantee (see filesystem_bucket.h): symlinks below the root are never followed. Paths
// through them read as absent, writes through them fail, deletes remove at most the link itself.
TEST_F(FilesystemBucketTest, SymlinksInsideTheRootAreNeverFollowed) {
  const fs::path outside = fs::path(tmp_.path()) / "outside";
  fs::create_directories(outside);
  WriteFile(outside / "secret", "secret");
  fs::create_directory_symlink(outside, root_ / "dirlink");
  fs::create_symlink(outside / "secret", root_ / "filelink");
  ASSERT_TRUE(bucket_->Put("real/obj", "v").ok());
  fs::create_directory_symlink(outside, root_ / "real" / "nested-link");

  // Reads.
  EXPECT_EQ(bucket_->Get("dirlink/secret").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(bucket_->GetRange("dirlink/secret", 0, 1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(bucket_->Size("dirlink/secret").status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(bucket_->Exists("dirlink/secret").value());
  EXPECT_EQ(bucket_->Get("filelink").status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(bucket_->Exists("filelink").value());
  EXPECT_EQ(bucket_->Get("real/nested-link/secret").status().code(), absl::StatusCode::kNotFound);

  // List skips symlinks, including a prefix that goes through one.
  EXPECT_THAT(Keys(""), ElementsAre("real/obj"));
  EXPECT_THAT(Keys("dirlink/"), IsEmpty());

  // Writes through a directory symlink fail and create nothing outside.
  absl::Status put = bucket_->Put("dirlink/new", "x");
  EXPECT_EQ(put.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(put.message()), HasSubstr("symbolic link"));
  EXPECT_FALSE(fs::exists(outside / "new"));

  // Deletes through a directory symlink do nothing.
  EXPECT_TRUE(bucket_->Delete("dirlink/secret").ok());
  EXPECT_EQ(ReadFile(outside / "secret"), "secret");

  // A Put onto a file symlink replaces the link itself (rename never follows), leaving the
  // target untouched; Delete of a link removes the link only.
  ASSERT_TRUE(bucket_->Put("filelink", "replaced").ok());
  EXPECT_FALSE(fs::is_symlink(root_ / "filelink"));
  EXPECT_EQ(bucket_->Get("filelink").value(), "replaced");
  EXPECT_EQ(ReadFile(outside / "secret"), "secret");
  fs::remove(root_ / "filelink");
  fs::create_symlink(outside / "secret", root_ / "filelink");
  EXPECT_TRUE(bucket_->Delete("filelink").ok());
  EXPECT_EQ(ReadFile(outside / "secret"), "secret");
}

TEST_F(FilesystemBucketTest, RootMayItselfBeASymlink) {
  // Operators often point ./data at a bigger disk; the root is resolved once, at Open.
  const fs::path link = fs::path(tmp_.path()) / "root-link";
  fs::create_directory_symlink(root_, link);
  absl::StatusOr<std::unique_ptr<FilesystemBucket>> b = FilesystemBucket::Open(link.string());
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_TRUE((*b)->Put("via/link", "v").ok());
  EXPECT_EQ(bucket_->Get("via/link").value(), "v");
}

TEST_F(FilesystemBucketTest, AKeyCannotBeBothAnObjectAndADirectory) {
  ASSERT_TRUE(bucket_->Put("a", "object").ok());
  absl::Status s = bucket_->Put("a/b", "x");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("a/b"));

  ASSERT_TRUE(bucket_->Put("c/d", "x").ok());
  s = bucket_->Put("c", "object");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(bucket_->Get("c").status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Keys(""), ElementsAre("a", "c/d"));
  for (const std::string& path : Tree(root_)) {
    EXPECT_THAT(path, ::testing::Not(HasSubstr(std::string(kReservedSegmentPrefix))));
  }
}

TEST_F(FilesystemBucketTest, OverlongSegmentIsInvalidArgument) {
  // Valid as a key (under 1024 bytes) but over the filesystem's 255-byte name limit.
  const std::string key = "a/" + std::string(300, 'n');
  absl::Status s = bucket_->Put(key, "x");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr(bucket_->Name()));
}

TEST_F(FilesystemBucketTest, ErrorsNameTheKeyAndMapErrno) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores permission bits";
  ASSERT_TRUE(bucket_->Put("ro/existing", "v").ok());
  fs::permissions(root_ / "ro", fs::perms::owner_read | fs::perms::owner_exec);
  absl::Status s = bucket_->Put("ro/new", "x");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(s.message()), HasSubstr("ro/new"));
  EXPECT_THAT(std::string(s.message()), HasSubstr(bucket_->Name()));
  EXPECT_THAT(std::string(s.message()), HasSubstr("EACCES"));
  EXPECT_EQ(bucket_->Get("ro/existing").value(), "v");  // reads still work
  fs::permissions(root_ / "ro", fs::perms::owner_all);
}

}  // namespace
}  // namespace embers::objstore
