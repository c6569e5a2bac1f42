// MemoryCharge: accounts the bytes a query holds against its memory limit
// (-query-backend.max-query-memory), from creation until Release() or destruction.
//
// The query-backend charges every report being built, read-node results waiting for their merge,
// merged reports and the query's de-duplication set (profile_dedup.h) to one running total per
// query, so the total is what the query holds at once; past the limit the query fails with
// ResourceExhausted (429) instead of growing the process. Not thread-safe: one owner updates it.
#ifndef EMBERS_QUERY_QUERY_MEMORY_H_
#define EMBERS_QUERY_QUERY_MEMORY_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "base/strings.h"

namespace embers::query {

class MemoryCharge {
 public:
  MemoryCharge(int64_t limit, std::atomic<int64_t>* total) : limit_(limit), total_(total) {}
  MemoryCharge(const MemoryCharge&) = delete;
  MemoryCharge& operator=(const MemoryCharge&) = delete;
  ~MemoryCharge() { Release(); }

  // Records that the owner now holds `bytes`; ResourceExhausted once the query is over its limit.
  absl::Status Update(size_t bytes) {
    if (total_ == nullptr) return absl::OkStatus();
    const int64_t delta = static_cast<int64_t>(bytes) - charged_;
    charged_ = static_cast<int64_t>(bytes);
    const int64_t now = total_->fetch_add(delta, std::memory_order_relaxed) + delta;
    if (limit_ > 0 && now > limit_) {
      return absl::ResourceExhaustedError(ToAbsl(
          StrCat("the query needs more than the per-query memory limit of ", limit_,
                 " bytes (-query-backend.max-query-memory): narrow the time range or selector")));
    }
    return absl::OkStatus();
  }
  void Release() { (void)Update(0); }
  // Stops tracking without releasing: the caller keeps the bytes charged and subtracts them
  // from the total once the report is gone.
  int64_t Detach() {
    const int64_t bytes = charged_;
    charged_ = 0;
    total_ = nullptr;
    return bytes;
  }

 private:
  int64_t limit_;
  std::atomic<int64_t>* total_;
  int64_t charged_ = 0;
};

}  // namespace embers::query

#endif  // EMBERS_QUERY_QUERY_MEMORY_H_
