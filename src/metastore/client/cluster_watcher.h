// ClusterWatcher: this process's copy of the cluster view (members and placement rules), kept
// current by long-polling the metastore's WatchCluster.
//
// Distributors (segment-writers to place pushes on) and query-frontends (query-backends to send
// plans to) start one and rebuild their client lists in a listener, so a member that joins,
// leaves or expires is seen within one Raft commit plus one round trip. A failed watch is retried
// with a backoff (100 ms doubling to 2 s); the last view stays in use meanwhile.
//
// Views only move forward: a view older than the one held (a lagging metastore answered) is used
// only when two answers in a row say so, which is what a metastore restarted from scratch looks
// like.
//
// Threading: one thread of its own; listeners run on it, one at a time.
#ifndef EMBERS_METASTORE_CLIENT_CLUSTER_WATCHER_H_
#define EMBERS_METASTORE_CLIENT_CLUSTER_WATCHER_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "metastore/membership/membership_service.h"

namespace embers::metastore {

class ClusterWatcher {
 public:
  using Listener = std::function<void(const v1::ClusterView&)>;

  // `service` must outlive the watcher. `wait`: how long each long-poll may wait.
  explicit ClusterWatcher(MembershipService* service, absl::Duration wait = absl::Seconds(10));
  ~ClusterWatcher();  // Stop()s

  // Before Start().
  void AddListener(Listener listener) { listeners_.push_back(std::move(listener)); }
  void Start();
  void Stop();

  // The latest view (null before the first answer).
  std::shared_ptr<const v1::ClusterView> view() const;

 private:
  void Loop();

  MembershipService* service_;
  const absl::Duration wait_;
  std::vector<Listener> listeners_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                            // guarded by mu_
  std::shared_ptr<const v1::ClusterView> view_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_CLIENT_CLUSTER_WATCHER_H_
