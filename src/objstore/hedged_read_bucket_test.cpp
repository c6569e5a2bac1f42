// HedgedReadBucket: a slow read gets a second request whose answer is used, a fast one does not,
// failures wait for the other attempt, and a full pool runs reads unhedged on the caller's thread.

#include "objstore/hedged_read_bucket.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "objstore/memory_bucket.h"

namespace embers::objstore {
namespace {

// The first `slow` reads wait until released (a request stuck in the store's tail); later ones
// answer at once. `fail_first` makes the first read fail instead once released.
class StallingBucket : public ForwardingBucket {
 public:
  using ForwardingBucket::ForwardingBucket;
  absl::StatusOr<std::string> GetRange(std::string_view key, uint64_t offset,
                                       uint64_t length) override {
    const int n = calls++;
    if (n < slow) {
      release.WaitForNotification();
      if (fail_first && n == 0) return absl::UnavailableError("slow and then failed");
    }
    return ForwardingBucket::GetRange(key, offset, length);
  }
  std::atomic<int> calls{0};
  int slow = 0;
  bool fail_first = false;
  absl::Notification release;
};

class HedgedReadBucketTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(store_.Put("k", "0123456789").ok()); }
  MemoryBucket store_;
  StallingBucket stalling_{&store_};
};

TEST_F(HedgedReadBucketTest, AFastReadIsNotHedged) {
  HedgedReadBucket hedged(&stalling_, {.hedge_after = absl::Seconds(5), .max_in_flight = 4});
  EXPECT_EQ(hedged.GetRange("k", 2, 3).value(), "234");
  EXPECT_EQ(stalling_.calls, 1);
}

TEST_F(HedgedReadBucketTest, ASlowReadIsAnsweredByTheHedge) {
  stalling_.slow = 1;
  HedgedReadBucket hedged(&stalling_, {.hedge_after = absl::Milliseconds(20), .max_in_flight = 4});
  // The original never answers before the test releases it: the second request's answer is used.
  EXPECT_EQ(hedged.GetRange("k", 4, 2).value(), "45");
  EXPECT_EQ(stalling_.calls, 2);
  stalling_.release.Notify();  // the loser finishes on the pool; its answer is dropped
}

TEST_F(HedgedReadBucketTest, AFailedAttemptWaitsForTheOther) {
  stalling_.slow = 2;  // both attempts stall
  stalling_.fail_first = true;
  HedgedReadBucket hedged(&stalling_, {.hedge_after = absl::Milliseconds(20), .max_in_flight = 4});
  std::thread releaser([this] {
    while (stalling_.calls < 2) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    stalling_.release.Notify();
  });
  // The original fails, the hedge succeeds: the read succeeds.
  EXPECT_EQ(hedged.GetRange("k", 0, 3).value(), "012");
  releaser.join();
  // Both failing: the error comes back.
  EXPECT_EQ(hedged.GetRange("missing", 0, 3).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(HedgedReadBucketTest, AFullPoolRunsReadsOnTheCallersThread) {
  stalling_.slow = 2;
  HedgedReadBucket hedged(&stalling_, {.hedge_after = absl::Milliseconds(10), .max_in_flight = 2});
  // One read holds both pool threads (original and hedge, both stalled)...
  std::thread stuck([&] { EXPECT_EQ(hedged.GetRange("k", 0, 1).value(), "0"); });
  while (stalling_.calls < 2) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  // ...so the next one runs inline, unhedged, and does not wait for them.
  EXPECT_EQ(hedged.GetRange("k", 9, 1).value(), "9");
  EXPECT_EQ(stalling_.calls, 3);
  stalling_.release.Notify();
  stuck.join();
}

TEST_F(HedgedReadBucketTest, ConcurrentReadsGetTheirOwnBytes) {
  HedgedReadBucket hedged(&stalling_, {.hedge_after = absl::Microseconds(50), .max_in_flight = 3});
  std::atomic<int> wrong{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        const uint64_t offset = static_cast<uint64_t>((i + t) % 8);
        absl::StatusOr<std::string> got = hedged.GetRange("k", offset, 2);
        if (!got.ok() || *got != std::string("0123456789").substr(offset, 2)) ++wrong;
      }
    });
  }
  for (std::thread& r : readers) r.join();
  EXPECT_EQ(wrong, 0);
}

}  // namespace
}  // namespace embers::objstore
