// Process metrics: the standard process_* series every Prometheus client exports (CPU time, memory,
// file descriptors, threads, start time), read from /proc at scrape time, and embers_build_info.
//
// Called once from main() on Registry::Global(); tests call it on their own registry. The names
// and meanings match the Go client's process collector, so existing dashboards work unchanged.

#ifndef EMBERS_BASE_PROCESS_METRICS_H_
#define EMBERS_BASE_PROCESS_METRICS_H_

#include <string_view>

#include "base/metrics.h"

namespace embers::metrics {

// Registers a collector reporting, on every scrape:
//   process_cpu_seconds_total      user + system CPU time (counter)
//   process_resident_memory_bytes  resident set size
//   process_virtual_memory_bytes   virtual memory size
//   process_open_fds               open file descriptors
//   process_max_fds                the soft RLIMIT_NOFILE
//   process_start_time_seconds     start time, seconds since the Unix epoch
//   process_threads                OS threads in the process
// A value that cannot be read (no /proc) is left out rather than reported as 0.
void RegisterProcessMetrics(Registry& registry);

// Sets the gauge embers_build_info{version="…",revision="…",compiler="…"} to 1, the usual way to
// expose build metadata as labels so it can be joined onto other series.
void RegisterBuildInfo(Registry& registry, std::string_view version, std::string_view revision);

}  // namespace embers::metrics

#endif  // EMBERS_BASE_PROCESS_METRICS_H_
