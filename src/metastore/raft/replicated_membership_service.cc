#include "metastore/raft/replicated_membership_service.h"

#include <utility>

#include "base/logging.h"
#include "base/strings.h"

namespace embers::metastore::raft {

ReplicatedMembershipService::ReplicatedMembershipService(
    Consensus* consensus, ReplicatedIndexService* proposer, const MemberTable* table,
    MemberLeaseOptions leases, std::function<bool()> ready, std::function<bool()> ready_leader)
    : consensus_(consensus),
      proposer_(proposer),
      table_(table),
      leases_(leases),
      ready_(std::move(ready)),
      ready_leader_(std::move(ready_leader)) {}

absl::Status ReplicatedMembershipService::CheckLeader() const {
  if (ready_leader_()) return absl::OkStatus();
  ConsensusStatus s = consensus_->Status();
  if (s.role == Role::kLeader) {
    return absl::UnavailableError("metastore leader elected but not caught up yet");
  }
  return NotLeaderError(s.leader_id, s.leader_address);
}

void ReplicatedMembershipService::Propose(v1::UpdateMembersCommand command, UnaryDone done) {
  v1::RaftCommand c;
  *c.mutable_update_members() = std::move(command);
  // No request id: applying the same record twice changes nothing (member_table.h).
  proposer_->Propose(std::move(c), std::move(done));
}

void ReplicatedMembershipService::Heartbeat(const CallContext& /*ctx*/,
                                            const v1::HeartbeatRequest& request,
                                            v1::HeartbeatResponse* response, UnaryDone done) {
  const v1::Member& m = request.member();
  if (absl::Status s = MemberTable::Validate(m); !s.ok()) return done(s);
  if (m.state() == v1::MEMBER_STATE_UNHEALTHY) {
    return done(absl::InvalidArgumentError("a member cannot report itself unhealthy"));
  }
  if (absl::Status s = CheckLeader(); !s.ok()) return proposer_->Redirecting(std::move(done))(s);
  response->set_lease_ms(leases_.lease_ms());
  const std::optional<v1::Member> stored = table_->Find(m.id());
  std::optional<v1::Member> change = leases_.OnHeartbeat(m, stored, proposer_->NowMs());
  if (!change.has_value()) {  // the table already holds this record: only the lease is renewed
    response->set_slot(stored->slot());
    return done(absl::OkStatus());
  }
  v1::UpdateMembersCommand command;
  *command.add_upsert() = std::move(*change);
  Propose(std::move(command),
          [this, id = m.id(), response, done = std::move(done)](absl::Status s) {
            if (s.ok()) {
              std::optional<v1::Member> stored = table_->Find(id);
              if (!stored.has_value()) return done(absl::AbortedError("member removed meanwhile"));
              response->set_slot(stored->slot());
              log::Info("membership: member registered or changed",
                        {{"id", id},
                         {"kind", v1::MemberKind_Name(stored->kind())},
                         {"state", v1::MemberState_Name(stored->state())},
                         {"slot", stored->slot()}});
            }
            done(std::move(s));
          });
}

void ReplicatedMembershipService::Leave(const CallContext& /*ctx*/, const v1::LeaveRequest& request,
                                        v1::LeaveResponse* /*response*/, UnaryDone done) {
  if (request.id().empty()) return done(absl::InvalidArgumentError("Leave: id is empty"));
  if (absl::Status s = CheckLeader(); !s.ok()) return proposer_->Redirecting(std::move(done))(s);
  if (!table_->Find(request.id()).has_value()) return done(absl::OkStatus());
  leases_.OnLeave(request.id());
  v1::UpdateMembersCommand command;
  command.add_remove(request.id());
  Propose(std::move(command), [id = request.id(), done = std::move(done)](absl::Status s) {
    if (s.ok()) log::Info("membership: member left", {{"id", id}});
    done(std::move(s));
  });
}

void ReplicatedMembershipService::WatchCluster(const CallContext& /*ctx*/,
                                               const v1::WatchClusterRequest& request,
                                               v1::ClusterView* response, UnaryDone done) {
  if (!ready_()) {
    return done(absl::UnavailableError("metastore node has not caught up with the leader"));
  }
  if (request.wait_ms() < 0) return done(absl::InvalidArgumentError("wait_ms must be >= 0"));
  const absl::Duration wait = std::min(absl::Milliseconds(request.wait_ms()), kMaxWatch);
  watch_.Wait(request.min_version(), table_->version(), absl::Now() + wait,
              [this, response, done = std::move(done)](absl::Status s) {
                if (s.ok()) {
                  *response = table_->View();
                  // Heartbeat ages live in the leader's memory only (ViewWithAges): unknown here.
                  for (v1::Member& m : *response->mutable_members()) {
                    m.set_last_heartbeat_age_ms(-1);
                  }
                }
                done(std::move(s));
              });
}

v1::ClusterView ReplicatedMembershipService::ViewWithAges() const {
  v1::ClusterView view = table_->View();
  const int64_t now = proposer_->NowMs();
  for (v1::Member& m : *view.mutable_members()) {
    m.set_last_heartbeat_age_ms(leases_.AgeMs(m.id(), now));
  }
  return view;
}

void ReplicatedMembershipService::Tick() {
  watch_.ExpireDue(absl::Now());
  if (!ready_leader_()) {
    leading_term_ = 0;
    return;
  }
  const int64_t now = proposer_->NowMs();
  const uint64_t term = consensus_->Status().term;
  if (term != leading_term_) {
    // A new leadership: nobody's heartbeat times are known here yet.
    leading_term_ = term;
    leases_.Reset(table_->View(), now);
    return;
  }
  if (expiry_in_flight_.load()) return;
  v1::UpdateMembersCommand expired = leases_.Expire(table_->View(), now);
  if (expired.upsert_size() == 0 && expired.remove_size() == 0) return;
  for (const v1::Member& m : expired.upsert()) {
    log::Warn("membership: lease expired, member marked unhealthy",
              {{"id", m.id()}, {"kind", v1::MemberKind_Name(m.kind())}});
  }
  for (const std::string& id : expired.remove()) {
    log::Info("membership: unhealthy member forgotten", {{"id", id}});
  }
  expiry_in_flight_ = true;
  Propose(std::move(expired), [this](absl::Status s) {
    if (!s.ok()) log::Warn("membership: proposing expiries failed", {{"err", s}});
    expiry_in_flight_ = false;
  });
}

}  // namespace embers::metastore::raft
