// ProposalBatcher with a fake proposer that completes proposals when the test says so: commands
// arriving while the in-flight slots are taken leave together as one batch, respecting the size
// limits, and each caller gets its own command's result.
#include "metastore/raft/proposal_batcher.h"

#include <gtest/gtest.h>

#include "metastore/raft/metastore_fsm.h"

namespace embers::metastore::raft {
namespace {

struct Proposal {
  v1::RaftCommand command;  // parsed from the proposed bytes
  UnaryDone done;
};

// The proposer: records what was proposed.
ProposalBatcher::ProposeFn Recorder(std::vector<Proposal>& proposed) {
  return [&proposed](std::string bytes, UnaryDone d) {
    v1::RaftCommand c;
    EXPECT_TRUE(c.ParseFromString(bytes));
    proposed.push_back({std::move(c), std::move(d)});
  };
}

// Completes a proposal. The callback is moved out first: completing proposes the next batch,
// which may grow (and move) the vector holding it.
void Complete(std::vector<Proposal>& proposed, size_t i, absl::Status s) {
  UnaryDone done = std::move(proposed[i].done);
  done(std::move(s));
}

std::string Command(int i, size_t padding = 0) {
  v1::RaftCommand c;
  c.set_request_id("r" + std::to_string(i));
  c.mutable_delete_tombstones()->add_names("n" + std::to_string(i));
  if (padding > 0) c.mutable_delete_tombstones()->add_names(std::string(padding, 'x'));
  return MetastoreFsm::EncodeCommand(c);
}

TEST(ProposalBatcherTest, QueuedCommandsLeaveAsOneBatchWhenASlotFrees) {
  std::vector<Proposal> proposed;
  ProposalBatcher batcher({.max_in_flight = 1, .max_batch_commands = 3, .max_batch_bytes = 1 << 20},
                          Recorder(proposed));
  std::vector<absl::Status> results(6, absl::UnknownError("pending"));
  for (int i = 0; i < 6; i++) {
    batcher.Add(Command(i), [&results, i](absl::Status s) { results[i] = s; });
  }
  // The first goes alone at once; the others wait for the slot.
  ASSERT_EQ(proposed.size(), 1u);
  EXPECT_EQ(proposed[0].command.request_id(), "r0");
  EXPECT_FALSE(proposed[0].command.has_batch());

  Complete(proposed, 0, absl::OkStatus());
  EXPECT_TRUE(results[0].ok());
  // Then at most 3 of the 5 waiting, as a batch in arrival order.
  ASSERT_EQ(proposed.size(), 2u);
  ASSERT_TRUE(proposed[1].command.has_batch());
  ASSERT_EQ(proposed[1].command.batch().commands_size(), 3);
  EXPECT_EQ(proposed[1].command.batch().commands(0).request_id(), "r1");
  EXPECT_EQ(proposed[1].command.batch().commands(2).request_id(), "r3");

  // Per-command results come back from the state machine's payload.
  BlockIndex index;
  MetastoreFsm fsm(&index);
  v1::RaftCommand batch = proposed[1].command;
  batch.mutable_batch()->mutable_commands(1)->mutable_batch();  // make the middle one fail
  Complete(proposed, 1, fsm.Apply(1, MetastoreFsm::EncodeCommand(batch)));
  EXPECT_TRUE(results[1].ok()) << results[1];
  EXPECT_EQ(results[2].code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(results[3].ok()) << results[3];

  // The remaining two, and a batch-wide failure reaches both.
  ASSERT_EQ(proposed.size(), 3u);
  ASSERT_EQ(proposed[2].command.batch().commands_size(), 2);
  Complete(proposed, 2,
           absl::UnavailableError("not the metastore leader; leader_id=0 leader_address="));
  EXPECT_EQ(results[4].code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(results[5].code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(proposed.size(), 3u);
}

TEST(ProposalBatcherTest, ByteLimitSplitsBatchesButNeverStrandsALargeCommand) {
  std::vector<Proposal> proposed;
  size_t one = Command(1).size();
  ProposalBatcher batcher(
      {.max_in_flight = 1, .max_batch_commands = 100, .max_batch_bytes = 2 * one},
      Recorder(proposed));
  std::vector<std::string> commands = {Command(0), Command(1), Command(9, 3 * one), Command(2),
                                       Command(3)};
  int completed = 0;
  for (std::string& c : commands) batcher.Add(c, [&](absl::Status) { completed++; });
  std::vector<int> sizes;
  while (completed < 5) {
    ASSERT_EQ(proposed.size(), sizes.size() + 1);
    const v1::RaftCommand& c = proposed.back().command;
    sizes.push_back(c.has_batch() ? c.batch().commands_size() : 1);
    Complete(proposed, proposed.size() - 1, absl::OkStatus());
  }
  // 0 alone (nothing in flight); 1 (the big one would exceed the limit); the big one alone;
  // then 2 and 3 together.
  EXPECT_EQ(sizes, (std::vector<int>{1, 1, 1, 2}));
}

}  // namespace
}  // namespace embers::metastore::raft
