// StoreServerTest: the fixture of the tests that run a cloud bucket against its emulator (s3rver,
// azurite): one server for the whole test binary, started once, and a fresh bucket per test.
// Test-only; s3/s3_bucket_test.cpp and azure/azure_bucket_test.cpp use it.
//
// `Server` has: static Start(dir, first_bucket) → StatusOr<unique_ptr<Server>>,
// CreateBucket(name) → Status and BucketOptions(name) → the options `BucketType::Open` takes.
#ifndef EMBERS_OBJSTORE_STORE_SERVER_TEST_H_
#define EMBERS_OBJSTORE_STORE_SERVER_TEST_H_

#include <cstddef>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "base/strings.h"
#include "gtest/gtest.h"
#include "objstore/test_temp_dir.h"

namespace embers::objstore {

// `size` bytes of a pattern that repeats neither every byte nor every 4 KiB.
inline std::string TestData(size_t size) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>((i * 7 + i / 4096) & 0xFF);
  return data;
}

template <typename Server, typename BucketType>
class StoreServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto server = Server::Start(dir_->path(), "embers");
    if (server.ok()) {
      server_ = server->release();
    } else {
      start_error_ = new absl::Status(server.status());
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
    delete start_error_;
    server_ = nullptr;
    dir_ = nullptr;
    start_error_ = nullptr;
  }

  void SetUp() override {
    ASSERT_EQ(start_error_, nullptr) << *start_error_;
    bucket_name_ = StrCat("test-", ++buckets_);
    ASSERT_TRUE(server_->CreateBucket(bucket_name_).ok());
  }

  auto Options() const { return server_->BucketOptions(bucket_name_); }

  // The bucket opened with `options` (null, with the test failed, when it does not open).
  template <typename Options>
  std::unique_ptr<BucketType> Open(Options options) {
    auto b = BucketType::Open(std::move(options));
    EXPECT_TRUE(b.ok()) << b.status();
    return b.ok() ? std::move(*b) : nullptr;
  }

  // A local file holding `data`, for PutFile.
  std::string File(std::string_view data) {
    const std::string path = files_.path() + "/f" + StrCat(++files_made_);
    std::ofstream(path, std::ios::binary) << data;
    return path;
  }

  static inline TempDir* dir_ = nullptr;
  static inline Server* server_ = nullptr;
  static inline absl::Status* start_error_ = nullptr;
  static inline int buckets_ = 0;
  std::string bucket_name_;
  TempDir files_;
  int files_made_ = 0;
};

}  // namespace embers::objstore

#endif  // EMBERS_OBJSTORE_STORE_SERVER_TEST_H_
