#include "segmentwriter/hedged_upload.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

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

TEST(HedgedUpload, SlowFirstAttemptIsOvertakenByTheHedge) {
  SlowBucket bucket;
  bucket.slow_puts = 1;
  bucket.stall = absl::Milliseconds(400);
  ASSERT_TRUE(UploadObject(&bucket, "k", Bytes(), Fast()).ok());
  // The hedge answered while the first attempt was still stalled.
  EXPECT_EQ(bucket.puts.load(), 2);
  EXPECT_EQ(*bucket.Get("k"), "object bytes");
  // Let the abandoned attempt finish before the bucket goes away.
  absl::SleepFor(absl::Milliseconds(500));
}

TEST(HedgedUpload, FailuresAreRetriedThenReported) {
  SlowBucket bucket;
  bucket.fail = true;
  absl::Status st = UploadObject(&bucket, "k", Bytes(), Fast());
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_EQ(bucket.puts.load(), 3);  // first + 2 retries; failing fast never needs a hedge
}

TEST(HedgedUpload, EveryAttemptStallingIsADeadlineError) {
  SlowBucket bucket;
  bucket.slow_puts = 100;
  bucket.stall = absl::Seconds(1);
  UploadPolicy p = Fast();
  p.timeout = absl::Milliseconds(100);
  p.max_retries = 0;
  absl::Status st = UploadObject(&bucket, "k", Bytes(), p);
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded) << st;
  // Let the abandoned attempts finish before the bucket goes away.
  absl::SleepFor(absl::Milliseconds(1200));
}

}  // namespace
}  // namespace embers::segmentwriter
