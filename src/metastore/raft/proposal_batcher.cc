#include "metastore/raft/proposal_batcher.h"

#include <memory>
#include <utility>

#include "metastore/raft/command_encoding.h"
#include "metastore/raft/metastore_fsm.h"

namespace embers::metastore::raft {

ProposalBatcher::ProposalBatcher(ProposalBatcherOptions options, ProposeFn propose)
    : options_(options), propose_(std::move(propose)) {}

void ProposalBatcher::Add(std::string command, UnaryDone done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(Pending{std::move(command), std::move(done)});
  }
  Pump();
}

void ProposalBatcher::Pump() {
  for (;;) {
    auto batch = std::make_shared<std::vector<Pending>>();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.empty() || in_flight_ >= options_.max_in_flight) return;
      size_t bytes = 0;
      while (!queue_.empty() && batch->size() < options_.max_batch_commands) {
        size_t size = queue_.front().command.size();
        if (!batch->empty() && bytes + size > options_.max_batch_bytes) break;
        bytes += size;
        batch->push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      in_flight_++;
    }
    // Frees the slot, then hands each command its result and proposes what queued meanwhile.
    auto finish = [this, batch](std::vector<absl::Status> results) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        in_flight_--;
      }
      for (size_t i = 0; i < batch->size(); i++) (*batch)[i].done(std::move(results[i]));
      Pump();
    };
    if (batch->size() == 1) {
      // A lone command goes as itself: no batch framing, and its result needs no unpacking.
      propose_(std::move((*batch)[0].command),
               [finish](absl::Status s) { finish(std::vector<absl::Status>{std::move(s)}); });
      continue;
    }
    std::vector<std::string> commands;
    commands.reserve(batch->size());
    for (Pending& p : *batch) commands.push_back(std::move(p.command));
    size_t n = batch->size();
    propose_(EncodeBatchCommand(commands),
             [finish, n](absl::Status s) { finish(MetastoreFsm::BatchResults(s, n)); });
  }
}

}  // namespace embers::metastore::raft
