// RebaseAppendEntriesOntoSnapshot on messages shaped as libraft's transport delivers them: an
// entries array from raft_malloc whose entries point into one batch. libraft's heap is swapped
// for one that records what is freed, to check that a batch is freed exactly when no kept entry
// needs it.
#include "metastore/raft/append_entries_rebase.h"

#include <cstdlib>
#include <vector>

#include <gtest/gtest.h>

extern "C" {
#include <raft.h>
}

namespace embers::metastore::raft {
namespace {

std::vector<void*>* freed_pointers = nullptr;

void* HeapMalloc(void*, size_t size) { return std::malloc(size); }
void HeapFree(void*, void* ptr) {
  if (freed_pointers != nullptr) freed_pointers->push_back(ptr);
  std::free(ptr);
}
void* HeapCalloc(void*, size_t n, size_t size) { return std::calloc(n, size); }
void* HeapRealloc(void*, void* ptr, size_t size) { return std::realloc(ptr, size); }
void* HeapAlignedAlloc(void*, size_t alignment, size_t size) {
  return std::aligned_alloc(alignment, size);
}
void HeapAlignedFree(void*, size_t, void* ptr) { std::free(ptr); }

class RebaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    heap_ = {nullptr,      &HeapMalloc,       &HeapFree,       &HeapCalloc,
             &HeapRealloc, &HeapAlignedAlloc, &HeapAlignedFree};
    raft_heap_set(&heap_);
    freed_pointers = &freed_;
  }
  void TearDown() override {
    if (args_.entries != nullptr) {
      // What libraft does with the message afterwards (entryBatchesDestroy).
      void* last = nullptr;
      for (unsigned i = 0; i < args_.n_entries; i++) {
        if (args_.entries[i].batch != last) raft_free(last = args_.entries[i].batch);
      }
      raft_free(args_.entries);
    }
    freed_pointers = nullptr;
    raft_heap_set_default();
  }

  // The whole log 1..terms.size() in one batch, prev_log_index 0, as a leader resends it.
  void WholeLog(const std::vector<raft_term>& terms) {
    batch_ = raft_malloc(terms.size() * 8 + 8);
    args_.term = terms.back();
    args_.prev_log_index = 0;
    args_.prev_log_term = 0;
    args_.leader_commit = terms.size();
    args_.n_entries = static_cast<unsigned>(terms.size());
    args_.entries = static_cast<struct raft_entry*>(raft_calloc(terms.size(), sizeof(raft_entry)));
    for (size_t i = 0; i < terms.size(); i++) {
      args_.entries[i].term = terms[i];
      args_.entries[i].type = RAFT_COMMAND;
      args_.entries[i].buf.base = static_cast<char*>(batch_) + 8 * i;
      args_.entries[i].buf.len = 8;
      args_.entries[i].batch = batch_;
    }
  }

  // A follower log compacted up to `offset` with a snapshot at `snapshot_index`.
  static struct raft_log FollowerLog(raft_index offset, raft_index snapshot_index,
                                     raft_term snapshot_term) {
    struct raft_log log {};
    log.offset = offset;
    log.snapshot.last_index = snapshot_index;
    log.snapshot.last_term = snapshot_term;
    return log;
  }

  size_t TimesFreed(void* p) const {
    size_t n = 0;
    for (void* f : freed_) n += f == p;
    return n;
  }

  struct raft_heap heap_ {};
  std::vector<void*> freed_;
  struct raft_append_entries args_ {};
  void* batch_ = nullptr;
};

TEST_F(RebaseTest, WholeLogToACompactedFollowerStartsAtItsSnapshot) {
  WholeLog({1, 1, 2, 2, 2, 3, 3, 4, 4, 4});
  const struct raft_log log = FollowerLog(4, 6, 3);
  EXPECT_EQ(RebaseAppendEntriesOntoSnapshot(log, &args_), 6u);
  EXPECT_EQ(args_.prev_log_index, 6u);
  EXPECT_EQ(args_.prev_log_term, 3u);
  ASSERT_EQ(args_.n_entries, 4u);
  // Entries 7..10 of the leader's log, in order, still in the batch.
  EXPECT_EQ(args_.entries[0].term, 3u);
  EXPECT_EQ(args_.entries[0].buf.base, static_cast<char*>(batch_) + 8 * 6);
  EXPECT_EQ(args_.entries[3].term, 4u);
  EXPECT_EQ(args_.entries[3].buf.base, static_cast<char*>(batch_) + 8 * 9);
  EXPECT_EQ(TimesFreed(batch_), 0u) << "kept entries still point into the batch";
}

TEST_F(RebaseTest, NothingLeftFreesTheBatchOnce) {
  WholeLog({1, 1, 2, 2});
  const struct raft_log log = FollowerLog(2, 4, 2);
  EXPECT_EQ(RebaseAppendEntriesOntoSnapshot(log, &args_), 4u);
  EXPECT_EQ(args_.prev_log_index, 4u);
  EXPECT_EQ(args_.prev_log_term, 2u);
  EXPECT_EQ(args_.n_entries, 0u);
  EXPECT_EQ(TimesFreed(batch_), 1u);
}

TEST_F(RebaseTest, LeavesEveryOtherMessageAlone) {
  WholeLog({1, 1, 2, 2, 2});
  const struct raft_append_entries before = args_;
  auto unchanged = [&] {
    return args_.prev_log_index == before.prev_log_index &&
           args_.prev_log_term == before.prev_log_term && args_.n_entries == before.n_entries &&
           args_.entries == before.entries && args_.entries[0].term == 1;
  };
  // The follower still holds entry 1: libraft compares terms itself.
  EXPECT_EQ(RebaseAppendEntriesOntoSnapshot(FollowerLog(0, 3, 2), &args_), 0u);
  EXPECT_TRUE(unchanged());
  // The follower's snapshot is ahead of everything sent.
  EXPECT_EQ(RebaseAppendEntriesOntoSnapshot(FollowerLog(4, 7, 2), &args_), 0u);
  EXPECT_TRUE(unchanged());
  // The leader's term at the snapshot's index differs: not ours to repair.
  EXPECT_EQ(RebaseAppendEntriesOntoSnapshot(FollowerLog(2, 4, 3), &args_), 0u);
  EXPECT_TRUE(unchanged());
  // A message that does not start at the beginning of the log.
  args_.prev_log_index = 1;
  args_.prev_log_term = 1;
  EXPECT_EQ(RebaseAppendEntriesOntoSnapshot(FollowerLog(2, 3, 2), &args_), 0u);
  EXPECT_EQ(args_.prev_log_index, 1u);
  EXPECT_EQ(args_.n_entries, 5u);
  EXPECT_EQ(TimesFreed(batch_), 0u);
}

TEST_F(RebaseTest, AHeartbeatIsLeftAlone) {
  struct raft_append_entries heartbeat {};
  heartbeat.term = 5;
  EXPECT_EQ(RebaseAppendEntriesOntoSnapshot(FollowerLog(4, 6, 3), &heartbeat), 0u);
  EXPECT_EQ(heartbeat.prev_log_index, 0u);
}

}  // namespace
}  // namespace embers::metastore::raft
