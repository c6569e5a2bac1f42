// ClusterWatch: the long-polls of WatchCluster waiting for the cluster view to change.
//
// Distributors and query-frontends ask "answer when the version is newer than v, or after
// wait_ms"; a waiter is parked here and completed by Notify() when the member table changes (the
// Raft apply thread calls it through MemberTable's change callback) or by ExpireDue() when its
// wait ends (the metastore node's loop calls it every 50 ms). No thread is held per waiter.
//
// Bounded: at most max_waiters parked at once (beyond, Wait answers ResourceExhausted); every
// waiter ends by its deadline, and CancelAll() ends them all when the node stops.
// Thread safety: all methods from any thread; callbacks run without the lock held.
#ifndef EMBERS_METASTORE_MEMBERSHIP_CLUSTER_WATCH_H_
#define EMBERS_METASTORE_MEMBERSHIP_CLUSTER_WATCH_H_

#include <cstdint>
#include <functional>
#include <list>
#include <mutex>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace embers::metastore {

class ClusterWatch {
 public:
  // Called once: OK when the version passed min_version or the wait ended, Unavailable when the
  // node stops.
  using Done = std::function<void(absl::Status)>;

  explicit ClusterWatch(size_t max_waiters = 10000) : max_waiters_(max_waiters) {}

  // Completes `done` at once when `current_version` > min_version; otherwise parks it until a
  // Notify with a newer version or `deadline`.
  void Wait(uint64_t min_version, uint64_t current_version, absl::Time deadline, Done done);
  void Notify(uint64_t version);
  void ExpireDue(absl::Time now);
  void CancelAll();
  size_t waiting() const;

 private:
  struct Waiter {
    uint64_t min_version;
    absl::Time deadline;
    Done done;
  };
  // Removes the waiters `pick` selects and completes them with `status`.
  template <class Pick>
  void Complete(Pick pick, const absl::Status& status);

  const size_t max_waiters_;
  mutable std::mutex mu_;
  std::list<Waiter> waiters_;  // guarded by mu_
  bool closed_ = false;        // guarded by mu_
};

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_MEMBERSHIP_CLUSTER_WATCH_H_
