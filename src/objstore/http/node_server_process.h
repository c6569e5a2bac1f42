// NodeServerProcess: a storage emulator from npm (s3rver, azurite) run as a child process for the
// tests that need a real server: started on a free loopback port, waited for until it answers, and
// stopped (SIGTERM, then SIGKILL) when the fixture goes. Test-only; S3rverProcess and
// AzuriteProcess build on it.
//
// The child dies with the test process even when that one crashes (PR_SET_PDEATHSIG). A port
// picked free may be taken by the time the server binds it: Start then tries another one.
#ifndef EMBERS_OBJSTORE_HTTP_NODE_SERVER_PROCESS_H_
#define EMBERS_OBJSTORE_HTTP_NODE_SERVER_PROCESS_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "objstore/http/http_client.h"

namespace embers::objstore::http {

struct NodeServerSpec {
  std::string name;          // "s3rver", for messages
  std::string script;        // the package's entry point under tests/node/node_modules
  std::string log_path;      // the server's stdout and stderr
  std::string install_hint;  // what to run when node or the package is missing
  // The arguments after `node` for a server on `port`.
  std::function<std::vector<std::string>(int port)> args;
  // True once the server on `port` answers (its probe request through `client`).
  std::function<bool(HttpClient& client, int port)> answers;
};

class NodeServerProcess {
 public:
  // FailedPrecondition naming spec.install_hint when node or spec.script is missing; Unavailable
  // with the server's output when it does not answer within 30 s (three ports tried).
  static absl::StatusOr<std::unique_ptr<NodeServerProcess>> Start(const NodeServerSpec& spec);
  ~NodeServerProcess();
  NodeServerProcess(const NodeServerProcess&) = delete;
  NodeServerProcess& operator=(const NodeServerProcess&) = delete;

  int port() const { return port_; }

  // A client for a fixture's own requests (probes, creating buckets): one connection, short
  // timeouts, no retries, no certificate checks.
  static absl::StatusOr<std::unique_ptr<HttpClient>> FixtureClient();

 private:
  NodeServerProcess(pid_t pid, int port) : pid_(pid), port_(port) {}

  pid_t pid_;
  int port_;
};

}  // namespace embers::objstore::http

#endif  // EMBERS_OBJSTORE_HTTP_NODE_SERVER_PROCESS_H_
