// RaftConsensus (libraft 0.15) with a state machine of its own: snapshots are captured on the
// loop thread and serialised on a worker thread while later commands keep applying; the
// snapshot written is the state at the capture, and a restart restores it and replays the rest.
// Every wait is bounded; nothing is timed.
#include "metastore/raft/raft_consensus.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/strings.h"
#include "metastore/client/local_cluster.h"

namespace embers::metastore::raft {
namespace {

// Commands are strings appended to a list. Serialize waits at a gate the test opens, so a
// snapshot can be held "in progress" for as long as the test needs.
class ListMachine final : public StateMachine {
 public:
  absl::Status Apply(uint64_t, std::string_view command) override {
    std::lock_guard<std::mutex> lock(mu_);
    applied_.emplace_back(command);
    return absl::OkStatus();
  }

  std::unique_ptr<StateCapture> Capture() override {
    std::lock_guard<std::mutex> lock(mu_);
    ++captures_;
    return std::make_unique<ListCapture>(this, applied_);
  }

  absl::Status Restore(std::string_view snapshot) override {
    std::lock_guard<std::mutex> lock(mu_);
    applied_.clear();
    for (std::string_view item : Split(snapshot, '\n', /*skip_empty=*/true)) {
      applied_.emplace_back(item);
    }
    return absl::OkStatus();
  }

  void OpenGate() {
    std::lock_guard<std::mutex> lock(mu_);
    gate_open_ = true;
    cv_.notify_all();
  }
  std::vector<std::string> applied() const {
    std::lock_guard<std::mutex> lock(mu_);
    return applied_;
  }
  std::vector<std::string> last_serialized() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_serialized_;
  }
  int captures() const {
    std::lock_guard<std::mutex> lock(mu_);
    return captures_;
  }
  bool serializing() const {
    std::lock_guard<std::mutex> lock(mu_);
    return serializing_;
  }

 private:
  class ListCapture final : public StateCapture {
   public:
    ListCapture(ListMachine* machine, std::vector<std::string> items)
        : machine_(machine), items_(std::move(items)) {}
    absl::StatusOr<std::vector<std::string_view>> Serialize() override {
      std::unique_lock<std::mutex> lock(machine_->mu_);
      machine_->serializing_ = true;
      machine_->cv_.wait(lock, [this] { return machine_->gate_open_; });
      machine_->serializing_ = false;
      machine_->last_serialized_ = items_;
      bytes_ = Join(items_, "\n");
      // Two pieces, as a large capture gives: libraft writes them one after the other.
      const size_t half = bytes_.size() / 2;
      return std::vector<std::string_view>{std::string_view(bytes_).substr(0, half),
                                           std::string_view(bytes_).substr(half)};
    }

   private:
    ListMachine* machine_;
    std::vector<std::string> items_;
    std::string bytes_;
  };

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool gate_open_ = false;
  bool serializing_ = false;
  int captures_ = 0;
  std::vector<std::string> applied_;
  std::vector<std::string> last_serialized_;
};

bool WaitFor(const std::function<bool()>& cond) {
  for (int i = 0; i < 2000; i++) {  // 20 s at most
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

absl::Status Propose(Consensus& consensus, std::string command) {
  auto promise = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> f = promise->get_future();
  consensus.Propose(std::move(command), [promise](absl::Status s) { promise->set_value(s); });
  if (f.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    return absl::DeadlineExceededError("proposal did not complete in 20 s");
  }
  return f.get();
}

TEST(RaftConsensusSnapshotTest, CommandsApplyWhileASnapshotSerialisesAndRestartRestoresIt) {
  std::string dir = (std::filesystem::temp_directory_path() / "embers-raftsnap-XXXXXX").string();
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  struct Cleanup {
    std::string dir;
    ~Cleanup() { std::filesystem::remove_all(dir); }
  } cleanup{dir};

  RaftConsensusOptions o;
  o.data_dir = dir;
  o.node_id = 1;
  o.address = StrCat("127.0.0.1:", FreeLoopbackPort());
  o.snapshot_threshold = 8;
  o.snapshot_trailing = 4;
  o.snapshot_interval_ms = 0;

  ListMachine machine;
  std::vector<std::string> all;
  {
    absl::StatusOr<std::unique_ptr<RaftConsensus>> opened = RaftConsensus::Open(o, &machine);
    ASSERT_TRUE(opened.ok()) << opened.status();
    RaftConsensus& consensus = **opened;
    // Opens the gate however the test ends, or Stop would wait for the snapshot forever.
    struct Gate {
      ListMachine& m;
      ~Gate() { m.OpenGate(); }
    } gate{machine};
    ASSERT_TRUE(WaitFor([&] { return consensus.Status().leader_barrier_done; }));

    // Enough entries for the threshold: a capture is taken and its serialisation blocks.
    for (int i = 0; all.size() < 8 || !consensus.Status().snapshot_in_progress; i++) {
      ASSERT_LT(i, 100) << "no snapshot started";
      all.push_back(StrCat("before-", i));
      ASSERT_TRUE(Propose(consensus, all.back()).ok());
      if (all.size() >= 8) {
        // The status is published by the loop thread after the capture: wait for both, or the
        // loop may run out of attempts before the status shows the snapshot.
        WaitFor([&] { return machine.serializing() && consensus.Status().snapshot_in_progress; });
      }
    }
    ASSERT_TRUE(machine.serializing());
    const size_t applied_before = all.size();

    // Applying goes on while the snapshot is stuck in Serialize (the loop thread is free).
    for (int i = 0; i < 50; i++) {
      all.push_back(StrCat("during-", i));
      ASSERT_TRUE(Propose(consensus, all.back()).ok()) << i;
    }
    ConsensusStatus during = consensus.Status();
    EXPECT_TRUE(during.snapshot_in_progress);
    EXPECT_EQ(during.snapshots_taken, 0u);
    EXPECT_EQ(machine.captures(), 1);  // no second snapshot while one is pending
    EXPECT_EQ(machine.applied(), all);

    machine.OpenGate();
    ASSERT_TRUE(WaitFor([&] { return consensus.Status().snapshots_taken >= 1; }));
    // The first snapshot holds the state at its capture (libraft took it after some of the
    // first commands), not what was applied while it was serialised.
    std::vector<std::string> first = machine.last_serialized();
    ASSERT_LE(first.size(), applied_before);
    EXPECT_TRUE(std::equal(first.begin(), first.end(), all.begin()));
    ConsensusStatus after = consensus.Status();
    // Node 1 takes its snapshots where index + 2 is a multiple of 8 (nodes take turns).
    EXPECT_EQ(after.snapshot_index % 8, 6u);
    EXPECT_GT(after.last_snapshot.bytes, 0u);
    EXPECT_EQ(after.term, during.term);
    for (int i = 0; i < 20; i++) {
      all.push_back(StrCat("after-", i));
      ASSERT_TRUE(Propose(consensus, all.back()).ok()) << i;
    }
    // A later snapshot is taken too, now that the gate is open.
    ASSERT_TRUE(WaitFor([&] {
      ConsensusStatus s = consensus.Status();
      return s.snapshots_taken >= 2 && !s.snapshot_in_progress;
    }));
    consensus.Stop();
  }

  // Restart: the last snapshot is restored and the log tail replayed.
  ListMachine restarted;
  restarted.OpenGate();
  absl::StatusOr<std::unique_ptr<RaftConsensus>> reopened = RaftConsensus::Open(o, &restarted);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_GT((*reopened)->Status().snapshot_index, 0u);
  EXPECT_TRUE(WaitFor([&] { return restarted.applied() == all; }));
  (*reopened)->Stop();
}

// Nodes snapshot at different indexes: with ids 1, 2, 3 a quarter of the threshold apart, every
// threshold entries once started, never sooner than half a threshold after the last one.
TEST(RaftConsensusSnapshotTest, NodesTakeTurnsToSnapshot) {
  constexpr unsigned kThreshold = 8192;
  std::vector<std::vector<uint64_t>> taken(4);
  for (uint64_t node = 1; node <= 3; node++) {
    uint64_t at = 0;
    for (int i = 0; i < 5; i++) {
      const unsigned next = RaftConsensus::StaggeredSnapshotThreshold(at, kThreshold, node);
      EXPECT_GE(next, kThreshold / 2);
      EXPECT_LT(next, kThreshold * 3 / 2);
      at += next;
      taken[node].push_back(at);
      EXPECT_EQ((at + node * kThreshold / 4) % kThreshold, 0u) << "node " << node;
    }
    for (size_t i = 1; i < taken[node].size(); i++) {
      EXPECT_EQ(taken[node][i] - taken[node][i - 1], kThreshold);
    }
  }
  EXPECT_EQ(taken[1][0], 6144u);
  EXPECT_EQ(taken[2][0], 4096u);
  EXPECT_EQ(taken[3][0], 10240u);  // 2048 modulo the threshold: at least half a threshold in
  // From any earlier snapshot (a restart, an installed snapshot) the next one is in step again.
  EXPECT_EQ(
      (12345 + RaftConsensus::StaggeredSnapshotThreshold(12345, kThreshold, 2) + 4096) % kThreshold,
      0u);
  // Tiny thresholds are taken as they are.
  EXPECT_EQ(RaftConsensus::StaggeredSnapshotThreshold(10, 3, 1), 3u);
}

}  // namespace
}  // namespace embers::metastore::raft
