// ProposalBatcher: group commit for metastore writes — concurrent commands proposed as one Raft
// log entry.
//
// Used by ReplicatedIndexService for AddBlock. Every log entry costs libraft an fsync and a quorum
// round trip, so one entry per block caps a 3-node cluster at a few thousand blocks/s
// (reference/libraft-notes.md: ~9,500 tiny entries/s with 64 in flight; 15-70k/s with 32 per
// entry). The batcher keeps at most `max_in_flight` proposals outstanding; commands arriving
// meanwhile queue up and leave together as a RaftCommandBatch (up to `max_batch_commands` /
// `max_batch_bytes`) when a slot frees. An idle node therefore proposes a lone command at once
// (no added latency), and a busy one amortises each entry over many commands.
//
// Each command keeps its own request id; the state machine applies them one by one and reports
// per-command results (MetastoreFsm::BatchResults), so a caller sees exactly its own outcome.
// Commands travel encoded (command_encoding.h): a batch is their concatenation, no messages are
// built or copied on this path.
//
// Threading: Add from any thread; `done` runs on the consensus callback thread.
#ifndef EMBERS_METASTORE_RAFT_PROPOSAL_BATCHER_H_
#define EMBERS_METASTORE_RAFT_PROPOSAL_BATCHER_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "base/call_context.h"

namespace embers::metastore::raft {

struct ProposalBatcherOptions {
  size_t max_in_flight = 8;
  size_t max_batch_commands = 1024;
  size_t max_batch_bytes = 4 << 20;
};

class ProposalBatcher {
 public:
  // Proposes one encoded RaftCommand (a lone command or a batch) and reports its result.
  using ProposeFn = std::function<void(std::string, UnaryDone)>;

  ProposalBatcher(ProposalBatcherOptions options, ProposeFn propose);

  // `command` is an encoded RaftCommand without a batch.
  void Add(std::string command, UnaryDone done);

 private:
  struct Pending {
    std::string command;
    UnaryDone done;
  };
  // Starts proposals while slots are free and commands wait. Called without mu_ held.
  void Pump();

  const ProposalBatcherOptions options_;
  const ProposeFn propose_;
  std::mutex mu_;
  std::deque<Pending> queue_;  // guarded by mu_
  size_t in_flight_ = 0;       // guarded by mu_
};

}  // namespace embers::metastore::raft

#endif  // EMBERS_METASTORE_RAFT_PROPOSAL_BATCHER_H_
