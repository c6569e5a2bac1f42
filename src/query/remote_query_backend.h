// RemoteQueryBackend: runs the reads of a query on query-backend processes over gRPC.
//
// The query-frontend of a process without a query-backend of its own uses it instead of an
// in-process QueryBackend: with the backends the cluster's member table lists (SetAddresses, fed
// by a ClusterWatcher), or with -query-backend.address. A query uses the backend set it started
// with; a later set reuses the connections of addresses it keeps. It sends the blocks of each shard
// as one querybackend.v1 Invoke to the next backend in round-robin order (one shard is the scope in
// which a retried push may be stored twice, so each backend de-duplicates it completely,
// profile_dedup.h); each backend plans and reads its share on its own CPU pool and answers a report
// (report_codec.h), and the answers are merged in shard order. A call that fails with Unavailable
// or DeadlineExceeded before any reply is retried on the next backend (each backend at most once);
// other errors fail the query.
#ifndef EMBERS_QUERY_REMOTE_QUERY_BACKEND_H_
#define EMBERS_QUERY_REMOTE_QUERY_BACKEND_H_

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "query/query_backend.h"
#include "querybackend/v1/query_backend.grpc.pb.h"

namespace embers::query {

struct RemoteQueryBackendOptions {
  // Per-Invoke deadline (-query-backend.client-timeout, 30 s upstream).
  absl::Duration timeout = absl::Seconds(30);
  int64_t max_message_bytes = 100ll << 20;
  // -server.cluster-secret: sent on every Invoke (base/cluster_secret.h); empty sends none.
  std::string cluster_secret;
  // -server.internal-grpc-tls-*: mutual TLS to the query-backends (null: cleartext).
  std::shared_ptr<grpc::ChannelCredentials> channel_credentials;
};

class RemoteQueryBackend final : public QueryExecutor,
                                 public std::enable_shared_from_this<RemoteQueryBackend> {
 public:
  // `addresses`: host:port of each query-backend's gRPC server (at least one).
  static absl::StatusOr<std::shared_ptr<RemoteQueryBackend>> Create(
      const std::vector<std::string>& addresses, RemoteQueryBackendOptions options = {});
  // No backends until SetAddresses (queries fail with Unavailable meanwhile).
  static std::shared_ptr<RemoteQueryBackend> CreateDiscovered(
      RemoteQueryBackendOptions options = {});

  // Replaces the backends (InvalidArgument for an empty address; nothing changes then).
  absl::Status SetAddresses(const std::vector<std::string>& addresses);
  size_t backend_count() const;

  void Invoke(std::shared_ptr<const ReadQuery> query, std::vector<metastore::v1::BlockMeta> blocks,
              ReportDone done) override;

 private:
  struct Call;
  struct Share;
  struct Backend {
    std::string address;
    std::unique_ptr<querybackend::v1::QueryBackendService::Stub> stub;
  };
  using BackendSet = std::vector<std::shared_ptr<Backend>>;

  explicit RemoteQueryBackend(RemoteQueryBackendOptions options) : options_(options) {}
  void Send(std::shared_ptr<Call> call, size_t share, size_t backend, size_t attempt);

  const RemoteQueryBackendOptions options_;
  mutable std::mutex mu_;
  std::shared_ptr<const BackendSet> backends_ = std::make_shared<BackendSet>();  // guarded by mu_
  std::map<std::string, std::shared_ptr<Backend>> by_address_;                   // guarded by mu_
  std::atomic<size_t> next_{0};
};

}  // namespace embers::query

#endif  // EMBERS_QUERY_REMOTE_QUERY_BACKEND_H_
