#include "metastore/raft/node_status_json.h"

#include "metastore/compaction/compaction_status.h"
#include "nlohmann/json.hpp"

namespace embers::metastore {

std::string NodeStatusJson(const v1::NodeInfoResponse& n, const v1::CompactionStatus& compaction) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const v1::RaftPeerInfo& p : n.peers()) {
    nodes.push_back({{"id", p.id()},
                     {"address", p.raft_address()},
                     {"grpc_address", p.grpc_address()},
                     {"role", p.role()},
                     {"leader", p.leader()}});
  }
  const v1::SnapshotTiming& last = n.last_snapshot();
  nlohmann::json j = {
      {"node_id", n.node_id()},
      {"address", n.raft_address()},
      {"state", n.state()},
      {"ready", n.ready()},
      {"leader_id", n.leader_id()},
      {"leader_address", n.leader_raft_address()},
      {"leader_grpc_address", n.leader_grpc_address()},
      {"grpc_address", n.grpc_address()},
      {"term", n.term()},
      {"commit_index", n.commit_index()},
      {"applied_index", n.applied_index()},
      {"last_log_index", n.last_log_index()},
      {"last_snapshot", {{"index", n.snapshot_index()}, {"term", n.snapshot_term()}}},
      {"snapshots",
       {{"in_progress", n.snapshot_in_progress()},
        {"taken", n.snapshots_taken()},
        {"last_index", last.index()},
        {"last_bytes", last.bytes()},
        {"last_capture_ms", last.capture_ms()},
        {"last_serialize_ms", last.serialize_ms()},
        {"last_total_ms", last.total_ms()}}},
      {"fsm_applied_index", n.fsm_applied_index()},
      {"blocks", n.blocks()},
      {"partitions", n.partitions()},
      {"dlq_parked", n.dlq_parked()},
      {"failed", n.failed()},
      {"nodes", nodes},
      {"compaction", CompactionStatusJson(compaction)},
  };
  if (n.failed()) j["failure"] = n.failure();
  return j.dump();
}

}  // namespace embers::metastore
