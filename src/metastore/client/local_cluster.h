// LocalCluster: metastore nodes as real `embers -target=metastore` processes on loopback, for the
// cluster integration test (metastore_cluster_test.cpp) and the AddBlock benchmark
// (bench/metastore_cluster_bench.cc). Each node gets free ports, its own data directory under
// one temporary directory, and its stderr in <dir>/node-<i>.log. Nodes can be killed with
// SIGKILL and restarted on the same ports and data. Not part of the product.
#ifndef EMBERS_METASTORE_CLIENT_LOCAL_CLUSTER_H_
#define EMBERS_METASTORE_CLIENT_LOCAL_CLUSTER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/test_ports.h"
#include "metastore/client/metastore_client.h"
#include "metastore/v1/raft_node.pb.h"

namespace embers::metastore {

struct LocalClusterOptions {
  std::string embers_bin;
  int nodes = 3;
  // Appended to every node's command line (e.g. small snapshot thresholds).
  std::vector<std::string> extra_args;
};

class LocalCluster {
 public:
  // Allocates ports and directories and starts every node (not waiting for a leader).
  static absl::StatusOr<std::unique_ptr<LocalCluster>> Start(LocalClusterOptions options);
  ~LocalCluster();  // SIGKILLs what still runs and removes the directory

  int size() const { return static_cast<int>(nodes_.size()); }
  const std::string& dir() const { return dir_; }
  // Node i's internal gRPC listener, where the metastore's services are.
  std::string grpc_address(int i) const;
  std::vector<std::string> grpc_addresses() const;
  bool running(int i) const { return nodes_[i].pid > 0; }

  absl::Status StartNode(int i);
  void Kill(int i);  // SIGKILL, reaped
  // Starts one more process with `args` (e.g. a query-frontend using -metastore.address); its
  // stderr goes to <dir>/<name>.log. Killed by the destructor.
  absl::StatusOr<pid_t> Spawn(const std::string& name, const std::vector<std::string>& args);

  // Node i's own view (no leader following).
  absl::StatusOr<v1::NodeInfoResponse> NodeInfo(int i, absl::Duration timeout = absl::Seconds(2));
  // The running node that reports itself ready leader, polled every 10 ms; -1 after `timeout`.
  int WaitLeader(absl::Duration timeout);
  // The last `bytes` of node i's log.
  std::string LogTail(int i, size_t bytes = 4096) const;

  MetastoreClient* admin() { return admin_.get(); }

 private:
  struct Node {
    int http_port = 0, grpc_port = 0 /* internal */, raft_port = 0;
    pid_t pid = 0;
  };
  LocalCluster() = default;
  std::vector<std::string> NodeArgs(int i) const;

  LocalClusterOptions options_;
  std::string dir_;
  std::vector<Node> nodes_;
  std::vector<pid_t> extra_pids_;
  std::unique_ptr<MetastoreClient> admin_;  // for NodeInfo
};

using ::embers::testing::FreeLoopbackPort;

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_CLIENT_LOCAL_CLUSTER_H_
