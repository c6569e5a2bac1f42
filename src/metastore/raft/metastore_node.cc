#include "metastore/raft/metastore_node.h"

#include <future>
#include <thread>
#include <utility>

#include "base/logging.h"
#include "base/strings.h"
#include "metastore/compaction/compaction_status.h"
#include "metastore/raft/node_status_json.h"

namespace embers::metastore {

absl::StatusOr<std::unique_ptr<MetastoreNode>> MetastoreNode::Open(MetastoreNodeOptions options) {
  raft::RaftConsensusOptions ro = std::move(options.raft);
  ro.data_dir = options.data_dir + "/raft";
  ro.node_id = options.node_id;
  ro.address = options.advertise_address.empty() ? options.bind_address : options.advertise_address;
  ro.bind_address = options.bind_address;
  ro.bootstrap_peers = std::move(options.bootstrap_peers);

  std::unique_ptr<MetastoreNode> node(new MetastoreNode());
  node->grpc_advertise_address_ = options.grpc_advertise_address;
  node->retention_ = std::move(options.retention);
  // Set before the log replays: watches must hear of every change applied from then on.
  node->fsm_.mutable_members().SetOnChange([n = node.get()](uint64_t version) {
    if (raft::ReplicatedMembershipService* m = n->membership_ptr_.load()) {
      m->OnTableChanged(version);
    }
  });
  absl::StatusOr<std::unique_ptr<raft::RaftConsensus>> consensus =
      raft::RaftConsensus::Open(std::move(ro), &node->fsm_);
  if (!consensus.ok()) return consensus.status();
  node->consensus_ = std::move(*consensus);
  raft::MetastoreFsm* fsm = &node->fsm_;
  node->service_ = std::make_unique<raft::ReplicatedIndexService>(
      node->consensus_.get(), &node->index_, &node->fsm_.settings(), /*clock=*/nullptr,
      [fsm](uint64_t id) { return fsm->NodeEndpoint(id); }, options.batching);
  MetastoreNode* n = node.get();
  node->compaction_ = std::make_unique<raft::CompactionPollService>(
      node->service_.get(), node->consensus_.get(), &node->index_, &node->fsm_.compaction(),
      [n] { return n->IsReadyLeader(); }, std::move(options.compaction));
  node->membership_ = std::make_unique<raft::ReplicatedMembershipService>(
      node->consensus_.get(), node->service_.get(), &node->fsm_.members(), options.membership,
      [n] { return n->Ready(); }, [n] { return n->IsReadyLeader(); });
  node->membership_ptr_.store(node->membership_.get());
  node->placement_ = std::make_unique<AdaptivePlacement>(options.placement);
  node->placement_rules_interval_ = options.placement_rules_interval;
  node->service_->SetBlockObserver([n](const v1::BlockMeta& block) {
    n->placement_->RecordBlock(block, absl::ToUnixMillis(absl::Now()));
  });
  node->leader_loop_ = std::thread([n = node.get()] { n->LeaderLoop(); });
  return node;
}

MetastoreNode::~MetastoreNode() { Stop(); }

void MetastoreNode::Stop() {
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    loop_stop_ = true;
    loop_cv_.notify_all();
  }
  // Stopping the engine first completes whatever the leader loop and the compaction planner may
  // be waiting for.
  if (consensus_) consensus_->Stop();
  if (leader_loop_.joinable()) leader_loop_.join();
  if (membership_) membership_->Stop();
}

namespace {

// Runs an asynchronous call and waits for it (the engine completes every call, at the latest
// when it stops).
template <class Fn>
absl::Status WaitDone(Fn call) {
  auto promise = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> f = promise->get_future();
  call([promise](absl::Status s) { promise->set_value(std::move(s)); });
  return f.get();
}

}  // namespace

void MetastoreNode::LeaderLoop() {
  absl::Time next_retention = absl::InfiniteFuture();
  absl::Time next_rules = absl::InfiniteFuture();
  absl::Time next_gauges = absl::Now();
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(loop_mu_);
      if (loop_cv_.wait_for(lock, std::chrono::milliseconds(50), [this] { return loop_stop_; })) {
        return;
      }
    }
    membership_->Tick();
    if (absl::Now() >= next_gauges) {
      ExportCompactionGauges(compaction_->Status());
      next_gauges = absl::Now() + absl::Seconds(1);
    }
    if (!IsReadyLeader()) {
      next_retention = absl::InfiniteFuture();
      next_rules = absl::InfiniteFuture();
      continue;
    }
    AnnounceEndpoint();
    if (placement_rules_interval_ > absl::ZeroDuration()) {
      if (next_rules == absl::InfiniteFuture()) {
        // A new leadership: start from the rules in force, not from nothing.
        placement_->Seed(fsm_.members().rules(), absl::ToUnixMillis(absl::Now()));
        next_rules = absl::Now() + placement_rules_interval_;
      } else if (absl::Now() >= next_rules) {
        UpdatePlacementRules();
        next_rules = absl::Now() + placement_rules_interval_;
      }
    }
    if (retention_.interval <= absl::ZeroDuration()) continue;
    absl::Time now = absl::Now();
    if (next_retention == absl::InfiniteFuture()) {
      next_retention = now + retention_.interval;  // one interval after winning the election
    } else if (now >= next_retention) {
      RunRetention();
      next_retention = absl::Now() + retention_.interval;
    }
  }
}

void MetastoreNode::AnnounceEndpoint() {
  if (grpc_advertise_address_.empty() || announce_in_flight_.load()) return;
  uint64_t id = consensus_->Status().node_id;
  if (fsm_.NodeEndpoint(id) == grpc_advertise_address_) return;
  // Replicated so that every follower can name this leader's gRPC endpoint; idempotent, so a
  // lost outcome is simply announced again on a later tick.
  announce_in_flight_ = true;
  v1::RaftCommand command;
  command.mutable_set_node_endpoint()->set_node_id(id);
  command.mutable_set_node_endpoint()->set_grpc_address(grpc_advertise_address_);
  service_->Propose(std::move(command), [this](absl::Status s) {
    if (!s.ok()) log::Warn("metastore: announcing the leader's gRPC address failed", {{"err", s}});
    announce_in_flight_ = false;
  });
}

void MetastoreNode::UpdatePlacementRules() {
  v1::PlacementRules rules = placement_->BuildRules(absl::ToUnixMillis(absl::Now()));
  if (AdaptivePlacement::SameRules(rules, fsm_.members().rules()) || rules_in_flight_.load()) {
    return;
  }
  log::Info("adaptive placement: new rules", {{"datasets_with_rules", rules.datasets_size()}});
  rules_in_flight_ = true;
  v1::RaftCommand command;
  *command.mutable_set_placement_rules()->mutable_rules() = std::move(rules);
  service_->Propose(std::move(command), [this](absl::Status s) {
    if (!s.ok()) log::Warn("adaptive placement: proposing rules failed", {{"err", s}});
    rules_in_flight_ = false;
  });
}

void MetastoreNode::RunRetention() {
  // Plan on everything committed so far.
  absl::Status s = WaitDone([this](UnaryDone d) { consensus_->Barrier(std::move(d)); });
  if (!s.ok()) return log::Warn("metastore retention: read barrier failed", {{"err", s}});
  int64_t now_ms = absl::ToUnixMillis(absl::Now());
  std::vector<v1::ReplaceBlocksRequest> plan = PlanRetention(index_, retention_, now_ms);
  size_t shards = 0, blocks = 0;
  for (const v1::ReplaceBlocksRequest& r : plan) {
    s = WaitDone([this, &r](UnaryDone d) { service_->ReplaceBlocks(r, std::move(d)); });
    if (!s.ok()) {
      log::Warn("metastore retention: dropping a shard failed",
                {{"tombstone", r.tombstones().name()}, {"err", s}});
      break;
    }
    shards++;
    blocks += static_cast<size_t>(r.tombstones().blocks_size());
  }
  if (shards > 0) {
    log::Info("metastore retention: dropped expired index shards",
              {{"shards", shards}, {"blocks", blocks}});
  }
}

bool MetastoreNode::IsReadyLeader() const {
  raft::ConsensusStatus s = consensus_->Status();
  return s.role == raft::Role::kLeader && s.leader_barrier_done && !s.failed;
}

void MetastoreNode::AddNode(const v1::AddNodeRequest& request, UnaryDone done) {
  if (request.id() == 0 || request.raft_address().find(':') == std::string::npos) {
    return done(absl::InvalidArgumentError("AddNode: want id > 0 and raft_address host:port"));
  }
  consensus_->AddVoter(request.id(), request.raft_address(),
                       service_->Redirecting(std::move(done)));
}

void MetastoreNode::RemoveNode(const v1::RemoveNodeRequest& request, UnaryDone done) {
  if (request.id() == 0) return done(absl::InvalidArgumentError("RemoveNode: want id > 0"));
  consensus_->RemoveNode(request.id(), service_->Redirecting(std::move(done)));
}

void MetastoreNode::TransferLeadership(const v1::TransferLeadershipRequest& request,
                                       v1::TransferLeadershipResponse* response, UnaryDone done) {
  consensus_->TransferLeadership(
      request.id(), service_->Redirecting([this, response, done = std::move(done)](absl::Status s) {
        // libraft reports completion a few ms before the new leader shows in the polled status.
        if (s.ok()) {
          uint64_t self = consensus_->Status().node_id;
          for (int i = 0; i < 50; i++) {
            raft::ConsensusStatus st = consensus_->Status();
            if (st.leader_id != 0 && st.leader_id != self) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
          }
          response->set_leader_id(consensus_->Status().leader_id);
        }
        done(std::move(s));
      }));
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
  return NodeStatusJson(NodeInfo(), compaction_->Status());
}

v1::NodeInfoResponse MetastoreNode::NodeInfo() const {
  MetastoreNodeStatus s = Status();
  v1::NodeInfoResponse r;
  r.set_node_id(s.raft.node_id);
  r.set_raft_address(s.raft.address);
  r.set_grpc_address(grpc_advertise_address_);
  r.set_state(std::string(raft::RoleName(s.raft.role)));
  r.set_ready(s.ready);
  r.set_leader_id(s.raft.leader_id);
  r.set_leader_raft_address(s.raft.leader_address);
  if (s.raft.leader_id != 0) r.set_leader_grpc_address(fsm_.NodeEndpoint(s.raft.leader_id));
  r.set_term(s.raft.term);
  r.set_commit_index(s.raft.commit_index);
  r.set_applied_index(s.raft.applied_index);
  r.set_last_log_index(s.raft.last_log_index);
  r.set_snapshot_index(s.raft.snapshot_index);
  r.set_snapshot_term(s.raft.snapshot_term);
  r.set_snapshot_in_progress(s.raft.snapshot_in_progress);
  r.set_snapshots_taken(s.raft.snapshots_taken);
  r.mutable_last_snapshot()->set_index(s.raft.last_snapshot.index);
  r.mutable_last_snapshot()->set_bytes(s.raft.last_snapshot.bytes);
  r.mutable_last_snapshot()->set_capture_ms(s.raft.last_snapshot.capture_ms);
  r.mutable_last_snapshot()->set_serialize_ms(s.raft.last_snapshot.serialize_ms);
  r.mutable_last_snapshot()->set_total_ms(s.raft.last_snapshot.total_ms);
  r.set_blocks(s.blocks);
  r.set_partitions(s.partitions);
  r.set_dlq_parked(dlq_parked_ ? dlq_parked_() : -1);
  r.set_failed(s.raft.failed);
  if (s.raft.failed) r.set_failure(s.raft.failure);
  r.set_fsm_applied_index(s.fsm_applied_index);
  for (const raft::PeerInfo& p : s.raft.nodes) {
    v1::RaftPeerInfo* peer = r.add_peers();
    peer->set_id(p.id);
    peer->set_raft_address(p.address);
    peer->set_grpc_address(fsm_.NodeEndpoint(p.id));
    peer->set_role(p.role);
    peer->set_leader(p.id == s.raft.leader_id);
  }
  return r;
}

}  // namespace embers::metastore
