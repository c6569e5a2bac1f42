#include "base/open_files_limit.h"

#include <sys/resource.h>

#include <algorithm>
#include <limits>

namespace embers {
namespace {

// Beyond this the kernel's per-process table (fs.nr_open) usually refuses anyway.
constexpr rlim_t kMostWanted = rlim_t{1} << 20;

}  // namespace

int64_t OpenFilesLimit() {
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  if (rl.rlim_cur == RLIM_INFINITY) return std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(rl.rlim_cur);
}

int64_t RaiseOpenFilesLimit() {
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    rlim_t want = rl.rlim_max == RLIM_INFINITY ? kMostWanted : std::min(rl.rlim_max, kMostWanted);
    if (want > rl.rlim_cur) {
      rl.rlim_cur = want;
      ::setrlimit(RLIMIT_NOFILE, &rl);  // on failure the old limit stays, which is still valid
    }
  }
  return OpenFilesLimit();
}

}  // namespace embers
