// ByteBudget: bounds the bytes `upload` holds in memory at once. Each file in flight is read
// whole before it is sent, so without a bound `-c 2000` over a directory of large JFR files
// would hold thousands of them. A thread takes the file's size from the budget before reading it
// and gives it back once the push is answered; it waits while others hold too much. A file larger
// than the whole budget still goes, alone, so no file waits forever.
#ifndef EMBERS_CMD_CLI_BYTE_BUDGET_H_
#define EMBERS_CMD_CLI_BYTE_BUDGET_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace embers::cli {

class ByteBudget {
 public:
  explicit ByteBudget(uint64_t limit) : limit_(limit) {}

  // Blocks until `bytes` fit (or nothing else is held).
  void Acquire(uint64_t bytes) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return held_ == 0 || held_ + bytes <= limit_; });
    held_ += bytes;
  }
  void Release(uint64_t bytes) {
    {
      std::lock_guard lock(mu_);
      held_ -= bytes;
    }
    cv_.notify_all();
  }
  uint64_t held() const {
    std::lock_guard lock(mu_);
    return held_;
  }

 private:
  const uint64_t limit_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t held_ = 0;  // guarded by mu_
};

}  // namespace embers::cli

#endif  // EMBERS_CMD_CLI_BYTE_BUDGET_H_
