// RebaseAppendEntriesOntoSnapshot: a guard RaftConsensus applies to every AppendEntries message
// before libraft 0.15 sees it, for a libraft bug that crashed metastores rejoining a cluster.
//
// The bug (still in upstream's last release): when a leader's send to a peer fails before that
// peer acknowledged anything in the leader's term (a peer that is down at the election), the
// leader resets the peer's next index to match + 1 = 1. If the leader has taken no snapshot yet
// (one that has sends its snapshot instead), it then sends its whole log with prev_log_index 0. A
// follower skips the log-matching check for prev_log_index 0, and if its own log no longer holds
// entry 1 (it compacted after a snapshot) libraft appends the entries at its log's end as if they
// were 1..n: the follower stops with "No log entries found at index 1" or dies of SIGSEGV in
// logTruncate. The follower then crashes again on every restart until leadership moves.
// docs/performance.md ("Cluster chaos") has the reproduction and the traces.
//
// The guard rewrites such a message so that it starts at the follower's snapshot: the entries
// up to the snapshot's index are dropped and prev_log_index/prev_log_term name the snapshot's
// last entry, which libraft checks as usual. That is what the leader would have sent had its
// next index been right. Entries up to the snapshot are committed, so a legitimate leader holds
// them with the same terms; the guard checks the term at the snapshot's index and leaves any
// message it cannot rebase as it was.
//
// Runs on the Raft loop thread (the only thread that touches the log).
#ifndef EMBERS_METASTORE_RAFT_APPEND_ENTRIES_REBASE_H_
#define EMBERS_METASTORE_RAFT_APPEND_ENTRIES_REBASE_H_

#include <cstdint>

struct raft_log;
struct raft_append_entries;

namespace embers::metastore::raft {

// Returns the number of leading entries dropped (0 when the message was left as it was). The
// dropped entries' batches that no kept entry uses are freed with raft_free, as libraft would
// have freed them; the entries array itself stays where it is (libraft frees it).
uint64_t RebaseAppendEntriesOntoSnapshot(const struct raft_log& log,
                                         struct raft_append_entries* args);

}  // namespace embers::metastore::raft

#endif  // EMBERS_METASTORE_RAFT_APPEND_ENTRIES_REBASE_H_
