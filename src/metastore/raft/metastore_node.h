// MetastoreNode: one replica of the metastore — the BlockIndex, its Raft state machine, the
// consensus engine and the IndexService that serves them.
//
// The server's `metastore` module (src/server) opens one per process and serves
// index_service() over gRPC/Connect (and hands it to in-process callers with -target=all).
// By default it is a single-node cluster (data in ./data/metastore, node id 1, Raft on
// 127.0.0.1:9099); with bootstrap peers, a 3- or 5-node cluster.
//
// Threading: Open/Stop from one owning thread; everything else from any thread.
#ifndef EMBERS_METASTORE_RAFT_METASTORE_NODE_H_
#define EMBERS_METASTORE_RAFT_METASTORE_NODE_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "metastore/compaction_service.h"
#include "metastore/index/block_index.h"
#include "metastore/placement/adaptive_placement.h"
#include "metastore/raft/compaction_poll_service.h"
#include "metastore/raft/consensus.h"
#include "metastore/raft/metastore_fsm.h"
#include "metastore/raft/raft_consensus.h"
#include "metastore/raft/replicated_index_service.h"
#include "metastore/raft/replicated_membership_service.h"
#include "metastore/retention.h"
#include "metastore/v1/raft_node.pb.h"

namespace embers::metastore {

struct MetastoreNodeOptions {
  // -metastore.data-dir. The Raft log and snapshots go to <data_dir>/raft.
  std::string data_dir = "./data/metastore";
  // -metastore.raft.node-id, -metastore.raft.bind-address, -metastore.raft.advertise-address
  // (empty: the bind address), -metastore.raft.bootstrap-peers (raft::ParseRaftPeers; empty: a
  // single node). Addresses are IPv4 host:port.
  uint64_t node_id = 1;
  std::string bind_address = "127.0.0.1:9099";
  std::string advertise_address;
  std::vector<raft::RaftPeer> bootstrap_peers;
  // Where clients reach this node's gRPC services (host:port). The node announces it through
  // the Raft log when it becomes leader, so followers can redirect clients there. Empty: never
  // announced (in-process use only).
  std::string grpc_advertise_address;
  // Group commit of AddBlock proposals.
  raft::ProposalBatcherOptions batching;
  // The leader's retention loop (retention.h); off unless an interval is set (the server sets
  // it from -retention-period and -metastore.index.cleanup-interval). The first run is one
  // interval after the node becomes leader.
  RetentionOptions retention{.interval = absl::ZeroDuration()};
  // Compaction planning and scheduling (compaction_poll_service.h; flags -compaction.*).
  raft::CompactionServiceOptions compaction;
  // Adaptive placement (-adaptive-placement.*): the leader turns the ingestion it sees in
  // AddBlock into per-dataset shard counts every `placement_rules_interval` (0: never) and
  // replicates them when a count changes.
  AdaptivePlacementOptions placement;
  absl::Duration placement_rules_interval = absl::Seconds(15);
  // Heartbeat leases of cluster members (-membership.lease-duration, -membership.forget-after).
  MemberLeaseOptions membership;
  // Timers, snapshot policy and the watchdog callback. data_dir, node_id, address,
  // bind_address and bootstrap_peers in here are ignored (taken from the fields above).
  raft::RaftConsensusOptions raft;
};

struct MetastoreNodeStatus {
  raft::ConsensusStatus raft;
  bool ready = false;
  uint64_t fsm_applied_index = 0;
  size_t blocks = 0;
  size_t partitions = 0;
};

class MetastoreNode {
 public:
  // Opens the data dir (bootstrapping it when new), restores the last snapshot and replays the
  // log, and joins the cluster. Returns before a leader is elected: see Ready/WaitReady.
  static absl::StatusOr<std::unique_ptr<MetastoreNode>> Open(MetastoreNodeOptions options);
  ~MetastoreNode();  // Stop()s
  MetastoreNode(const MetastoreNode&) = delete;
  MetastoreNode& operator=(const MetastoreNode&) = delete;

  // The service to serve; valid until the node is destroyed. After Stop() calls fail with
  // Unavailable.
  IndexService* index_service() { return service_.get(); }
  raft::ReplicatedIndexService* replicated_service() { return service_.get(); }
  // What compaction-workers poll (answers only on the leader).
  CompactionService* compaction_service() { return compaction_.get(); }
  // Cluster membership (heartbeats and leaves on the leader; watches on any caught-up node).
  MembershipService* membership_service() { return membership_.get(); }
  raft::ReplicatedMembershipService* replicated_membership() { return membership_.get(); }
  // The leader's ingestion statistics and rules (status pages).
  std::string PlacementStatusJson() const { return placement_->StatusJson(); }
  // The local replica's index (possibly stale on a follower; tests and status pages).
  const BlockIndex& local_index() const { return index_; }

  // A leader is known and this node has caught up: the leader has applied its post-election
  // barrier; a follower has applied everything it knows to be committed.
  bool Ready() const;
  // Waits (polling) until Ready(); DeadlineExceeded after `timeout`.
  absl::Status WaitReady(absl::Duration timeout) const;

  // This node is the leader and has applied everything of earlier terms (leader-only loops
  // act only then).
  bool IsReadyLeader() const;

  MetastoreNodeStatus Status() const;
  // The status as a JSON object (GET /metastore/status) and as the admin RPC's answer.
  std::string StatusJson() const;
  v1::NodeInfoResponse NodeInfo() const;
  // Where NodeInfo's dlq_parked comes from: the DLQ recovery loop that the server runs beside
  // the node (metastore/dlq_recovery.h). Set once, before the node serves calls.
  void SetDlqParkedSource(std::function<int64_t()> source) { dlq_parked_ = std::move(source); }

  // Membership and leadership (RaftNodeService); on a follower they fail with a not-leader
  // answer naming the leader's gRPC address. TransferLeadership reports the leader it saw.
  void AddNode(const v1::AddNodeRequest& request, UnaryDone done);
  void RemoveNode(const v1::RemoveNodeRequest& request, UnaryDone done);
  void TransferLeadership(const v1::TransferLeadershipRequest& request,
                          v1::TransferLeadershipResponse* response, UnaryDone done);

  // Stops Raft; pending calls complete with Unavailable. Idempotent.
  void Stop();

 private:
  MetastoreNode() : fsm_(&index_) {}

  // Leader duties, polled every 50 ms on their own thread: announce this node's gRPC address
  // once per leadership; run retention every retention_.interval. On every node: refresh the
  // compaction gauges once a second.
  void LeaderLoop();
  void AnnounceEndpoint();
  // Rebuilds the placement rules and proposes them when a shard count changed (leader only).
  void UpdatePlacementRules();
  // One retention pass (blocking: a read barrier, then one proposal per expired shard).
  void RunRetention();

  std::string grpc_advertise_address_;
  std::function<int64_t()> dlq_parked_;
  RetentionOptions retention_;
  BlockIndex index_;
  raft::MetastoreFsm fsm_;
  std::unique_ptr<raft::RaftConsensus> consensus_;
  std::unique_ptr<raft::ReplicatedIndexService> service_;
  std::unique_ptr<raft::CompactionPollService> compaction_;
  std::unique_ptr<raft::ReplicatedMembershipService> membership_;
  std::unique_ptr<AdaptivePlacement> placement_;
  absl::Duration placement_rules_interval_;
  std::atomic<bool> rules_in_flight_{false};
  // Read by the member table's change callback, which replay may call before membership_ exists.
  std::atomic<raft::ReplicatedMembershipService*> membership_ptr_{nullptr};

  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool loop_stop_ = false;  // guarded by loop_mu_
  std::atomic<bool> announce_in_flight_{false};
  std::thread leader_loop_;
};

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_RAFT_METASTORE_NODE_H_
