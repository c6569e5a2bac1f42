// MemberRegistration: keeps this process registered in the cluster's member table.
//
// Segment-writers, query-backends and compaction-workers (their modules in src/server/app.cc)
// start one once they can take work: it sends a Heartbeat at once and then every `interval`, so
// the metastore leader renews the member's lease (member_leases.h). Graceful shutdown is two
// steps: SetLeaving() replicates the LEAVING state (distributors then send the member nothing
// new, while its shards stay where they are), and Leave() stops the heartbeats and removes the
// member. A heartbeat that fails is logged (once per failure streak) and retried on the next tick;
// the member stays in the table as long as its lease has not run out.
//
// Threading: one thread of its own; methods from any thread.
#ifndef EMBERS_METASTORE_CLIENT_MEMBER_REGISTRATION_H_
#define EMBERS_METASTORE_CLIENT_MEMBER_REGISTRATION_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "metastore/membership/membership_service.h"

namespace embers::metastore {

struct MemberRegistrationOptions {
  // id, kind, address and tokens (state and slot are the registration's).
  v1::Member member;
  // -membership.heartbeat-interval.
  absl::Duration interval = absl::Seconds(1);
};

class MemberRegistration {
 public:
  // `service` must outlive the registration.
  MemberRegistration(MembershipService* service, MemberRegistrationOptions options);
  ~MemberRegistration();  // stops the heartbeats without leaving (a crash-like stop)

  void Start();
  // Replicates LEAVING; returns once the leader accepted it or at `deadline`.
  absl::Status SetLeaving(absl::Time deadline);
  // Stops the heartbeats and removes the member (until `deadline`). Idempotent.
  absl::Status Leave(absl::Time deadline);

  // A heartbeat has been accepted (the member is in the table).
  bool registered() const { return registered_.load(); }
  uint32_t slot() const { return slot_.load(); }

 private:
  void Loop();
  absl::Status SendHeartbeat(v1::MemberState state, absl::Time deadline);
  void StopLoop();

  MembershipService* service_;
  const MemberRegistrationOptions options_;
  std::atomic<v1::MemberState> state_{v1::MEMBER_STATE_ACTIVE};
  std::atomic<bool> registered_{false};
  std::atomic<uint32_t> slot_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_CLIENT_MEMBER_REGISTRATION_H_
