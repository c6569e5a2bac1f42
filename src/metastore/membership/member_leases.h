// MemberLeases: the leader's record of when it last heard from each member, and the decisions
// that follow from it — which heartbeats must be replicated and which members have expired.
//
// Renewing a lease is not replicated (a heartbeat a second from every member would otherwise be
// a Raft entry each): only a heartbeat that changes the member's record (a new member, a new
// state, address or token count, or an UNHEALTHY member coming back) becomes an
// UpdateMembersCommand. The leader's loop asks Expire() which members to mark UNHEALTHY (no
// heartbeat for a lease) and which to forget (UNHEALTHY for forget_after; their slot is freed).
//
// After an election the new leader has no heartbeat times: Reset() gives every member in the
// replicated table a full lease from the moment of the election, so a leader change never
// expires anyone who keeps heartbeating.
//
// Bounded by the member table: entries for ids that are not in the table are dropped by Expire().
// Thread safety: all methods may be called from any thread.
#ifndef EMBERS_METASTORE_MEMBERSHIP_MEMBER_LEASES_H_
#define EMBERS_METASTORE_MEMBERSHIP_MEMBER_LEASES_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "metastore/v1/membership.pb.h"

namespace embers::metastore {

namespace v1 = ::metastore::v1;

struct MemberLeaseOptions {
  // -membership.lease-duration: a member that sent no heartbeat for this long is UNHEALTHY.
  absl::Duration lease = absl::Seconds(5);
  // -membership.forget-after: an UNHEALTHY member is removed (its slot freed) after this long.
  absl::Duration forget_after = absl::Minutes(10);
};

class MemberLeases {
 public:
  explicit MemberLeases(MemberLeaseOptions options = {}) : options_(options) {}

  // Renews `incoming`'s lease. Returns the record to replicate, or nullopt when `stored` (the
  // table's current record for that id, if any) already says the same.
  std::optional<v1::Member> OnHeartbeat(const v1::Member& incoming,
                                        const std::optional<v1::Member>& stored, int64_t now_ms);
  // Forgets a member that left gracefully.
  void OnLeave(const std::string& id);

  // What the table `view` needs at `now_ms`: UNHEALTHY upserts for expired leases, removals for
  // members UNHEALTHY longer than forget_after. Empty when nothing is due.
  v1::UpdateMembersCommand Expire(const v1::ClusterView& view, int64_t now_ms);

  // A new leadership: every member of `view` starts a full lease at now_ms.
  void Reset(const v1::ClusterView& view, int64_t now_ms);

  // ms since the member's last heartbeat (-1: none seen by this leader).
  int64_t AgeMs(const std::string& id, int64_t now_ms) const;
  int64_t lease_ms() const { return absl::ToInt64Milliseconds(options_.lease); }

 private:
  const MemberLeaseOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, int64_t> last_heartbeat_ms_;  // guarded by mu_
};

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_MEMBERSHIP_MEMBER_LEASES_H_
