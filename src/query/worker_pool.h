// WorkerPool: a fixed set of threads running queued tasks, the query-backend's CPU pool.
//
// Query reads are CPU-bound (decompress, decode, aggregate), so they run on a few dedicated
// threads rather than on the HTTP I/O threads or one thread per request: a burst of queries then
// queues instead of oversubscribing the cores. Tasks must not block on other tasks of the same
// pool (a query completes through callbacks, never by waiting).
#ifndef EMBERS_QUERY_WORKER_POOL_H_
#define EMBERS_QUERY_WORKER_POOL_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace embers::query {

class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  // Runs every task already queued, then joins the threads.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Submit(std::function<void()> task);
  int size() const { return static_cast<int>(threads_.size()); }

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace embers::query

#endif  // EMBERS_QUERY_WORKER_POOL_H_
