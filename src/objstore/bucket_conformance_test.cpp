// The Bucket contract, run against every implementation. A new backend (S3, Azure) joins by adding
// one factory to INSTANTIATE_TEST_SUITE_P at the bottom; backend-specific behaviour belongs in that
// backend's own test file.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <fstream>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "objstore/azure/azurite_process.h"
#include "objstore/bucket.h"
#include "objstore/filesystem_bucket.h"
#include "objstore/memory_bucket.h"
#include "objstore/prefixed_bucket.h"
#include "objstore/s3/s3rver_process.h"
#include "objstore/test_temp_dir.h"

namespace embers::objstore {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// ---------------------------------------------------------------------------------------------
// Key validation (the one function all backends share).

TEST(ValidateKeyTest, AcceptsOrdinaryKeys) {
  for (std::string_view key :
       {"a", "segments/1/anonymous/01HZY3KD4TS8H2V5X6N8N6VQ2B/block.bin", "a.b", "..x", ".hidden",
        "x/.embers-tm", "with space/ünïcode", "a-b_c~d"}) {
    EXPECT_TRUE(ValidateKey(key).ok()) << key;
  }
  EXPECT_TRUE(ValidateKey(std::string(kMaxKeyLength, 'k')).ok());
}

TEST(ValidateKeyTest, RejectsBadKeys) {
  const std::string nul("a\0b", 3);
  for (std::string_view key :
       {std::string_view(""), std::string_view("/abs"), std::string_view("../x"),
        std::string_view("a/../b"), std::string_view("a/.."), std::string_view("a/./b"),
        std::string_view("."), std::string_view(".."), std::string_view("a//b"),
        std::string_view("a/"), std::string_view("a/.embers-tmp-1"), std::string_view(nul)}) {
    absl::Status s = ValidateKey(key);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << key;
  }
  EXPECT_EQ(ValidateKey(std::string(kMaxKeyLength + 1, 'k')).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ValidateListPrefixTest, AcceptsPartialLastSegment) {
  for (std::string_view prefix : {"", "seg", "segments/", "segments/1/anon", "a/.", "a/..", "."}) {
    EXPECT_TRUE(ValidateListPrefix(prefix).ok()) << prefix;
  }
}

TEST(ValidateListPrefixTest, RejectsBadCompleteSegments) {
  for (std::string_view prefix : {"/", "/abs", "../x", "a//b", "a/./b", "./", "a/../"}) {
    EXPECT_EQ(ValidateListPrefix(prefix).code(), absl::StatusCode::kInvalidArgument) << prefix;
  }
}

// ---------------------------------------------------------------------------------------------
// The conformance suite.

struct BucketFactory {
  std::string name;  // gtest parameter name
  // Makes a fresh, empty bucket. `scratch_dir` is a new empty directory it may use.
  std::function<absl::StatusOr<std::unique_ptr<Bucket>>(const std::string& scratch_dir)> make;
  // The longest key the bucket accepts: less than kMaxKeyLength when it adds a prefix.
  size_t max_key_length = kMaxKeyLength;
};

// Test names and failure messages show the backend's name rather than the struct's bytes.
void PrintTo(const BucketFactory& factory, std::ostream* os) { *os << factory.name; }

class BucketConformanceTest : public ::testing::TestWithParam<BucketFactory> {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Bucket>> bucket = GetParam().make(scratch_.path());
    ASSERT_TRUE(bucket.ok()) << bucket.status();
    bucket_ = std::move(*bucket);
  }

  std::vector<std::string> Keys(std::string_view prefix) {
    absl::StatusOr<std::vector<std::string>> keys = ListKeys(*bucket_, prefix);
    EXPECT_TRUE(keys.ok()) << keys.status();
    return keys.ok() ? *keys : std::vector<std::string>{};
  }

  void MustPut(std::string_view key, std::string_view data) {
    ASSERT_TRUE(bucket_->Put(key, data).ok()) << key;
  }

  // A local file with `data`, for PutFile (outside the bucket's directory).
  std::string LocalFile(std::string_view name, std::string_view data) {
    const std::string path = files_.path() + "/" + std::string(name);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << data;
    EXPECT_TRUE(out.good()) << path;
    return path;
  }

  TempDir files_;

  TempDir scratch_;
  std::unique_ptr<Bucket> bucket_;
};

// Bytes 0..255 repeated in a scrambled order: NULs, high bytes, no accidental text.
std::string BinaryData(size_t size) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>((i * 131 + i / 256) & 0xFF);
  return data;
}

TEST_P(BucketConformanceTest, NameIsNotEmpty) { EXPECT_FALSE(bucket_->Name().empty()); }

TEST_P(BucketConformanceTest, PutGetRoundTrip) {
  MustPut("a/b/c", "hello");
  absl::StatusOr<std::string> got = bucket_->Get("a/b/c");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "hello");
  EXPECT_EQ(bucket_->Size("a/b/c").value(), 5u);
  EXPECT_TRUE(bucket_->Exists("a/b/c").value());
}

TEST_P(BucketConformanceTest, SingleSegmentKey) {
  MustPut("top", "x");
  EXPECT_EQ(bucket_->Get("top").value(), "x");
  EXPECT_THAT(Keys(""), ElementsAre("top"));
}

TEST_P(BucketConformanceTest, EmptyObject) {
  MustPut("empty", "");
  EXPECT_EQ(bucket_->Get("empty").value(), "");
  EXPECT_EQ(bucket_->Size("empty").value(), 0u);
  EXPECT_TRUE(bucket_->Exists("empty").value());
  EXPECT_EQ(bucket_->GetRange("empty", 0, 10).value(), "");
  EXPECT_EQ(bucket_->GetRange("empty", 1, 1).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(Keys(""), ElementsAre("empty"));
}

TEST_P(BucketConformanceTest, LargeBinaryObjectWithNuls) {
  const std::string data = BinaryData(5 << 20);
  ASSERT_NE(data.find('\0'), std::string::npos);
  MustPut("segments/1/anonymous/01J/block.bin", data);
  absl::StatusOr<std::string> got = bucket_->Get("segments/1/anonymous/01J/block.bin");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == data);  // not EXPECT_EQ: a 5 MiB diff is no help
  EXPECT_EQ(bucket_->Size("segments/1/anonymous/01J/block.bin").value(), data.size());
  absl::StatusOr<std::string> tail =
      bucket_->GetRange("segments/1/anonymous/01J/block.bin", data.size() - 12345, 1 << 20);
  ASSERT_TRUE(tail.ok()) << tail.status();
  EXPECT_TRUE(*tail == data.substr(data.size() - 12345));
}

TEST_P(BucketConformanceTest, PutFileStoresTheFileContents) {
  const std::string data = BinaryData(3 << 20);
  const std::string path = LocalFile("block.bin", data);
  const std::string key = "blocks/1/tenant/01J/block.bin";
  absl::Status s = bucket_->PutFile(key, path);
  ASSERT_TRUE(s.ok()) << s;
  absl::StatusOr<std::string> got = bucket_->Get(key);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == data);
  EXPECT_EQ(bucket_->Size(key).value(), data.size());
  EXPECT_EQ(bucket_->GetRange(key, 1000, 10).value(), data.substr(1000, 10));
  EXPECT_THAT(Keys(""), ElementsAre(key));
  // The file is only read: it is still there, unchanged, for the caller to remove.
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(std::string(std::istreambuf_iterator<char>(in), {}) == data);
}

TEST_P(BucketConformanceTest, PutFileOfAnEmptyFileAndOverwrites) {
  ASSERT_TRUE(bucket_->PutFile("f", LocalFile("empty", "")).ok());
  EXPECT_EQ(bucket_->Get("f").value(), "");
  EXPECT_TRUE(bucket_->Exists("f").value());
  MustPut("f", "a much longer value written by Put");
  ASSERT_TRUE(bucket_->PutFile("f", LocalFile("short", "short")).ok());
  EXPECT_EQ(bucket_->Get("f").value(), "short");
  ASSERT_TRUE(bucket_->Put("f", "put again").ok());
  EXPECT_EQ(bucket_->Get("f").value(), "put again");
}

TEST_P(BucketConformanceTest, PutFileOfAMissingFileWritesNothing) {
  const std::string path = files_.path() + "/does-not-exist";
  absl::Status s = bucket_->PutFile("p/q", path);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(s.message()), HasSubstr(path));
  // A directory is not a file either.
  EXPECT_FALSE(bucket_->PutFile("p/q", files_.path()).ok());
  EXPECT_FALSE(bucket_->Exists("p/q").value());
  EXPECT_THAT(Keys(""), IsEmpty());
}

TEST_P(BucketConformanceTest, OverwriteReplacesWholeObject) {
  MustPut("k", "a much longer first value");
  MustPut("k", "short");
  EXPECT_EQ(bucket_->Get("k").value(), "short");
  EXPECT_EQ(bucket_->Size("k").value(), 5u);
  EXPECT_THAT(Keys(""), ElementsAre("k"));
}

TEST_P(BucketConformanceTest, GetRange) {
  MustPut("r", "0123456789");
  EXPECT_EQ(bucket_->GetRange("r", 0, 3).value(), "012");  // start
  EXPECT_EQ(bucket_->GetRange("r", 4, 3).value(), "456");  // middle
  EXPECT_EQ(bucket_->GetRange("r", 8, 10).value(), "89");  // runs past the end
  EXPECT_EQ(bucket_->GetRange("r", 0, 10).value(), "0123456789");
  EXPECT_EQ(bucket_->GetRange("r", 3, 0).value(), "");                  // zero length
  EXPECT_EQ(bucket_->GetRange("r", 10, 5).value(), "");                 // offset == size
  EXPECT_EQ(bucket_->GetRange("r", 3, UINT64_MAX).value(), "3456789");  // no overflow
  absl::StatusOr<std::string> past = bucket_->GetRange("r", 11, 1);
  EXPECT_EQ(past.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(bucket_->GetRange("r", UINT64_MAX, 1).status().code(), absl::StatusCode::kOutOfRange);
}

TEST_P(BucketConformanceTest, MissingObjectIsNotFound) {
  const std::string key = "segments/9/anonymous/nope/block.bin";
  absl::StatusOr<std::string> get = bucket_->Get(key);
  ASSERT_EQ(get.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(get.status().message()), HasSubstr(key));
  EXPECT_THAT(std::string(get.status().message()), HasSubstr(std::string(bucket_->Name())));
  EXPECT_EQ(bucket_->Size(key).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(bucket_->GetRange(key, 0, 1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(bucket_->Exists(key).value());
}

TEST_P(BucketConformanceTest, KeyPrefixesAreNotObjects) {
  // "dir/obj" exists: neither "dir" nor "dir/obj/x" is an object.
  MustPut("dir/obj", "v");
  for (std::string_view key : {"dir", "dir/obj/x", "di"}) {
    EXPECT_EQ(bucket_->Get(key).status().code(), absl::StatusCode::kNotFound) << key;
    EXPECT_EQ(bucket_->Size(key).status().code(), absl::StatusCode::kNotFound) << key;
    EXPECT_FALSE(bucket_->Exists(key).value()) << key;
    EXPECT_TRUE(bucket_->Delete(key).ok()) << key;
  }
  EXPECT_EQ(bucket_->Get("dir/obj").value(), "v");  // the deletes above touched nothing
}

TEST_P(BucketConformanceTest, Exists) {
  EXPECT_FALSE(bucket_->Exists("e/x").value());
  MustPut("e/x", "1");
  EXPECT_TRUE(bucket_->Exists("e/x").value());
  ASSERT_TRUE(bucket_->Delete("e/x").ok());
  EXPECT_FALSE(bucket_->Exists("e/x").value());
}

TEST_P(BucketConformanceTest, DeleteIsIdempotent) {
  EXPECT_TRUE(bucket_->Delete("never/existed").ok());
  MustPut("d/x", "1");
  MustPut("d/y", "2");
  EXPECT_TRUE(bucket_->Delete("d/x").ok());
  EXPECT_EQ(bucket_->Get("d/x").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(bucket_->Delete("d/x").ok());
  EXPECT_EQ(bucket_->Get("d/y").value(), "2");
  EXPECT_THAT(Keys(""), ElementsAre("d/y"));
  EXPECT_TRUE(bucket_->Delete("d/y").ok());
  EXPECT_THAT(Keys(""), IsEmpty());
  // A deleted key can be written again.
  MustPut("d/x", "3");
  EXPECT_EQ(bucket_->Get("d/x").value(), "3");
}

TEST_P(BucketConformanceTest, DeleteManyRemovesEveryKeyAndSkipsMissingOnes) {
  // More keys than one S3 DeleteObjects request takes (1,000), plus keys that never existed.
  std::vector<std::string> keys;
  for (int i = 0; i < 1003; ++i) keys.push_back(StrCat("many/", i));
  {
    std::vector<std::thread> writers;
    std::atomic<int> failed{0};
    for (size_t t = 0; t < 8; ++t) {
      writers.emplace_back([&, t] {
        for (size_t i = t; i < keys.size(); i += 8) failed += !bucket_->Put(keys[i], "x").ok();
      });
    }
    for (std::thread& w : writers) w.join();
    ASSERT_EQ(failed, 0);
  }
  MustPut("keep/me", "1");
  keys.push_back("many/never-existed");
  keys.push_back("elsewhere/never-existed");
  EXPECT_TRUE(bucket_->DeleteMany(keys).ok());
  EXPECT_THAT(Keys(""), ElementsAre("keep/me"));
  EXPECT_TRUE(bucket_->DeleteMany(keys).ok());  // again: all missing now
  EXPECT_TRUE(bucket_->DeleteMany({}).ok());
  EXPECT_EQ(bucket_->DeleteMany(std::vector<std::string>{"keep/me", "a//b"}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(BucketConformanceTest, ListByPrefixInLexicographicOrder) {
  // Deliberately put out of order, with siblings that sort around '/': '-' and '.' sort before
  // '/', '0' after, so a naive per-directory walk would get this wrong.
  const std::vector<std::string> keys = {
      "segments/2/anonymous/01C/block.bin",
      "segments/1/anonymous/01B/block.bin",
      "segments/1/anonymous/01A/block.bin",
      "blocks/1/tenant/01D/block.bin",
      "dlq/1/tenant/01E/meta.pb",
      "seg-other",
      "segz",
      "order/a0",
      "order/a/x",
      "order/a.b",
      "order/a-b",
      "order/a/y/z",
  };
  for (const std::string& key : keys) MustPut(key, key);
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());

  EXPECT_EQ(Keys(""), sorted);
  EXPECT_THAT(Keys("segments/"), ElementsAre("segments/1/anonymous/01A/block.bin",
                                             "segments/1/anonymous/01B/block.bin",
                                             "segments/2/anonymous/01C/block.bin"));
  // A prefix that is not a directory boundary.
  EXPECT_THAT(Keys("seg"), ElementsAre("seg-other", "segments/1/anonymous/01A/block.bin",
                                       "segments/1/anonymous/01B/block.bin",
                                       "segments/2/anonymous/01C/block.bin", "segz"));
  EXPECT_THAT(Keys("segments/1/anonymous/01"), ElementsAre("segments/1/anonymous/01A/block.bin",
                                                           "segments/1/anonymous/01B/block.bin"));
  EXPECT_THAT(Keys("order/"),
              ElementsAre("order/a-b", "order/a.b", "order/a/x", "order/a/y/z", "order/a0"));
  EXPECT_THAT(Keys("order/a"),
              ElementsAre("order/a-b", "order/a.b", "order/a/x", "order/a/y/z", "order/a0"));
  EXPECT_THAT(Keys("order/a/"), ElementsAre("order/a/x", "order/a/y/z"));
  // A prefix equal to a whole key.
  EXPECT_THAT(Keys("dlq/1/tenant/01E/meta.pb"), ElementsAre("dlq/1/tenant/01E/meta.pb"));
  // Empty results.
  EXPECT_THAT(Keys("nothing"), IsEmpty());
  EXPECT_THAT(Keys("segments/9/"), IsEmpty());
  EXPECT_THAT(Keys("segz/"), IsEmpty());  // below an object, not a directory
  EXPECT_THAT(Keys("dlq/1/tenant/01E/meta.pb/"), IsEmpty());
}

TEST_P(BucketConformanceTest, ListCallbackErrorStopsIteration) {
  for (std::string_view key : {"l/1", "l/2", "l/3", "l/4"}) MustPut(key, "v");
  std::vector<std::string> seen;
  absl::Status s = bucket_->List("l/", [&](std::string_view key) {
    seen.emplace_back(key);
    return seen.size() == 2 ? absl::CancelledError("enough") : absl::OkStatus();
  });
  EXPECT_EQ(s, absl::CancelledError("enough"));
  EXPECT_THAT(seen, ElementsAre("l/1", "l/2"));
}

TEST_P(BucketConformanceTest, ListCallbackMayUseTheBucket) {
  // List-and-delete is how compaction cleans up: it must neither deadlock nor skip keys.
  for (std::string_view key : {"gc/a/1", "gc/a/2", "gc/b/1", "gc/c"}) MustPut(key, "v");
  MustPut("keep", "v");
  std::vector<std::string> deleted;
  absl::Status s = bucket_->List("gc/", [&](std::string_view key) {
    deleted.emplace_back(key);
    absl::StatusOr<std::string> value = bucket_->Get(key);
    if (!value.ok()) return value.status();
    return bucket_->Delete(key);
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(deleted, ElementsAre("gc/a/1", "gc/a/2", "gc/b/1", "gc/c"));
  EXPECT_THAT(Keys(""), ElementsAre("keep"));
}

TEST_P(BucketConformanceTest, UnusualButValidKeys) {
  const std::vector<std::string> keys = {"..x/.hidden", "with space/ünïcode", "a.b/c~d"};
  for (const std::string& key : keys) MustPut(key, key);
  for (const std::string& key : keys) EXPECT_EQ(bucket_->Get(key).value(), key);
  // The longest key, built from segments every backend accepts (filesystems cap a segment at
  // 255 bytes), works; one byte more does not.
  const size_t max = GetParam().max_key_length;
  std::string longest;
  while (longest.size() + 101 <= max) longest += std::string(100, 'x') + "/";
  longest += std::string(max - longest.size(), 'y');
  ASSERT_EQ(longest.size(), max);
  absl::Status s = bucket_->Put(longest, "long");
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(bucket_->Get(longest).value(), "long");
  EXPECT_THAT(Keys(longest.substr(0, 50)), ElementsAre(longest));
  EXPECT_EQ(bucket_->Put(longest + "z", "long").code(), absl::StatusCode::kInvalidArgument);
}

TEST_P(BucketConformanceTest, InvalidKeysAreRejectedByEveryOperation) {
  const std::string too_long(kMaxKeyLength + 1, 'k');
  const std::string nul("a\0b", 3);
  const std::string file = LocalFile("v", "v");
  for (std::string_view key :
       {std::string_view("../x"), std::string_view("/abs"), std::string_view("a//b"),
        std::string_view("a/./b"), std::string_view(""), std::string_view("a/"),
        std::string_view("a/.."), std::string_view("x/.embers-tmp-1"), std::string_view(nul),
        std::string_view(too_long)}) {
    SCOPED_TRACE(testing::Message() << "key \"" << key << "\"");
    EXPECT_EQ(bucket_->Put(key, "v").code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(bucket_->PutFile(key, file).code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(bucket_->Get(key).status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(bucket_->GetRange(key, 0, 1).status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(bucket_->Size(key).status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(bucket_->Exists(key).status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(bucket_->Delete(key).code(), absl::StatusCode::kInvalidArgument);
  }
  for (std::string_view prefix : {"../x", "/abs", "a//b", "a/./b"}) {
    absl::Status s = bucket_->List(prefix, [](std::string_view) { return absl::OkStatus(); });
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << prefix;
  }
  EXPECT_THAT(Keys(""), IsEmpty());  // nothing was written anywhere
}

TEST_P(BucketConformanceTest, ConcurrentPutsOfOneKeyLeaveOneCompleteValue) {
  constexpr int kThreads = 8;
  constexpr int kPutsPerThread = 4;
  // Each writer's value is distinct in both content and length.
  auto value_of = [](int writer) {
    return std::string(256 * 1024 + writer * 1000, static_cast<char>('A' + writer));
  };
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string value = value_of(t);
      for (int i = 0; i < kPutsPerThread; ++i) {
        if (!bucket_->Put("contended/key", value).ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  absl::StatusOr<std::string> got = bucket_->Get("contended/key");
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_FALSE(got->empty());
  const int writer = (*got)[0] - 'A';
  ASSERT_GE(writer, 0);
  ASSERT_LT(writer, kThreads);
  EXPECT_TRUE(*got == value_of(writer)) << "torn value of size " << got->size();
  EXPECT_THAT(Keys(""), ElementsAre("contended/key"));
}

TEST_P(BucketConformanceTest, ConcurrentReadersNeverSeeAPartialObject) {
  // Every value is one byte repeated a whole number of 64 KiB blocks, and consecutive versions
  // differ in byte and length, so a mix of two values or a truncated value is detectable.
  constexpr size_t kBlock = 64 * 1024;
  auto value_of = [](int version) {
    return std::string(kBlock * (1 + version % 7), static_cast<char>('a' + version % 26));
  };
  auto is_whole = [](const std::string& v) {
    return !v.empty() && v.size() % kBlock == 0 &&
           std::all_of(v.begin(), v.end(), [&](char c) { return c == v[0]; });
  };
  MustPut("hot/object", value_of(0));

  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::atomic<int> reads{0};
  std::vector<std::thread> threads;
  // One writer Puts, the other PutFiles: both replace the object atomically.
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < 40; ++i) {
        const std::string value = value_of(w * 40 + i);
        absl::Status s = w == 0 ? bucket_->Put("hot/object", value)
                                : bucket_->PutFile("hot/object", LocalFile("hot", value));
        if (!s.ok()) ++bad;
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      while (!done.load()) {
        absl::StatusOr<std::string> v = bucket_->Get("hot/object");
        if (!v.ok() || !is_whole(*v)) ++bad;
        absl::StatusOr<std::string> part = bucket_->GetRange("hot/object", kBlock / 2, 20);
        if (!part.ok() || part->size() != 20 ||
            std::count(part->begin(), part->end(), (*part)[0]) != 20) {
          ++bad;
        }
        absl::StatusOr<uint64_t> size = bucket_->Size("hot/object");
        if (!size.ok() || *size % kBlock != 0) ++bad;
        ++reads;
      }
    });
  }
  threads[0].join();
  threads[1].join();
  done.store(true);
  threads[2].join();
  threads[3].join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(reads.load(), 0);
}

TEST_P(BucketConformanceTest, ConcurrentPutAndDeleteOfSiblings) {
  // Deleting the last object of a directory may remove the directory (filesystem) while another
  // thread is putting a sibling into it: the Put must still succeed.
  std::atomic<int> failures{0};
  auto churn = [&](const std::string& key) {
    for (int i = 0; i < 60; ++i) {
      if (!bucket_->Put(key, "v").ok()) ++failures;
      absl::StatusOr<std::string> got = bucket_->Get(key);
      if (!got.ok() || *got != "v") ++failures;
      if (!bucket_->Delete(key).ok()) ++failures;
    }
  };
  std::thread a(churn, "race/shard/anonymous/a/block.bin");
  std::thread b(churn, "race/shard/anonymous/b/block.bin");
  std::thread c(churn, "race/shard/c");
  a.join();
  b.join();
  c.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_THAT(Keys(""), IsEmpty());
}

// ---------------------------------------------------------------------------------------------
// The implementations under test. Add a backend here and it runs every test above.

absl::StatusOr<std::unique_ptr<Bucket>> MakeFilesystem(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<FilesystemBucket>> bucket =
      FilesystemBucket::Open(dir + "/bucket");
  if (!bucket.ok()) return bucket.status();
  return std::unique_ptr<Bucket>(std::move(*bucket));
}

absl::StatusOr<std::unique_ptr<Bucket>> MakeMemory(const std::string&) {
  return std::unique_ptr<Bucket>(new MemoryBucket());
}

constexpr std::string_view kTestPrefix = "tenant-1";

absl::StatusOr<std::unique_ptr<Bucket>> MakePrefixedMemory(const std::string&) {
  auto inner = std::make_unique<MemoryBucket>();
  // Objects outside the prefix must stay invisible to the prefixed bucket, including ones whose
  // keys merely start with the prefix text.
  for (std::string_view key : {"other/x", "tenant-10/z", "tenant-1x/y", "tenant-0"}) {
    if (absl::Status s = inner->Put(key, "noise"); !s.ok()) return s;
  }
  absl::StatusOr<std::unique_ptr<PrefixedBucket>> bucket =
      PrefixedBucket::Create(std::move(inner), kTestPrefix);
  if (!bucket.ok()) return bucket.status();
  return std::unique_ptr<Bucket>(std::move(*bucket));
}

// S3 on a real s3rver (s3rver_process.h): one server per test process, a fresh bucket per test.
// Listings come two keys a page so that every listing test also runs through continuation
// tokens. No node or s3rver fails the test (with how to install them), never skips it.
absl::StatusOr<std::unique_ptr<Bucket>> MakeS3(const std::string&) {
  static TempDir dir;
  static absl::StatusOr<std::unique_ptr<s3::S3rverProcess>> server =
      s3::S3rverProcess::Start(dir.path(), "embers");
  static int buckets = 0;
  if (!server.ok()) return server.status();
  const std::string name = StrCat("conformance-", ++buckets);
  if (absl::Status s = (*server)->CreateBucket(name); !s.ok()) return s;
  s3::S3BucketOptions options = (*server)->BucketOptions(name);
  options.list_page_size = 2;
  absl::StatusOr<std::unique_ptr<s3::S3Bucket>> bucket = s3::S3Bucket::Open(std::move(options));
  if (!bucket.ok()) return bucket.status();
  return std::unique_ptr<Bucket>(std::move(*bucket));
}

// Azure Blob on a real azurite (azurite_process.h): one server per test process, a fresh
// container per test, two blobs a listing page so that every listing test also runs through
// markers. No node or azurite fails the test (with how to install them), never skips it.
absl::StatusOr<std::unique_ptr<Bucket>> MakeAzure(const std::string&) {
  static TempDir dir;
  static absl::StatusOr<std::unique_ptr<azure::AzuriteProcess>> server =
      azure::AzuriteProcess::Start(dir.path(), "embers");
  static int containers = 0;
  if (!server.ok()) return server.status();
  const std::string name = StrCat("conformance-", ++containers);
  if (absl::Status s = (*server)->CreateBucket(name); !s.ok()) return s;
  azure::AzureBucketOptions options = (*server)->BucketOptions(name);
  options.list_page_size = 2;
  absl::StatusOr<std::unique_ptr<azure::AzureBucket>> bucket =
      azure::AzureBucket::Open(std::move(options));
  if (!bucket.ok()) return bucket.status();
  return std::unique_ptr<Bucket>(std::move(*bucket));
}

INSTANTIATE_TEST_SUITE_P(Backends, BucketConformanceTest,
                         ::testing::Values(BucketFactory{"filesystem", MakeFilesystem},
                                           BucketFactory{"memory", MakeMemory},
                                           BucketFactory{"prefixed_memory", MakePrefixedMemory,
                                                         kMaxKeyLength - kTestPrefix.size() - 1},
                                           BucketFactory{"s3", MakeS3},
                                           BucketFactory{"azure", MakeAzure}),
                         [](const ::testing::TestParamInfo<BucketFactory>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace embers::objstore
