// How this process takes part in cluster membership (metastore/membership): the address and id
// it registers under, and the conversions from the cluster view to the client lists that
// distributors (segment-writers) and query-frontends (query-backends) rebuild from it.
//
// Used by the modules in app.cc. A process is a cluster member when it reaches the metastore
// over -metastore.address and runs no metastore itself.
#ifndef EMBERS_SERVER_CLUSTER_MEMBERSHIP_H_
#define EMBERS_SERVER_CLUSTER_MEMBERSHIP_H_

#include <memory>
#include <string>
#include <vector>

#include "metastore/client/member_registration.h"
#include "metastore/membership/membership_service.h"
#include "segmentwriter/remote_segment_writers.h"
#include "server/config.h"

namespace embers::server {

// -server.internal-grpc-advertise-address, else the internal listen address and port, with the
// host name in place of an address that listens on all interfaces.
std::string MemberAdvertiseAddress(const Config& config, int internal_port);

// A registration of this process as a member of `kind` (not started).
std::unique_ptr<metastore::MemberRegistration> NewMemberRegistration(
    const Config& config, int internal_port, metastore::MembershipService* service,
    metastore::v1::MemberKind kind, uint32_t tokens);

// The segment-writers of `view` by slot (ACTIVE ones accept pushes; LEAVING and UNHEALTHY ones
// keep their slots).
std::vector<segmentwriter::SegmentWriterEndpoint> SegmentWritersOf(
    const metastore::v1::ClusterView& view);
// The addresses of the ACTIVE query-backends of `view`.
std::vector<std::string> QueryBackendsOf(const metastore::v1::ClusterView& view);

// The view as JSON (GET /cluster/status).
std::string ClusterViewJson(const metastore::v1::ClusterView& view);

}  // namespace embers::server

#endif  // EMBERS_SERVER_CLUSTER_MEMBERSHIP_H_
