// MetastoreNode end to end on loopback: a single node across restarts (clean stop, kill -9 of a
// forked child, snapshots with log truncation) and a 3-node cluster in one process
// (replication, follower redirects, leader failover, catch-up of a restarted node by snapshot).
// Every wait is bounded; the only timed assertion is the generous failover bound.
#include "metastore/raft/metastore_node.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/strings.h"
#include "base/test_ports.h"
#include "metastore/index/test_blocks.h"
#include "metastore/leader_redirect.h"

namespace embers::metastore {
namespace {

using testing::BlockBuilder;
using testing::DatasetSpec;
using testing::TestId;

constexpr int64_t kT0 = 1700000000000;

int FreePort() { return embers::testing::FreeLoopbackPort(); }

std::string Loopback(int port) { return StrCat("127.0.0.1:", port); }

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "embers-raft-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

v1::BlockMeta Block(uint64_t seq) {
  std::string service = seq % 3 == 0 ? "db" : "api";
  int64_t t = kT0 + static_cast<int64_t>(seq) * 60000;
  return BlockBuilder(TestId(t, seq), "t1", static_cast<uint32_t>(seq % 2))
      .Add(DatasetSpec{"t1", service, t, t + 1000, {{{"service_name", service}}}})
      .Build();
}

// Runs an asynchronous call and waits for its completion (bounded).
absl::Status Wait(const std::function<void(UnaryDone)>& call) {
  auto promise = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> future = promise->get_future();
  call([promise](absl::Status s) { promise->set_value(std::move(s)); });
  if (future.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    ADD_FAILURE() << "call did not complete";
    std::abort();  // the response objects of the call are about to go away
  }
  return future.get();
}

absl::Status AddBlock(MetastoreNode& node, const v1::BlockMeta& block) {
  v1::AddBlockRequest req;
  *req.mutable_block() = block;
  v1::AddBlockResponse resp;
  return Wait([&](UnaryDone done) {
    node.index_service()->AddBlock(CallContext{"t1"}, req, &resp, std::move(done));
  });
}

absl::StatusOr<v1::QueryMetadataResponse> Query(MetastoreNode& node) {
  v1::QueryMetadataRequest req;
  req.add_tenant_id("t1");
  req.set_start_time(0);
  req.set_end_time(kT0 * 2);
  v1::QueryMetadataResponse resp;
  absl::Status s = Wait([&](UnaryDone done) {
    node.index_service()->QueryMetadata(CallContext{"t1"}, req, &resp, std::move(done));
  });
  if (!s.ok()) return s;
  return resp;
}

// Polls `cond` every 10 ms for up to `timeout`.
bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

MetastoreNodeOptions SingleNodeOptions(const std::string& dir, int port) {
  MetastoreNodeOptions o;
  o.data_dir = dir;
  o.bind_address = Loopback(port);
  o.raft.snapshot_interval_ms = 0;
  return o;
}

std::unique_ptr<MetastoreNode> OpenReady(MetastoreNodeOptions options) {
  absl::StatusOr<std::unique_ptr<MetastoreNode>> node = MetastoreNode::Open(std::move(options));
  EXPECT_TRUE(node.ok()) << node.status();
  if (!node.ok()) return nullptr;
  absl::Status ready = (*node)->WaitReady(absl::Seconds(10));
  EXPECT_TRUE(ready.ok()) << ready;
  return std::move(*node);
}

TEST(MetastoreNodeTest, SingleNodeServesAndSurvivesRestart) {
  TempDir dir;
  int port = FreePort();
  std::string before;
  {
    std::unique_ptr<MetastoreNode> node = OpenReady(SingleNodeOptions(dir.path(), port));
    ASSERT_NE(node, nullptr);
    for (uint64_t i = 1; i <= 50; i++) ASSERT_TRUE(AddBlock(*node, Block(i)).ok());
    // A retry of an acknowledged block is a success and changes nothing.
    ASSERT_TRUE(AddBlock(*node, Block(7)).ok());
    absl::StatusOr<v1::QueryMetadataResponse> r = Query(*node);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->blocks_size(), 50);
    // Malformed requests are rejected before the log.
    v1::BlockMeta bad = Block(51);
    bad.set_id("not-a-ulid");
    EXPECT_EQ(AddBlock(*node, bad).code(), absl::StatusCode::kInvalidArgument);
    before = node->local_index().EncodeSnapshot();
    MetastoreNodeStatus s = node->Status();
    EXPECT_EQ(s.blocks, 50u);
    EXPECT_EQ(s.raft.role, raft::Role::kLeader);
    EXPECT_NE(node->StatusJson().find("\"state\":\"leader\""), std::string::npos);
    node->Stop();
    node->Stop();  // idempotent
    EXPECT_EQ(AddBlock(*node, Block(52)).code(), absl::StatusCode::kUnavailable);
  }
  std::unique_ptr<MetastoreNode> node = OpenReady(SingleNodeOptions(dir.path(), port));
  ASSERT_NE(node, nullptr);
  EXPECT_TRUE(node->local_index().EncodeSnapshot() == before)
      << node->local_index().BlockCount() << " blocks";
  absl::StatusOr<v1::QueryMetadataResponse> r = Query(*node);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->blocks_size(), 50);
}

TEST(MetastoreNodeTest, SnapshotsTruncateTheLogAndRestore) {
  TempDir dir;
  int port = FreePort();
  MetastoreNodeOptions options = SingleNodeOptions(dir.path(), port);
  options.raft.snapshot_threshold = 16;
  options.raft.snapshot_trailing = 4;
  std::string before;
  uint64_t snapshot_index = 0;
  {
    std::unique_ptr<MetastoreNode> node = OpenReady(options);
    ASSERT_NE(node, nullptr);
    for (uint64_t i = 1; i <= 100; i++) ASSERT_TRUE(AddBlock(*node, Block(i)).ok());
    ASSERT_TRUE(WaitFor([&] { return node->Status().raft.snapshot_index >= 64; },
                        std::chrono::seconds(10)));
    before = node->local_index().EncodeSnapshot();
    snapshot_index = node->Status().raft.snapshot_index;
    node->Stop();
  }
  bool has_snapshot_file = false;
  for (const auto& e : std::filesystem::directory_iterator(dir.path() + "/raft")) {
    if (e.path().filename().string().rfind("snapshot-", 0) == 0) has_snapshot_file = true;
  }
  EXPECT_TRUE(has_snapshot_file);

  std::unique_ptr<MetastoreNode> node = OpenReady(options);
  ASSERT_NE(node, nullptr);
  // Started from the snapshot (not from index 1), then replayed the tail.
  EXPECT_GE(node->Status().raft.snapshot_index, snapshot_index);
  EXPECT_TRUE(node->local_index().EncodeSnapshot() == before)
      << node->local_index().BlockCount() << " blocks";
}

// kill -9 of a forked child that acknowledged N blocks; the parent reopens the data dir and must
// find exactly those blocks (and, with a small threshold, it restarts from snapshot + log tail).
TEST(MetastoreNodeTest, SingleNodeKill9AndRestartGivesIdenticalIndex) {
  TempDir dir;
  int port = FreePort();
  MetastoreNodeOptions options = SingleNodeOptions(dir.path(), port);
  options.raft.snapshot_threshold = 32;
  options.raft.snapshot_trailing = 8;
  constexpr uint64_t kBlocks = 100;

  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(pipe_fds[0]);
    absl::StatusOr<std::unique_ptr<MetastoreNode>> node = MetastoreNode::Open(options);
    if (!node.ok() || !(*node)->WaitReady(absl::Seconds(10)).ok()) _exit(2);
    for (uint64_t i = 1; i <= kBlocks; i++) {
      if (!AddBlock(**node, Block(i)).ok()) _exit(3);
    }
    char ok = 'k';
    if (write(pipe_fds[1], &ok, 1) != 1) _exit(4);
    for (;;) pause();  // wait for SIGKILL, never stopping cleanly
  }
  close(pipe_fds[1]);
  char c = 0;
  ssize_t n = read(pipe_fds[0], &c, 1);  // EOF if the child died early
  close(pipe_fds[0]);
  kill(pid, SIGKILL);
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  ASSERT_EQ(n, 1) << "child failed, wait status " << wstatus;

  BlockIndex expected;
  for (uint64_t i = 1; i <= kBlocks; i++) ASSERT_TRUE(expected.AddBlock(Block(i)).ok());

  std::unique_ptr<MetastoreNode> node = OpenReady(options);
  ASSERT_NE(node, nullptr);
  EXPECT_TRUE(node->local_index().EncodeSnapshot() == expected.EncodeSnapshot())
      << node->local_index().BlockCount() << " blocks of " << kBlocks;
}

TEST(MetastoreNodeTest, LeaderRetentionDropsExpiredShardsAndRecordsTombstones) {
  TempDir dir;
  MetastoreNodeOptions o = SingleNodeOptions(dir.path(), FreePort());
  o.retention.default_period = absl::Hours(24);
  o.retention.tenant_periods = {{"forever", absl::ZeroDuration()}};
  o.retention.interval = absl::Milliseconds(100);
  std::unique_ptr<MetastoreNode> node = OpenReady(o);
  ASSERT_NE(node, nullptr);
  int64_t now = absl::ToUnixMillis(absl::Now());
  auto block = [](uint64_t seq, const std::string& tenant, int64_t t) {
    return BlockBuilder(TestId(t, seq), tenant, 0)
        .Add(DatasetSpec{tenant, "api", t, t + 1000, {{{"service_name", "api"}}}})
        .Build();
  };
  ASSERT_TRUE(AddBlock(*node, block(1, "t1", kT0)).ok());                // years old: expires
  ASSERT_TRUE(AddBlock(*node, block(2, "forever", kT0)).ok());           // kept: period 0
  ASSERT_TRUE(AddBlock(*node, block(3, "t1", now - 3600 * 1000)).ok());  // recent: kept
  EXPECT_TRUE(
      WaitFor([&] { return node->local_index().BlockCount() == 2; }, std::chrono::seconds(10)));
  std::vector<v1::BlockTombstones> tombstones = node->local_index().Tombstones();
  ASSERT_EQ(tombstones.size(), 1u);
  EXPECT_EQ(tombstones[0].tenant(), "t1");
  ASSERT_EQ(tombstones[0].blocks_size(), 1);
  EXPECT_EQ(tombstones[0].blocks(0), block(1, "t1", kT0).id());
  // A late retry of the expired block stays out (the tombstone).
  ASSERT_TRUE(AddBlock(*node, block(1, "t1", kT0)).ok());
  EXPECT_EQ(node->local_index().BlockCount(), 2u);
}

// ---- 3 nodes in one process.

class Cluster {
 public:
  // n nodes, the first `voters` of them (all by default) bootstrapped as the initial voters; the
  // others start as joiners waiting to be added.
  explicit Cluster(int n, int voters = -1) {
    if (voters < 0) voters = n;
    for (int i = 0; i < n; i++) {
      ports_.push_back(FreePort());
      dirs_.push_back(std::make_unique<TempDir>());
      if (i < voters) {
        peers_.push_back(raft::RaftPeer{static_cast<uint64_t>(i + 1), Loopback(ports_.back())});
      }
    }
    nodes_.resize(n);
  }

  std::string raft_address(int i) const { return Loopback(ports_[i]); }
  // A made-up gRPC address per node: only announced and reported, never dialled here.
  static std::string GrpcAddress(int i) { return StrCat("127.0.0.1:", 19500 + i); }

  MetastoreNodeOptions Options(int i) const {
    MetastoreNodeOptions o;
    o.data_dir = dirs_[i]->path();
    o.node_id = static_cast<uint64_t>(i + 1);
    o.bind_address = Loopback(ports_[i]);
    o.bootstrap_peers = peers_;
    o.grpc_advertise_address = GrpcAddress(i);
    o.raft.election_timeout_ms = 500;
    o.raft.heartbeat_timeout_ms = 50;
    o.raft.connect_retry_delay_ms = 100;
    o.raft.install_snapshot_timeout_ms = 2000;
    o.raft.snapshot_threshold = 8;
    o.raft.snapshot_trailing = 2;
    o.raft.snapshot_interval_ms = 0;
    return o;
  }

  void Start(int i) {
    absl::StatusOr<std::unique_ptr<MetastoreNode>> node = MetastoreNode::Open(Options(i));
    ASSERT_TRUE(node.ok()) << node.status();
    nodes_[i] = std::move(*node);
  }

  void Stop(int i) { nodes_[i].reset(); }
  MetastoreNode* node(int i) { return nodes_[i].get(); }
  int size() const { return static_cast<int>(nodes_.size()); }

  // The node that is leader and ready, waiting up to `timeout`; -1 if none.
  int WaitLeader(std::chrono::milliseconds timeout) {
    int leader = -1;
    WaitFor(
        [&] {
          for (int i = 0; i < size(); i++) {
            if (nodes_[i] && nodes_[i]->Status().raft.role == raft::Role::kLeader &&
                nodes_[i]->Ready()) {
              leader = i;
              return true;
            }
          }
          return false;
        },
        timeout);
    return leader;
  }

 private:
  std::vector<int> ports_;
  std::vector<std::unique_ptr<TempDir>> dirs_;
  std::vector<raft::RaftPeer> peers_;
  std::vector<std::unique_ptr<MetastoreNode>> nodes_;
};

TEST(MetastoreClusterTest, ReplicatesFailsOverAndCatchesUpBySnapshot) {
  Cluster cluster(3);
  for (int i = 0; i < 3; i++) cluster.Start(i);
  int leader = cluster.WaitLeader(std::chrono::seconds(10));
  ASSERT_GE(leader, 0);

  for (uint64_t i = 1; i <= 30; i++) {
    ASSERT_TRUE(AddBlock(*cluster.node(leader), Block(i)).ok());
  }
  // The leader answers linearizably; followers redirect to it.
  absl::StatusOr<v1::QueryMetadataResponse> r = Query(*cluster.node(leader));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->blocks_size(), 30);
  std::string leader_address = cluster.node(leader)->Status().raft.address;
  std::string expected = cluster.node(leader)->local_index().EncodeSnapshot();
  for (int i = 0; i < 3; i++) {
    if (i == leader) continue;
    absl::StatusOr<v1::QueryMetadataResponse> fr = Query(*cluster.node(i));
    EXPECT_EQ(fr.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(raft::LeaderAddressFromError(fr.status()), leader_address) << fr.status();
    EXPECT_EQ(AddBlock(*cluster.node(i), Block(99)).code(), absl::StatusCode::kUnavailable);
    // Followers apply once they learn the commit index (the next heartbeat).
    EXPECT_TRUE(WaitFor([&] { return cluster.node(i)->local_index().EncodeSnapshot() == expected; },
                        std::chrono::seconds(5)))
        << "follower " << i;
  }

  // Stop the leader: a new one within 5 s, with every acknowledged block.
  auto stopped_at = std::chrono::steady_clock::now();
  cluster.Stop(leader);
  int new_leader = cluster.WaitLeader(std::chrono::seconds(10));
  ASSERT_GE(new_leader, 0);
  auto failover = std::chrono::steady_clock::now() - stopped_at;
  EXPECT_LT(failover, std::chrono::seconds(5));
  r = Query(*cluster.node(new_leader));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->blocks_size(), 30);

  // More writes while the old leader is down; with threshold 8 / trailing 2 the new leader's log
  // no longer reaches back to where the old leader stopped, so it must catch up by snapshot.
  for (uint64_t i = 31; i <= 60; i++) {
    ASSERT_TRUE(AddBlock(*cluster.node(new_leader), Block(i)).ok());
  }
  ASSERT_GT(cluster.node(new_leader)->Status().raft.snapshot_index, 31u);
  cluster.Start(leader);
  expected = cluster.node(new_leader)->local_index().EncodeSnapshot();
  for (int i = 0; i < 3; i++) {
    if (i == new_leader) continue;
    EXPECT_TRUE(WaitFor([&] { return cluster.node(i)->local_index().EncodeSnapshot() == expected; },
                        std::chrono::seconds(10)))
        << "node " << i << ": " << cluster.node(i)->StatusJson();
  }
}

// Runs a node admin call and waits for it.
template <class Fn>
absl::Status Admin(Fn call) {
  return Wait([&](UnaryDone done) { call(std::move(done)); });
}

TEST(MetastoreClusterTest, FollowersNameTheLeadersGrpcAddressAndMembershipChanges) {
  Cluster cluster(4, /*voters=*/3);
  for (int i = 0; i < 4; i++) cluster.Start(i);  // node 4 (index 3) waits to be added
  int leader = cluster.WaitLeader(std::chrono::seconds(10));
  ASSERT_GE(leader, 0);
  for (uint64_t i = 1; i <= 10; i++) ASSERT_TRUE(AddBlock(*cluster.node(leader), Block(i)).ok());

  // The leader announced its gRPC address through the log; followers put it in their answers.
  int follower = (leader + 1) % 3;
  absl::Status redirect;
  EXPECT_TRUE(WaitFor(
      [&] {
        redirect = AddBlock(*cluster.node(follower), Block(1));
        return LeaderGrpcAddressFromError(redirect) == Cluster::GrpcAddress(leader);
      },
      std::chrono::seconds(5)))
      << redirect;
  EXPECT_EQ(cluster.node(follower)->NodeInfo().leader_grpc_address(), Cluster::GrpcAddress(leader));

  // Membership changes are leader-only.
  v1::AddNodeRequest add;
  add.set_id(4);
  add.set_raft_address(cluster.raft_address(3));
  EXPECT_TRUE(IsNotLeaderError(
      Admin([&](UnaryDone d) { cluster.node(follower)->AddNode(add, std::move(d)); })));

  // Node 4 joins as a voter and catches up.
  ASSERT_TRUE(Admin([&](UnaryDone d) { cluster.node(leader)->AddNode(add, std::move(d)); }).ok());
  v1::NodeInfoResponse info;
  EXPECT_TRUE(WaitFor(
      [&] {
        info = cluster.node(leader)->NodeInfo();
        return info.peers_size() == 4 && info.peers(3).role() == "voter";
      },
      std::chrono::seconds(5)));
  ASSERT_EQ(info.peers_size(), 4) << info.ShortDebugString();
  EXPECT_EQ(info.peers(3).role(), "voter");
  std::string expected = cluster.node(leader)->local_index().EncodeSnapshot();
  EXPECT_TRUE(WaitFor([&] { return cluster.node(3)->local_index().EncodeSnapshot() == expected; },
                      std::chrono::seconds(10)));

  // Leadership moves to the chosen voter.
  v1::TransferLeadershipRequest transfer;
  transfer.set_id(static_cast<uint64_t>(follower + 1));
  v1::TransferLeadershipResponse transferred;
  ASSERT_TRUE(Admin([&](UnaryDone d) {
                cluster.node(leader)->TransferLeadership(transfer, &transferred, std::move(d));
              }).ok());
  EXPECT_EQ(transferred.leader_id(), static_cast<uint64_t>(follower + 1));
  EXPECT_EQ(cluster.WaitLeader(std::chrono::seconds(10)), follower);

  // And node 4 leaves again.
  v1::RemoveNodeRequest remove;
  remove.set_id(4);
  ASSERT_TRUE(
      Admin([&](UnaryDone d) { cluster.node(follower)->RemoveNode(remove, std::move(d)); }).ok());
  // (The status is polled from the engine every few ms.)
  EXPECT_TRUE(WaitFor([&] { return cluster.node(follower)->NodeInfo().peers_size() == 3; },
                      std::chrono::seconds(5)));
  EXPECT_TRUE(AddBlock(*cluster.node(follower), Block(11)).ok());
}

}  // namespace
}  // namespace embers::metastore
