// MemberTable: the cluster's members (segment-writers, query-backends, compaction-workers) and
// the placement rules, as every metastore replica holds them.
//
// MetastoreFsm applies UpdateMembersCommand and SetPlacementRulesCommand to one of these on
// every replica, so the table is identical everywhere and part of each snapshot's header. The
// leader's MemberLeases decides which commands to propose; WatchCluster answers from View().
//
// A member keeps a slot: the lowest free one among members of its kind when it first registers.
// A segment-writer in slot k owns shards [k × tokens, (k + 1) × tokens), so slots are what keep
// shard ids stable: a crashed writer stays in the table as UNHEALTHY (its slot reserved, its
// shards served by the next writers) until it restarts under the same id or is forgotten.
//
// Version: the Raft index of the last change to members or rules. Every replica computes the
// same one, and it only grows across leaders, so watchers can long-poll "newer than v".
//
// Bounds: at most kMaxMembers members; ids and addresses at most 256 bytes; 1024 tokens.
//
// Thread safety: Apply*/Install from the Raft apply thread; reads from any thread. The change
// callback runs on the applying thread after the table's lock is released.
#ifndef EMBERS_METASTORE_MEMBERSHIP_MEMBER_TABLE_H_
#define EMBERS_METASTORE_MEMBERSHIP_MEMBER_TABLE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "metastore/v1/membership.pb.h"
#include "metastore/v1/raft_log.pb.h"

namespace embers::metastore {

namespace v1 = ::metastore::v1;

class MemberTable {
 public:
  static constexpr size_t kMaxMembers = 4096;
  static constexpr size_t kMaxFieldBytes = 256;
  static constexpr uint32_t kMaxTokens = 1024;

  // The checks that need no state (id, kind, state, address, tokens): InvalidArgument. The
  // leader runs them before proposing, so a bad heartbeat never reaches the Raft log.
  static absl::Status Validate(const v1::Member& member);

  // Applies the command at Raft index `index`: upserts (a new id gets the lowest free slot of its
  // kind; a known one keeps its slot unless its kind changed), then removals. Nothing changes when
  // any upsert is invalid or the table would exceed kMaxMembers.
  absl::Status Apply(const v1::UpdateMembersCommand& command, int64_t leader_time_ms,
                     uint64_t index);
  absl::Status ApplyRules(const v1::PlacementRules& rules, uint64_t index);

  // Members sorted by (kind, slot), the rules and the version.
  v1::ClusterView View() const;
  uint64_t version() const;
  std::optional<v1::Member> Find(std::string_view id) const;
  v1::PlacementRules rules() const;

  // Snapshots: the table into a header; a header's table checked, then installed.
  struct Decoded {
    std::map<std::string, v1::Member, std::less<>> members;
    v1::PlacementRules rules;
    uint64_t version = 0;
  };
  void AppendTo(v1::RaftSnapshotHeader* header) const;
  static absl::StatusOr<Decoded> Decode(const v1::RaftSnapshotHeader& header);
  void Install(Decoded decoded);

  // Called with the new version after every change (set once, before the node starts).
  void SetOnChange(std::function<void(uint64_t version)> on_change) {
    on_change_ = std::move(on_change);
  }

 private:
  uint32_t LowestFreeSlot(v1::MemberKind kind) const;  // mu_ held
  void Changed(uint64_t version);

  mutable std::mutex mu_;
  std::map<std::string, v1::Member, std::less<>> members_;  // by id; guarded by mu_
  v1::PlacementRules rules_;                                // guarded by mu_
  uint64_t version_ = 0;                                    // guarded by mu_
  std::function<void(uint64_t)> on_change_;
};

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_MEMBERSHIP_MEMBER_TABLE_H_
