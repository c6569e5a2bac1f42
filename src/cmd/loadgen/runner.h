// Runner: the HTTP side of embers-loadgen's pushes — N keep-alive connections sending the requests
// of a PushSource (the random Workload of -mode=push, or the fixed Dataset of -mode=dataset).
//
// Each connection is one C++20 coroutine (Boost.Beast async client) on its own strand of one
// io_context, run by -threads threads: thousands of connections cost no threads, which matters
// because acknowledgements wait for the segment flush (~250–500 ms), so ~1,500 requests must be in
// flight to reach 3,000 pushes/s. A connection sends, waits for the ack, and sends again
// (closed loop); with -rate the pushes are paced to fixed slots instead (open loop as long as
// enough connections are free: a late slot is sent as soon as one is). Live progress is printed
// every second from a separate coroutine. By default every connection is opened before the
// measured run (-prewarm), so the numbers describe established keep-alive connections.
//
// With -http2 the same pushes (paths, headers, bodies, pacing, accounting) go over cleartext
// HTTP/2 with prior knowledge instead, as gRPC and Connect's HTTP/2 clients send them: -connections
// still counts the pushes in flight, each still one coroutine, but they are multiplexed as streams,
// -http2-streams of them per TCP connection (http2_client.h), so 2,000 in flight take 20
// connections at the default 100. The coroutines of one connection share its strand. A connection
// that is lost or sent GOAWAY is replaced by a new one at the next push of its group.
#ifndef EMBERS_CMD_LOADGEN_RUNNER_H_
#define EMBERS_CMD_LOADGEN_RUNNER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cmd/loadgen/push_source.h"
#include "cmd/loadgen/stats.h"

namespace embers::loadgen {

struct RunOptions {
  std::string url = "http://127.0.0.1:4040";  // base URL: http://, or https:// (HTTP/1.1 only)
  std::string tls_ca_path;    // PEM CA that an https:// server's certificate is verified against
  std::string tenant;         // X-Scope-OrgID, omitted when empty
  std::string authorization;  // Authorization (an API token), omitted when empty
  int connections = 1000;
  int threads = 1;
  double rate = 0;  // profiles/s; 0 = flat out
  absl::Duration duration = absl::Seconds(30);
  absl::Duration timeout = absl::Seconds(30);  // per request (write + ack)
  bool quiet = false;                          // no per-second progress lines
  // Open every connection (and GET /ready on it) before the clock starts.
  bool prewarm = true;
  // Push over h2c (prior knowledge) instead of HTTP/1.1.
  bool http2 = false;
  int http2_streams = 100;  // concurrent streams per HTTP/2 connection
};

// TCP connections the run opens: -connections over HTTP/1.1, fewer over HTTP/2.
int TcpConnections(const RunOptions& options);

struct RunResult {
  Stats::Counters at_deadline;  // counters when -duration elapsed (rates are computed from these)
  Stats::Counters total;        // including the acks drained after the deadline
  double seconds = 0;           // the measured window (= duration)
  double drain_seconds = 0;     // from the deadline until the last in-flight push finished
};

// Runs the load until -duration elapses or `source` has nothing left, and returns the counters;
// `stats` holds the errors afterwards.
absl::StatusOr<RunResult> Run(const RunOptions& options, PushSource& source, Stats& stats);

}  // namespace embers::loadgen

#endif  // EMBERS_CMD_LOADGEN_RUNNER_H_
