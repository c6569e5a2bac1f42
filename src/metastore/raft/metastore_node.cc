#include "metastore/raft/metastore_node.h"

#include <thread>
#include <utility>

#include "base/strings.h"
#include "nlohmann/json.hpp"

namespace embers::metastore {

absl::StatusOr<std::unique_ptr<MetastoreNode>> MetastoreNode::Open(MetastoreNodeOptions options) {
  raft::RaftConsensusOptions ro = std::move(options.raft);
  ro.data_dir = options.data_dir + "/raft";
  ro.node_id = options.node_id;
  ro.address = options.advertise_address.empty() ? options.bind_address : options.advertise_address;
  ro.bind_address = options.bind_address;
  ro.bootstrap_peers = std::move(options.bootstrap_peers);

  std::unique_ptr<MetastoreNode> node(new MetastoreNode());
  absl::StatusOr<std::unique_ptr<raft::RaftConsensus>> consensus =
      raft::RaftConsensus::Open(std::move(ro), &node->fsm_);
  if (!consensus.ok()) return consensus.status();
  node->consensus_ = std::move(*consensus);
  node->service_ =
      std::make_unique<raft::ReplicatedIndexService>(node->consensus_.get(), &node->index_);
  return node;
}

MetastoreNode::~MetastoreNode() { Stop(); }

void MetastoreNode::Stop() {
  if (consensus_) consensus_->Stop();
}

bool MetastoreNode::Ready() const {
  raft::ConsensusStatus s = consensus_->Status();
  if (s.failed || s.leader_id == 0) return false;
  if (s.role == raft::Role::kLeader) return s.leader_barrier_done;
  return s.role == raft::Role::kFollower && s.applied_index >= s.commit_index && s.commit_index > 0;
}

absl::Status MetastoreNode::WaitReady(absl::Duration timeout) const {
  absl::Time deadline = absl::Now() + timeout;
  while (!Ready()) {
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          StrCat("metastore node not ready after ", absl::ToInt64Milliseconds(timeout), " ms"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return absl::OkStatus();
}

MetastoreNodeStatus MetastoreNode::Status() const {
  MetastoreNodeStatus s;
  s.raft = consensus_->Status();
  s.ready = Ready();
  s.fsm_applied_index = fsm_.applied_index();
  s.blocks = index_.BlockCount();
  s.partitions = index_.PartitionCount();
  return s;
}

std::string MetastoreNode::StatusJson() const {
  MetastoreNodeStatus s = Status();
  nlohmann::json nodes = nlohmann::json::array();
  for (const raft::PeerInfo& p : s.raft.nodes) {
    nodes.push_back({{"id", p.id},
                     {"address", p.address},
                     {"role", p.role},
                     {"leader", p.id == s.raft.leader_id}});
  }
  nlohmann::json j = {
      {"node_id", s.raft.node_id},
      {"address", s.raft.address},
      {"state", std::string(raft::RoleName(s.raft.role))},
      {"ready", s.ready},
      {"leader_id", s.raft.leader_id},
      {"leader_address", s.raft.leader_address},
      {"term", s.raft.term},
      {"commit_index", s.raft.commit_index},
      {"applied_index", s.raft.applied_index},
      {"last_log_index", s.raft.last_log_index},
      {"last_snapshot", {{"index", s.raft.snapshot_index}, {"term", s.raft.snapshot_term}}},
      {"fsm_applied_index", s.fsm_applied_index},
      {"blocks", s.blocks},
      {"partitions", s.partitions},
      {"failed", s.raft.failed},
      {"nodes", nodes},
  };
  if (s.raft.failed) j["failure"] = s.raft.failure;
  return j.dump();
}

}  // namespace embers::metastore
