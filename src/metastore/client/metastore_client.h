// MetastoreClient: the metastore's services over gRPC, for processes that do not run a
// metastore node themselves (-metastore.address). Implements IndexService, so the
// segment-writer and query-frontend use it exactly like the in-process node of -target=all.
//
// Leader following (reference §6.1, Pyroscope's metastore client): every call goes to the node
// believed to lead. A follower answers Unavailable naming the leader's gRPC address
// (leader_redirect.h); the client retries there at once and remembers it. Other Unavailable
// answers (no leader known, connection refused, leadership lost with the outcome unknown) and
// attempts that time out are retried on the next configured address after a backoff (10 ms
// doubling to 200 ms, jittered), until the call's deadline (the caller's, else
// `call_timeout`). Other errors (InvalidArgument, ...) are returned as they are.
//
// Retrying is safe: AddBlock is idempotent by block id (the state machine de-duplicates by
// request id, metastore_fsm.h), reads have no effect. Reads are linearizable because only the
// leader answers them, after a Raft barrier (replicated_index_service.h).
//
// Threading: all methods from any thread; `done` runs on a gRPC callback thread.
#ifndef EMBERS_METASTORE_CLIENT_METASTORE_CLIENT_H_
#define EMBERS_METASTORE_CLIENT_METASTORE_CLIENT_H_

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <grpcpp/security/credentials.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "metastore/compaction_service.h"
#include "metastore/index_service.h"
#include "metastore/membership/membership_service.h"
#include "metastore/v1/raft_node.pb.h"
#include "metastore/v1/tenant.pb.h"

namespace embers::metastore {

struct MetastoreClientOptions {
  // gRPC addresses (host:port, or dns+host:port for every A/AAAA record of host) of some or all
  // metastore nodes.
  std::vector<std::string> addresses;
  // Deadline of a call whose caller set none.
  absl::Duration call_timeout = absl::Seconds(20);
  // Longest single attempt (a node that hangs is given up for the next one after this).
  absl::Duration attempt_timeout = absl::Seconds(2);
  absl::Duration min_backoff = absl::Milliseconds(10);
  absl::Duration max_backoff = absl::Milliseconds(200);
  // -server.cluster-secret: sent on every call (base/cluster_secret.h); empty sends none.
  std::string cluster_secret;
  // -server.internal-grpc-tls-*: mutual TLS to the nodes (null: cleartext).
  std::shared_ptr<grpc::ChannelCredentials> channel_credentials;
};

class MetastoreClient final : public IndexService,
                              public CompactionService,
                              public MembershipService {
 public:
  // InvalidArgument when no address is given or one is not host:port.
  static absl::StatusOr<std::unique_ptr<MetastoreClient>> Create(MetastoreClientOptions options);
  // "a:1,b:2" → {"a:1", "b:2"} (the -metastore.address form; blanks skipped).
  static std::vector<std::string> ParseAddresses(std::string_view list);
  ~MetastoreClient() override;

  void AddBlock(const CallContext& ctx, const v1::AddBlockRequest& request,
                v1::AddBlockResponse* response, UnaryDone done) override;
  void QueryMetadata(const CallContext& ctx, const v1::QueryMetadataRequest& request,
                     v1::QueryMetadataResponse* response, UnaryDone done) override;
  void QueryMetadataLabels(const CallContext& ctx, const v1::QueryMetadataLabelsRequest& request,
                           v1::QueryMetadataLabelsResponse* response, UnaryDone done) override;

  void GetBlockMetadata(const CallContext& ctx, const v1::GetBlockMetadataRequest& request,
                        v1::GetBlockMetadataResponse* response, UnaryDone done);
  void GetTenants(const CallContext& ctx, const v1::GetTenantsRequest& request,
                  v1::GetTenantsResponse* response, UnaryDone done);
  void GetTenant(const CallContext& ctx, const v1::GetTenantRequest& request,
                 v1::GetTenantResponse* response, UnaryDone done) override;
  // Settings: to the leader. Setting again is harmless (the same value and time are stored).
  void GetTenantSettings(const CallContext& ctx, const v1::GetTenantSettingsRequest& request,
                         v1::GetTenantSettingsResponse* response, UnaryDone done) override;
  void SetTenantSetting(const CallContext& ctx, const v1::SetTenantSettingRequest& request,
                        v1::SetTenantSettingResponse* response, UnaryDone done) override;
  // Membership and leadership: to the leader, like writes.
  void AddNode(const CallContext& ctx, const v1::AddNodeRequest& request,
               v1::AddNodeResponse* response, UnaryDone done);
  void RemoveNode(const CallContext& ctx, const v1::RemoveNodeRequest& request,
                  v1::RemoveNodeResponse* response, UnaryDone done);
  void TransferLeadership(const CallContext& ctx, const v1::TransferLeadershipRequest& request,
                          v1::TransferLeadershipResponse* response, UnaryDone done);
  // Compaction-workers: to the leader, like writes. A poll that timed out is retried; if the
  // first attempt was applied, the leader hands this worker's jobs out again on the next one.
  void PollCompactionJobs(const CallContext& ctx, const v1::PollCompactionJobsRequest& request,
                          v1::PollCompactionJobsResponse* response, UnaryDone done) override;
  void GetCompactionStatus(const CallContext& ctx, const v1::GetCompactionStatusRequest& request,
                           v1::GetCompactionStatusResponse* response, UnaryDone done) override;
  // Membership: heartbeats and leaves to the leader, like writes; a watch to whichever node
  // answers (any caught-up node does), with an attempt deadline past the wait it asks for.
  void Heartbeat(const CallContext& ctx, const v1::HeartbeatRequest& request,
                 v1::HeartbeatResponse* response, UnaryDone done) override;
  void Leave(const CallContext& ctx, const v1::LeaveRequest& request, v1::LeaveResponse* response,
             UnaryDone done) override;
  void WatchCluster(const CallContext& ctx, const v1::WatchClusterRequest& request,
                    v1::ClusterView* response, UnaryDone done) override;
  // One node's own view, from `address` (no leader following, no retries).
  void NodeInfo(const std::string& address, absl::Duration timeout, v1::NodeInfoResponse* response,
                UnaryDone done);

  // The node currently believed to lead ("" before the first redirect or success).
  std::string leader_hint() const;

  struct Stubs;
  struct Call;

 private:
  MetastoreClient(MetastoreClientOptions options, bool dns, std::vector<std::string> addresses);

  std::shared_ptr<Stubs> StubsFor(const std::string& address);
  void Start(std::shared_ptr<Call> call);
  void StartAttempt(const std::shared_ptr<Call>& call);
  void OnAttemptDone(const std::shared_ptr<Call>& call, absl::Status status);
  // Completes `call` and lets the destructor know it is over.
  void Finish(const std::shared_ptr<Call>& call, absl::Status status);
  // Finish with the last retryable error, saying how many attempts were made.
  void GiveUp(const std::shared_ptr<Call>& call, const absl::Status& last);
  void RetryLoop();

  const MetastoreClientOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::shared_ptr<Stubs>> stubs_;  // guarded by mu_
  std::string leader_hint_;                              // guarded by mu_
  // options_.addresses with dns+ entries resolved (address_resolver.h); guarded by mu_. With dns+
  // entries the retry thread resolves them again every 10 s (every second while none resolves).
  const bool dns_;
  std::vector<std::string> addresses_;
  absl::Time next_resolve_;
  size_t next_address_ = 0;    // guarded by mu_
  size_t calls_ = 0;           // unfinished calls; guarded by mu_
  bool closing_ = false;       // guarded by mu_
  std::set<Call*> in_flight_;  // attempts under way (to cancel on destruction); guarded by mu_
  // Calls waiting out a backoff, by when they retry; guarded by mu_. Served by retry_thread_.
  std::multimap<absl::Time, std::shared_ptr<Call>> retries_;
  std::thread retry_thread_;
};

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_CLIENT_METASTORE_CLIENT_H_
