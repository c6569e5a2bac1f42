// ReplicatedMembershipService: the MembershipService of a metastore node.
//
// Heartbeat and Leave run on the leader (a follower answers Unavailable naming the leader, like
// every metastore write): a heartbeat renews the member's lease in the leader's memory and is
// proposed through Raft only when it changes the member's record (member_leases.h); Leave
// proposes the removal. WatchCluster is answered by any node that has caught up, from its own
// replica of the member table, so watches keep working through an election.
//
// Tick() is the leader's duty, called by MetastoreNode's loop every 50 ms on every node: on the
// leader it starts the leases of a new term and proposes expiries; on every node it ends the
// watches whose wait is over.
//
// Threading: all methods from any thread; `done` runs on the consensus callback thread or inline.
#ifndef EMBERS_METASTORE_RAFT_REPLICATED_MEMBERSHIP_SERVICE_H_
#define EMBERS_METASTORE_RAFT_REPLICATED_MEMBERSHIP_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <functional>

#include "metastore/membership/cluster_watch.h"
#include "metastore/membership/member_leases.h"
#include "metastore/membership/member_table.h"
#include "metastore/membership/membership_service.h"
#include "metastore/raft/consensus.h"
#include "metastore/raft/replicated_index_service.h"

namespace embers::metastore::raft {

class ReplicatedMembershipService final : public MembershipService {
 public:
  // Longest WatchCluster wait a caller may ask for.
  static constexpr absl::Duration kMaxWatch = absl::Seconds(30);

  // No pointer is owned. `ready` says whether this node has caught up (MetastoreNode::Ready),
  // `ready_leader` whether it leads and has applied everything of earlier terms.
  ReplicatedMembershipService(Consensus* consensus, ReplicatedIndexService* proposer,
                              const MemberTable* table, MemberLeaseOptions leases,
                              std::function<bool()> ready, std::function<bool()> ready_leader);

  void Heartbeat(const CallContext& ctx, const v1::HeartbeatRequest& request,
                 v1::HeartbeatResponse* response, UnaryDone done) override;
  void Leave(const CallContext& ctx, const v1::LeaveRequest& request, v1::LeaveResponse* response,
             UnaryDone done) override;
  void WatchCluster(const CallContext& ctx, const v1::WatchClusterRequest& request,
                    v1::ClusterView* response, UnaryDone done) override;

  // The member table changed (MemberTable's change callback).
  void OnTableChanged(uint64_t version) { watch_.Notify(version); }
  void Tick();
  // Ends every watch (the node is stopping).
  void Stop() { watch_.CancelAll(); }

  // The view with each member's heartbeat age as this leader sees it (status pages).
  v1::ClusterView ViewWithAges() const;

 private:
  // Unavailable naming the leader when this node cannot take writes now.
  absl::Status CheckLeader() const;
  void Propose(v1::UpdateMembersCommand command, UnaryDone done);

  Consensus* consensus_;
  ReplicatedIndexService* proposer_;
  const MemberTable* table_;
  MemberLeases leases_;
  ClusterWatch watch_;
  std::function<bool()> ready_;
  std::function<bool()> ready_leader_;
  uint64_t leading_term_ = 0;  // Tick's thread only
  std::atomic<bool> expiry_in_flight_{false};
};

}  // namespace embers::metastore::raft

#endif  // EMBERS_METASTORE_RAFT_REPLICATED_MEMBERSHIP_SERVICE_H_
