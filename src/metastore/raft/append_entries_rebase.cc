#include "metastore/raft/append_entries_rebase.h"

#include <cstring>

// Notes gotcha 1: libraft's headers have no extern "C".
extern "C" {
#include <raft.h>
}

namespace embers::metastore::raft {

uint64_t RebaseAppendEntriesOntoSnapshot(const struct raft_log& log,
                                         struct raft_append_entries* args) {
  // Only the message libraft mishandles: the whole log (prev_log_index 0) sent to a follower
  // whose in-memory log no longer starts at entry 1. With entry 1 still present libraft
  // compares terms entry by entry and is right.
  if (args->prev_log_index != 0 || args->n_entries == 0 || log.offset == 0) return 0;
  const uint64_t snapshot_index = log.snapshot.last_index;
  if (snapshot_index == 0 || snapshot_index > args->n_entries) return 0;
  // Entry i of the message has index i + 1.
  if (args->entries[snapshot_index - 1].term != log.snapshot.last_term) return 0;

  const uint64_t dropped = snapshot_index;
  const uint64_t kept = args->n_entries - dropped;
  struct raft_entry* entries = args->entries;
  // Received entries point into batches (one per message as libraft's transport decodes them);
  // free each batch once, and only if no kept entry points into it. The searches start next to
  // the entry, where the same batch is found at once in the common case.
  auto used_by = [entries](void* batch, uint64_t begin, uint64_t end) {
    for (uint64_t j = end; j > begin; j--) {
      if (entries[j - 1].batch == batch) return true;
    }
    return false;
  };
  for (uint64_t i = 0; i < dropped; i++) {
    void* batch = entries[i].batch;
    if (batch == nullptr || used_by(batch, 0, i)) continue;
    if (!used_by(batch, dropped, args->n_entries)) raft_free(batch);
  }
  std::memmove(entries, entries + dropped, kept * sizeof(struct raft_entry));
  args->prev_log_index = snapshot_index;
  args->prev_log_term = log.snapshot.last_term;
  args->n_entries = static_cast<unsigned>(kept);
  return dropped;
}

}  // namespace embers::metastore::raft
