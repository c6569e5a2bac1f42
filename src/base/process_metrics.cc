#include "base/process_metrics.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/strings.h"

namespace embers::metrics {
namespace {

// Reads a whole (small) file. /proc files report size 0, so read until EOF.
std::optional<std::string> ReadFile(const char* path) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// The fields of /proc/self/stat we use (proc(5) numbers them from 1).
struct Stat {
  int64_t utime_ticks = 0;      // (14)
  int64_t stime_ticks = 0;      // (15)
  int64_t num_threads = 0;      // (20)
  int64_t starttime_ticks = 0;  // (22) after boot
  int64_t vsize_bytes = 0;      // (23)
  int64_t rss_pages = 0;        // (24)
};

std::optional<Stat> ReadStat() {
  std::optional<std::string> text = ReadFile("/proc/self/stat");
  if (!text) return std::nullopt;
  // Field 2 is the command name in parentheses and may itself contain spaces and ')', so split
  // only what follows the last ')'. fields[0] is then field (3).
  size_t paren = text->rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::vector<std::string_view> fields =
      Split(std::string_view(*text).substr(paren + 1), ' ', /*skip_empty=*/true);
  auto field = [&](int n, int64_t* out) {
    size_t i = static_cast<size_t>(n - 3);
    return i < fields.size() && ParseInt64(fields[i], out) && *out >= 0;
  };
  Stat s;
  if (!field(14, &s.utime_ticks) || !field(15, &s.stime_ticks) || !field(20, &s.num_threads) ||
      !field(22, &s.starttime_ticks) || !field(23, &s.vsize_bytes) || !field(24, &s.rss_pages)) {
    return std::nullopt;
  }
  return s;
}

// Boot time in seconds since the epoch, from the "btime" line of /proc/stat.
std::optional<int64_t> ReadBootTime() {
  std::optional<std::string> text = ReadFile("/proc/stat");
  if (!text) return std::nullopt;
  for (std::string_view line : Split(*text, '\n')) {
    if (line.starts_with("btime ")) {
      int64_t v;
      if (ParseInt64(line.substr(6), &v)) return v;
    }
  }
  return std::nullopt;
}

// Entries of /proc/self/fd, not counting the descriptor used to list them.
std::optional<int> CountOpenFds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return std::nullopt;
  std::string self = std::to_string(::dirfd(dir));
  int n = 0;
  while (struct dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.' || self == e->d_name) continue;
    ++n;
  }
  ::closedir(dir);
  return n;
}

std::string CompilerVersion() {
#if defined(__clang__)
  return StrCat("clang-", __clang_major__, ".", __clang_minor__, ".", __clang_patchlevel__);
#elif defined(__GNUC__)
  return StrCat("gcc-", __GNUC__, ".", __GNUC_MINOR__, ".", __GNUC_PATCHLEVEL__);
#else
  return "unknown";
#endif
}

}  // namespace

void RegisterProcessMetrics(Registry& registry) {
  const double ticks_per_second = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page_size = static_cast<double>(::sysconf(_SC_PAGESIZE));

  // The start time never changes; compute it once.
  std::optional<double> start_time;
  std::optional<Stat> stat = ReadStat();
  std::optional<int64_t> boot_time = ReadBootTime();
  if (stat && boot_time && ticks_per_second > 0) {
    start_time = static_cast<double>(*boot_time) +
                 static_cast<double>(stat->starttime_ticks) / ticks_per_second;
  }

  registry.AddCollector([=](Writer& w) {
    if (std::optional<Stat> s = ReadStat()) {
      if (ticks_per_second > 0) {
        w.Counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                  static_cast<double>(s->utime_ticks + s->stime_ticks) / ticks_per_second);
      }
      w.Gauge("process_resident_memory_bytes", "Resident memory size in bytes.",
              static_cast<double>(s->rss_pages) * page_size);
      w.Gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.",
              static_cast<double>(s->vsize_bytes));
      w.Gauge("process_threads", "Number of OS threads in the process.",
              static_cast<double>(s->num_threads));
    }
    if (std::optional<int> fds = CountOpenFds()) {
      w.Gauge("process_open_fds", "Number of open file descriptors.", *fds);
    }
    // getrlimit gives the same soft limit as the "Max open files" line of /proc/self/limits
    // without parsing it.
    struct rlimit rl;
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
      w.Gauge("process_max_fds", "Maximum number of open file descriptors.",
              static_cast<double>(rl.rlim_cur));
    }
    if (start_time) {
      w.Gauge("process_start_time_seconds",
              "Start time of the process since unix epoch in seconds.", *start_time);
    }
  });
}

void RegisterBuildInfo(Registry& registry, std::string_view version, std::string_view revision) {
  std::string compiler = CompilerVersion();
  registry
      .Gauge("embers_build_info",
             "A metric with a constant '1' value labeled by version, revision and compiler from "
             "which embers was built.",
             {"version", "revision", "compiler"})
      .WithLabels({version, revision, compiler})
      .Set(1);
}

}  // namespace embers::metrics
