#include "cmd/cli/byte_budget.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace embers::cli {
namespace {

TEST(ByteBudget, NeverHoldsMoreThanTheLimitExceptOneOversizedItemAlone) {
  ByteBudget budget(100);
  std::atomic<uint64_t> peak{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const uint64_t bytes = (t == 0 && i % 50 == 0) ? 250 : 10 + (i * 7 + t) % 40;
        budget.Acquire(bytes);
        const uint64_t held = budget.held();
        uint64_t p = peak.load();
        while (held > p && !peak.compare_exchange_weak(p, held)) {
        }
        // An oversized item is only ever held alone.
        if (bytes > 100) {
          EXPECT_EQ(held, bytes);
        }
        budget.Release(bytes);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(budget.held(), 0u);
  EXPECT_LE(peak.load(), 250u);
}

TEST(ByteBudget, AWaiterProceedsOnRelease) {
  ByteBudget budget(100);
  budget.Acquire(80);
  std::atomic<bool> got{false};
  std::thread waiter([&] {
    budget.Acquire(50);
    got = true;
    budget.Release(50);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(got.load());
  budget.Release(80);
  waiter.join();
  EXPECT_TRUE(got.load());
}

}  // namespace
}  // namespace embers::cli
