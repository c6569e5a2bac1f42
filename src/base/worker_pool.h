// WorkerPool: a fixed set of threads running queued tasks in order.
//
// CPU-bound work runs on a few dedicated threads rather than on the HTTP I/O threads or one thread
// per request: a burst then queues instead of oversubscribing the cores, and the I/O threads stay
// free to answer the requests that are already done. Users: the query-backend (object reads), the
// HTTP server (handlers of routes marked CPU-bound, such as the push and ingest APIs).
// Tasks must not block on other tasks of the same pool.
#ifndef EMBERS_BASE_WORKER_POOL_H_
#define EMBERS_BASE_WORKER_POOL_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace embers {

struct WorkerPoolOptions {
  int threads = 1;
  // Thread name shown by top -H and perf (at most 15 characters are kept).
  std::string name = "worker";
};

class WorkerPool {
 public:
  explicit WorkerPool(WorkerPoolOptions options);
  explicit WorkerPool(int threads) : WorkerPool(WorkerPoolOptions{.threads = threads}) {}
  // Runs every task already queued, then joins the threads.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Submit(std::function<void()> task);
  int size() const { return static_cast<int>(threads_.size()); }
  // Tasks waiting for a thread (for metrics and tests).
  size_t queued() const;

 private:
  void Run();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// Names the calling thread (top -H, perf, gdb); at most 15 characters are kept.
void SetCurrentThreadName(const std::string& name);

}  // namespace embers

#endif  // EMBERS_BASE_WORKER_POOL_H_
