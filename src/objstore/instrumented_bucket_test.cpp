// InstrumentedBucket reports what a user reads on /metrics: operations by result, bytes moved and
// latency, per backend and operation.
#include "objstore/instrumented_bucket.h"

#include <gtest/gtest.h>

#include <fstream>

#include "base/metrics.h"
#include "objstore/memory_bucket.h"
#include "objstore/test_temp_dir.h"

namespace embers::objstore {
namespace {

// The value of the series `name{labels}` in the global registry's exposition, or -1.
double Series(std::string_view name_and_labels) {
  const std::string text = metrics::Registry::Global().Render();
  const std::string wanted = std::string(name_and_labels) + " ";
  const size_t at = text.find("\n" + wanted);
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + 1 + wanted.size()));
}

TEST(InstrumentedBucket, CountsOperationsBytesAndResults) {
  InstrumentedBucket bucket(std::make_unique<MemoryBucket>(), "test_backend");
  ASSERT_TRUE(bucket.Put("a/b", "hello").ok());
  ASSERT_TRUE(bucket.Put("a/c", "world!").ok());
  ASSERT_EQ(*bucket.Get("a/b"), "hello");
  ASSERT_EQ(*bucket.GetRange("a/c", 1, 3), "orl");
  EXPECT_EQ(bucket.Get("missing").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(bucket.Put("/bad", "x").code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(bucket.Delete("a/b").ok());
  EXPECT_FALSE(*bucket.Exists("a/b"));
  EXPECT_EQ(*bucket.Size("a/c"), 6u);
  ASSERT_TRUE(ListKeys(bucket, "a/").ok());
  TempDir dir;
  const std::string file = dir.path() + "/f";
  std::ofstream(file) << "0123456789";
  ASSERT_TRUE(bucket.PutFile("a/f", file).ok());

  const std::string b = "backend=\"test_backend\"";
  EXPECT_EQ(Series("embers_objstore_operations_total{" + b + ",operation=\"put\",result=\"OK\"}"),
            2);
  EXPECT_EQ(Series("embers_objstore_operations_total{" + b +
                   ",operation=\"put\",result=\"INVALID_ARGUMENT\"}"),
            1);
  EXPECT_EQ(Series("embers_objstore_operations_total{" + b + ",operation=\"get\",result=\"OK\"}"),
            1);
  EXPECT_EQ(
      Series("embers_objstore_operations_total{" + b + ",operation=\"get\",result=\"NOT_FOUND\"}"),
      1);
  for (const char* op : {"get_range", "delete", "exists", "size", "list", "put_file"}) {
    EXPECT_EQ(Series("embers_objstore_operations_total{" + b + ",operation=\"" + op +
                     "\",result=\"OK\"}"),
              1)
        << op;
  }
  EXPECT_EQ(Series("embers_objstore_bytes_total{" + b + ",operation=\"put\"}"), 11);
  EXPECT_EQ(Series("embers_objstore_bytes_total{" + b + ",operation=\"get\"}"), 5);
  EXPECT_EQ(Series("embers_objstore_bytes_total{" + b + ",operation=\"get_range\"}"), 3);
  EXPECT_EQ(Series("embers_objstore_bytes_total{" + b + ",operation=\"put_file\"}"), 10);
  EXPECT_EQ(Series("embers_objstore_operation_duration_seconds_count{" + b + ",operation=\"put\"}"),
            3);
}

}  // namespace
}  // namespace embers::objstore
