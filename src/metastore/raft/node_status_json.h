// NodeStatusJson: the JSON of GET /metastore/status — one metastore node's Raft state, its peers,
// the index size, snapshots and the compaction planner — built from the NodeInfo and
// GetCompactionStatus answers. The metastore node renders its own status through it, and a
// process without a metastore (a cluster's query-frontend, whose web UI has a Status view) renders
// the leader's from the same two RPCs, so the page looks the same wherever it is served.
#ifndef EMBERS_METASTORE_RAFT_NODE_STATUS_JSON_H_
#define EMBERS_METASTORE_RAFT_NODE_STATUS_JSON_H_

#include <string>

#include "metastore/v1/compaction.pb.h"
#include "metastore/v1/raft_node.pb.h"

namespace embers::metastore {

namespace v1 = ::metastore::v1;

std::string NodeStatusJson(const v1::NodeInfoResponse& node,
                           const v1::CompactionStatus& compaction);

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_RAFT_NODE_STATUS_JSON_H_
