// QueryTimer: `embers-loadgen -mode=query`, the client half of the query benchmark (issue 6,
// scripts/query_bench.sh). Over one keep-alive HTTP/1.1 connection, like a Grafana data source:
//
//  1. waits until the data is queryable: the flame graph over the longest window returns the
//     total the manifest says (the dataset's pushes are acknowledged once their segment is
//     stored, but the bench should not assume it) — that first answer is reported as the cold one;
//  2. times -runs flame graphs (SelectMergeStacktraces, Connect application/proto, the server's
//     default max_nodes unless -max-nodes) over each trailing window of -windows, one after the
//     other, and reports p50/p90/max;
//  3. times -runs SelectSeries over the longest window (-series-step).
//
// Every answer is checked, not only timed: with -manifest (written by -mode=dataset) the flame
// graph total and the sum of the series points must equal the sum of the dataset's values inside
// the window, so a fast wrong answer cannot pass as a result. The exit status says whether they
// did.
#ifndef EMBERS_CMD_LOADGEN_QUERY_TIMER_H_
#define EMBERS_CMD_LOADGEN_QUERY_TIMER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace embers::loadgen {

struct QueryOptions {
  std::string url = "http://127.0.0.1:4040";
  std::string tenant;         // X-Scope-OrgID, omitted when empty
  std::string authorization;  // Authorization (an API token), omitted when empty
  std::string profile_type = "process_cpu:cpu:nanoseconds:cpu:nanoseconds";
  std::string selector = "{service_name=\"bench-go\"}";
  std::vector<std::string> windows = {"6h", "1h"};  // trailing windows ending at the end time
  int runs = 20;
  int64_t max_nodes = 0;                           // 0: the server's default
  absl::Duration series_step = absl::Seconds(15);  // SelectSeries resolution
  std::string manifest;                            // -mode=dataset's manifest (expected totals)
  int64_t end_ms = 0;                              // end of the windows; 0: the manifest's, or now
  absl::Duration wait = absl::Minutes(2);          // how long step 1 may take
  absl::Duration timeout = absl::Minutes(2);       // per query
  // The server's process id when it runs on this machine: its CPU time per query is then reported
  // too (from /proc), which, unlike latency, hardly depends on what else the machine runs.
  int64_t server_pid = 0;
};

// Runs the three steps, printing one line per query kind and a final "RESULT key=value..." line.
// Fails on a transport or HTTP error, a wrong total, or when the data never became queryable.
absl::Status RunQueries(const QueryOptions& options);

}  // namespace embers::loadgen

#endif  // EMBERS_CMD_LOADGEN_QUERY_TIMER_H_
