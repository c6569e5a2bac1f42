// MembershipService: cluster membership as components see it (membership.proto).
//
// Segment-writers, query-backends and compaction-workers call Heartbeat (MemberRegistration,
// client/member_registration.h) and Leave; distributors and query-frontends long-poll
// WatchCluster (ClusterWatcher, client/cluster_watcher.h). Implemented by the metastore node
// (raft/replicated_membership_service.h) and by its gRPC client (client/metastore_client.h).
#ifndef EMBERS_METASTORE_MEMBERSHIP_MEMBERSHIP_SERVICE_H_
#define EMBERS_METASTORE_MEMBERSHIP_MEMBERSHIP_SERVICE_H_

#include "base/call_context.h"
#include "metastore/v1/membership.pb.h"

namespace embers::metastore {

namespace v1 = ::metastore::v1;

class MembershipService {
 public:
  virtual ~MembershipService() = default;
  virtual void Heartbeat(const CallContext& ctx, const v1::HeartbeatRequest& request,
                         v1::HeartbeatResponse* response, UnaryDone done) = 0;
  virtual void Leave(const CallContext& ctx, const v1::LeaveRequest& request,
                     v1::LeaveResponse* response, UnaryDone done) = 0;
  virtual void WatchCluster(const CallContext& ctx, const v1::WatchClusterRequest& request,
                            v1::ClusterView* response, UnaryDone done) = 0;
};

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_MEMBERSHIP_MEMBERSHIP_SERVICE_H_
