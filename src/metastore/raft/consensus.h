// Consensus: the small replication interface the metastore is written against.
//
// The metastore node (metastore_node.h) proposes serialised commands and asks for linearizable
// read barriers through this interface; the replicated state (metastore_fsm.h) implements
// StateMachine. Today the only engine is libraft (raft_consensus.h); keeping the surface this
// small lets us swap it (e.g. for a vendored cowsql/raft, see reference/libraft-notes.md
// "Verdict") without touching the index or the services.
//
// Threading contract every engine must keep:
//  - Propose/Barrier/Status may be called from any thread.
//  - `done` callbacks run on an engine-owned callback thread, never inside the engine's own
//    callbacks, so they may block briefly, call Propose/Barrier again, or run a query.
//  - StateMachine methods run on the engine's single apply thread, one at a time, except
//    StateCapture::Serialize, which runs on another thread while Apply goes on.
#ifndef EMBERS_METASTORE_RAFT_CONSENSUS_H_
#define EMBERS_METASTORE_RAFT_CONSENSUS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace embers::metastore::raft {

// A view of the whole replicated state as it was after one applied command (StateMachine::
// Capture), to serialise while later commands apply.
class StateCapture {
 public:
  virtual ~StateCapture() = default;
  // Called once before Serialize on a normal-priority engine thread: allocate (and fault in)
  // what Serialize will write into, which then runs on an idle-priority thread.
  virtual void Prepare() {}
  // The snapshot bytes (what StateMachine::Restore takes, joined) of the captured state, as
  // consecutive pieces that the capture owns. Called at most once, on an engine worker thread,
  // concurrently with Apply; it must read only what the capture holds. The capture is destroyed
  // after the snapshot was written (or failed), on a normal-priority thread, so it keeps its
  // buffers until then.
  virtual absl::StatusOr<std::vector<std::string_view>> Serialize() = 0;
};

// The replicated state. Apply must be deterministic: replicas that apply the same commands in
// the same order must end up in the same state and return the same results.
class StateMachine {
 public:
  virtual ~StateMachine() = default;
  // Applies the committed command at log position `index`. The returned status is the command's
  // result, handed to the proposer; it is not an engine error (the engine always advances).
  virtual absl::Status Apply(uint64_t index, std::string_view command) = 0;
  // Captures the state as of the last applied command, for a snapshot. Runs on the apply thread
  // between two commands, which stalls the engine (heartbeats included) for as long as it takes:
  // it must be cheap (not proportional to the state's size); the expensive part belongs in
  // StateCapture::Serialize. Null when the capture failed (no snapshot this time).
  virtual std::unique_ptr<StateCapture> Capture() = 0;
  // Replaces the whole state with a snapshot's (on start, or when the leader sends one).
  virtual absl::Status Restore(std::string_view snapshot) = 0;
};

enum class Role { kUnavailable, kFollower, kCandidate, kLeader };
std::string_view RoleName(Role role);

struct PeerInfo {
  uint64_t id = 0;
  std::string address;
  std::string role;  // "voter", "standby", "spare"
};

// The last snapshot this node took itself (not one installed from the leader).
struct SnapshotStats {
  uint64_t index = 0;
  uint64_t bytes = 0;
  double capture_ms = 0;    // StateMachine::Capture on the apply thread
  double serialize_ms = 0;  // StateCapture::Serialize on a worker thread
  double total_ms = 0;      // capture to the file written
};

struct ConsensusStatus {
  uint64_t node_id = 0;
  std::string address;
  Role role = Role::kUnavailable;
  uint64_t leader_id = 0;  // 0: no known leader
  std::string leader_address;
  uint64_t term = 0;
  uint64_t commit_index = 0;
  uint64_t applied_index = 0;
  uint64_t last_log_index = 0;
  uint64_t snapshot_index = 0;  // last snapshot taken or installed (0: none)
  uint64_t snapshot_term = 0;
  // A snapshot is being serialised or written (applying goes on meanwhile).
  bool snapshot_in_progress = false;
  uint64_t snapshots_taken = 0;  // by this node since it started
  SnapshotStats last_snapshot;
  // Leader only: the barrier issued after winning the election has been applied, so every entry
  // of earlier terms is in the state machine (libraft-notes gotcha 4).
  bool leader_barrier_done = false;
  // The engine has failed permanently (libraft's silent RAFT_UNAVAILABLE, notes gotcha 7); the
  // process should restart.
  bool failed = false;
  std::string failure;
  std::vector<PeerInfo> nodes;
};

class Consensus {
 public:
  using Done = std::function<void(absl::Status)>;

  virtual ~Consensus() = default;

  // Appends `command` to the log and calls `done` once it is applied locally, with the state
  // machine's result. Errors: Unavailable when this node is not the leader (message carries the
  // leader, see NotLeaderError) or is shutting down; Unavailable with "outcome unknown" when
  // leadership was lost after appending (the command may still commit: retry with the same
  // request id).
  virtual void Propose(std::string command, Done done) = 0;

  // Linearizable read barrier: `done(OK)` once everything committed before the call is applied
  // locally and this node was still the leader. Reads of the state machine after that are
  // linearizable. Same errors as Propose.
  virtual void Barrier(Done done) = 0;

  // Membership and leadership (leader only; Unavailable naming the leader elsewhere). AddVoter
  // adds a node and promotes it to voter once it has caught up; `done` runs after the
  // promotion is committed. Only one change may be in flight (FailedPrecondition otherwise).
  virtual void AddVoter(uint64_t id, std::string address, Done done) = 0;
  virtual void RemoveNode(uint64_t id, Done done) = 0;
  // Hands leadership to voter `id` (0: the engine picks one); `done` once a new leader is seen
  // or the attempt timed out (check Status().leader_id).
  virtual void TransferLeadership(uint64_t id, Done done) = 0;

  // A copy of the latest status (refreshed by the engine every few ms; cheap).
  virtual ConsensusStatus Status() const = 0;

  // Stops the engine; pending calls complete with Unavailable. Idempotent; the destructor calls
  // it too.
  virtual void Stop() = 0;
};

// The error a non-leader answers with. The message names the leader so clients can follow it:
//   "not the metastore leader; leader_id=2 leader_address=127.0.0.1:9099"
// (leader_id=0 and an empty address when no leader is known).
absl::Status NotLeaderError(uint64_t leader_id, std::string_view leader_address);
// The leader address from a NotLeaderError (possibly relayed by a transport), if any.
std::optional<std::string> LeaderAddressFromError(const absl::Status& status);

}  // namespace embers::metastore::raft

#endif  // EMBERS_METASTORE_RAFT_CONSENSUS_H_
