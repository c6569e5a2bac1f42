#include "segmentwriter/hedged_upload.h"

#include <gtest/gtest.h>

#include <atomic>

#include "objstore/forwarding_bucket.h"
#include "objstore/memory_bucket.h"

namespace embers::segmentwriter {
namespace {

// A bucket whose first `slow_puts` puts stall for `stall`, and whose puts fail while `fail`.
class SlowBucket final : public objstore::ForwardingBucket {
 public:
  SlowBucket() : ForwardingBucket(&inner_) {}
  std::atomic<int> slow_puts{0};
  absl::Duration stall = absl::Seconds(3);
  std::atomic<bool> fail{false};
  std::atomic<int> puts{0};

  std::string_view Name() const override { return "slow"; }
  absl::Status Put(std::string_view k, std::string_view d) override {
    ++puts;
    if (slow_puts.fetch_sub(1) > 0) absl::SleepFor(stall);
    if (fail) return absl::UnavailableError("injected");
    return inner_.Put(k, d);
  }

 private:
  objstore::MemoryBucket inner_;
};

UploadPolicy Fast() {
  UploadPolicy p;
  p.timeout = absl::Milliseconds(500);
  p.max_retries = 2;
  p.retry_min_period = absl::Milliseconds(1);
  p.hedge_after = absl::Milliseconds(50);
  return p;
}

auto Bytes() { return std::make_shared<const std::string>("object bytes"); }

// The bucket is declared before the Uploader in each test, so the Uploader (which waits for the
// attempts still running) goes first: no sleep keeps the bucket alive for abandoned attempts.

TEST(HedgedUpload, SlowFirstAttemptIsOvertakenByTheHedge) {
  SlowBucket bucket;
  bucket.slow_puts = 1;
  bucket.stall = absl::Milliseconds(400);
  Uploader uploader(&bucket, 2, 8);
  ASSERT_TRUE(uploader.Upload("k", Bytes(), Fast()).ok());
  // The hedge answered while the first attempt was still stalled.
  EXPECT_EQ(bucket.puts.load(), 2);
  EXPECT_EQ(*bucket.Get("k"), "object bytes");
}

TEST(HedgedUpload, FailuresAreRetriedThenReported) {
  SlowBucket bucket;
  bucket.fail = true;
  Uploader uploader(&bucket, 2, 8);
  absl::Status st = uploader.Upload("k", Bytes(), Fast());
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_EQ(bucket.puts.load(), 3);  // first + 2 retries; failing fast never needs a hedge
}

TEST(HedgedUpload, EveryAttemptStallingIsADeadlineError) {
  SlowBucket bucket;
  bucket.slow_puts = 100;
  bucket.stall = absl::Milliseconds(300);
  Uploader uploader(&bucket, 2, 8);
  UploadPolicy p = Fast();
  p.timeout = absl::Milliseconds(100);
  p.max_retries = 0;
  absl::Status st = uploader.Upload("k", Bytes(), p);
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded) << st;
}

TEST(HedgedUpload, AHungBucketCostsBoundedThreadsAndAttempts) {
  SlowBucket bucket;
  bucket.slow_puts = 1000;
  bucket.stall = absl::Seconds(2);  // hung for the whole test, however slow the machine
  Uploader uploader(&bucket, /*threads=*/2, /*max_pending=*/4);
  UploadPolicy p = Fast();
  p.timeout = absl::Milliseconds(30);
  p.hedge_after = absl::Milliseconds(10);
  p.max_retries = 3;
  // Two attempts stall on the two threads; the rest queue up to the bound, then fail at once.
  absl::Status st = uploader.Upload("k", Bytes(), p);
  EXPECT_FALSE(st.ok());
  EXPECT_LE(uploader.pending(), 4u);
  EXPECT_LE(bucket.puts.load(), 2) << "more Puts ran at once than the pool has threads";
  absl::Status again = uploader.Upload("k2", Bytes(), p);
  EXPECT_EQ(again.code(), absl::StatusCode::kUnavailable) << again;
  EXPECT_NE(again.message().find("already queued or running"), std::string_view::npos) << again;
}

}  // namespace
}  // namespace embers::segmentwriter
