#include "base/worker_pool.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <future>
#include <string>

namespace embers {
namespace {

TEST(WorkerPoolTest, RunsEveryTaskQueuedBeforeDestruction) {
  std::atomic<int> ran{0};
  {
    WorkerPool pool({.threads = 2, .name = "test-pool"});
    for (int i = 0; i < 1000; ++i) pool.Submit([&ran] { ran.fetch_add(1); });
  }
  EXPECT_EQ(ran.load(), 1000);
}

TEST(WorkerPoolTest, ThreadsCarryTheName) {
  WorkerPool pool({.threads = 1, .name = "a-very-long-pool-name"});
  std::promise<std::string> seen;
  pool.Submit([&seen] {
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof(name));
    seen.set_value(name);
  });
  EXPECT_EQ(seen.get_future().get(), "a-very-long-poo");  // the kernel keeps 15 characters
}

}  // namespace
}  // namespace embers
