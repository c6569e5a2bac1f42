// ProfileDedup: the profiles one query has counted, so that a profile stored twice — a client
// that retried a push whose acknowledgement it did not get — counts once.
//
// Compaction keeps one copy of such a profile (block/profile_identity.h defines when two stored
// profiles are the same push); until then both copies sit in the level-0 segments, usually in
// different objects. The query-backend drops every selected row whose identity it has seen
// before in the same call, so a query answers the same before and after compaction. The scope of
// one call must include every object compaction de-duplicates across, i.e. all the blocks of a
// shard: the in-process backend runs a whole query in one call; RemoteQueryBackend splits a query
// among backends by shard.
//
// Shared by the read tasks of one QueryBackend call (thread-safe, sharded locks). Its memory is
// charged to the query like its reports (-query-backend.max-query-memory).
#ifndef EMBERS_QUERY_PROFILE_DEDUP_H_
#define EMBERS_QUERY_PROFILE_DEDUP_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "block/profile_identity.h"
#include "query/query_memory.h"

namespace embers::query {

class ProfileDedup {
 public:
  // `memory` (may be null) is the query's running total of held bytes; Charge() adds this set's
  // growth to it and fails once it passes `limit` (0 = unlimited).
  ProfileDedup(std::atomic<int64_t>* memory, int64_t limit) : charge_(limit, memory) {}
  ProfileDedup(const ProfileDedup&) = delete;
  ProfileDedup& operator=(const ProfileDedup&) = delete;

  // True the first time `key` is seen in this call.
  bool FirstSeen(const block::ProfileKey& key);
  // Charges the keys added since the last call; ResourceExhausted over the query's limit.
  absl::Status Charge();

 private:
  static constexpr size_t kShards = 16;
  // Bytes a key costs in a flat_hash_set (slot plus control byte, at the default load factor).
  static constexpr int64_t kBytesPerKey = (sizeof(block::ProfileKey) + 1) * 8 / 7;
  struct Shard {
    std::mutex mu;
    absl::flat_hash_set<block::ProfileKey> keys;
  };
  std::array<Shard, kShards> shards_;
  std::atomic<int64_t> keys_{0};
  std::mutex charge_mu_;
  MemoryCharge charge_;  // guarded by charge_mu_
};

}  // namespace embers::query

#endif  // EMBERS_QUERY_PROFILE_DEDUP_H_
