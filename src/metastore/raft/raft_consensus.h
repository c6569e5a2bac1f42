// RaftConsensus: the Consensus interface implemented with libraft (Debian libraft-dev 0.15).
//
// Used by MetastoreNode (metastore_node.h). One RaftConsensus owns a libuv loop running on its
// own thread with libraft's disk I/O (raft_uv: log segments and snapshots under
// options.data_dir) and TCP transport (raft_uv_tcp). libraft is single-threaded: every raft_*
// call happens on that loop thread; other threads hand work over through a queue and a
// uv_async_t (reference/libraft-notes.md "Submitting from other threads"). The libraft structs
// stay inside raft_consensus.cc so no other file includes the C headers.
//
// The wrapper enforces the notes' rules; each is commented where it is applied in the .cc:
// C linkage (gotcha 1), no raft calls from inside failing raft callbacks (2), LEADERSHIPLOST as
// an unknown outcome (3), a barrier after every election before the node reports ready (4),
// asynchronous snapshots with the io version workaround (5), ownership of buffers and an apply
// that always returns 0 (6), a polled status with a watchdog for the silent unavailable state
// (7), one source of truth for the bootstrap configuration (8), a short install-snapshot timeout
// (9), and SIGPIPE ignored (13).
//
// Snapshots never stop the loop for long: StateMachine::Capture runs on the loop thread (cheap by
// contract), StateCapture::Serialize on a libuv threadpool thread while entries keep applying,
// and libraft writes the file on the threadpool too.
#ifndef EMBERS_METASTORE_RAFT_RAFT_CONSENSUS_H_
#define EMBERS_METASTORE_RAFT_RAFT_CONSENSUS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "metastore/raft/consensus.h"

namespace embers::metastore::raft {

struct RaftPeer {
  uint64_t id = 0;
  std::string address;  // host:port of its Raft transport (IPv4 dotted quad for raft_uv_tcp)
};

// Parses "1=10.0.0.1:9099,2=10.0.0.2:9099,3=10.0.0.3:9099" (the -metastore.raft.bootstrap-peers
// form). InvalidArgument on a malformed entry, a zero or duplicate id or a duplicate address.
absl::StatusOr<std::vector<RaftPeer>> ParseRaftPeers(std::string_view text);

struct RaftConsensusOptions {
  // Raft log segments, metadata and snapshots. Created when missing.
  std::string data_dir;
  uint64_t node_id = 1;
  // The address other nodes connect to (and this node's identity in the configuration).
  std::string address = "127.0.0.1:9099";
  // Where to listen, when different from `address` (e.g. "0.0.0.0:9099"); the port must match.
  std::string bind_address;
  // The initial voters. Empty: a single-node cluster of {node_id, address}. Every node of a
  // cluster must be given the same list (libraft does not detect a mismatch, notes gotcha 8). A
  // node whose data dir is already initialised ignores it. A node not in a non-empty list
  // bootstraps nothing: it joins when the leader adds it (AddVoter).
  std::vector<RaftPeer> bootstrap_peers;

  // Timers (notes gotcha 10: failover takes about 1.3-2.7 x election timeout with pre-vote).
  unsigned election_timeout_ms = 1000;
  unsigned heartbeat_timeout_ms = 100;
  // libraft's default of 30 s stalls a restarted follower's catch-up (notes gotcha 9); keep it
  // above the time to ship and persist the largest snapshot.
  unsigned install_snapshot_timeout_ms = 3000;
  unsigned connect_retry_delay_ms = 200;
  // Snapshot about every this many applied entries, keeping `snapshot_trailing` entries in the
  // log (they all stay in RAM, notes gotcha 12). Nodes snapshot at different indexes (offset by
  // node id, see StaggeredThreshold in the .cc), so that a quorum is never busy with one at the
  // same moment. Also snapshot when `snapshot_interval_ms` has passed since the last one and
  // something was applied (0: by count only).
  unsigned snapshot_threshold = 8192;
  unsigned snapshot_trailing = 2048;
  unsigned snapshot_interval_ms = 10 * 60 * 1000;
  // How often the loop thread refreshes Status() and checks the watchdog.
  unsigned status_interval_ms = 20;
  // Called once (on the callback thread) when libraft turns permanently unavailable (notes
  // gotcha 7): the process should exit and be restarted. Logged either way.
  std::function<void(const std::string& reason)> on_failed;
};

class RaftConsensus final : public Consensus {
 public:
  // Initialises storage (bootstrapping a pristine data dir), replays the snapshot and log into
  // `fsm` (on the calling thread), and starts the loop. `fsm` must outlive the RaftConsensus.
  // How many entries after a snapshot at index `snapshot_index` node `node_id` takes its next
  // one, for a threshold of `threshold`: at the next index from half a threshold on where
  // (index + threshold / 4 * (node_id % 4)) is a multiple of the threshold, so that nodes take
  // turns (see RaftConsensusOptions::snapshot_threshold).
  static unsigned StaggeredSnapshotThreshold(uint64_t snapshot_index, unsigned threshold,
                                             uint64_t node_id);
  static absl::StatusOr<std::unique_ptr<RaftConsensus>> Open(RaftConsensusOptions options,
                                                             StateMachine* fsm);
  ~RaftConsensus() override;
  RaftConsensus(const RaftConsensus&) = delete;
  RaftConsensus& operator=(const RaftConsensus&) = delete;

  void Propose(std::string command, Done done) override;
  void Barrier(Done done) override;
  void AddVoter(uint64_t id, std::string address, Done done) override;
  void RemoveNode(uint64_t id, Done done) override;
  void TransferLeadership(uint64_t id, Done done) override;
  ConsensusStatus Status() const override;
  // Must not be called from a completion callback (it joins the callback thread).
  void Stop() override;

  struct Impl;

 private:
  explicit RaftConsensus(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace embers::metastore::raft

#endif  // EMBERS_METASTORE_RAFT_RAFT_CONSENSUS_H_
