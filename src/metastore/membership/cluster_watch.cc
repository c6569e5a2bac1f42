#include "metastore/membership/cluster_watch.h"

#include <utility>
#include <vector>

#include "base/strings.h"

namespace embers::metastore {

void ClusterWatch::Wait(uint64_t min_version, uint64_t current_version, absl::Time deadline,
                        Done done) {
  if (current_version > min_version || deadline <= absl::Now()) return done(absl::OkStatus());
  absl::Status refused;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) {
      refused = absl::UnavailableError("the metastore node is stopping");
    } else if (waiters_.size() >= max_waiters_) {
      refused = absl::ResourceExhaustedError(
          StrCat("more than ", max_waiters_, " cluster watches waiting"));
    } else {
      waiters_.push_back(Waiter{min_version, deadline, std::move(done)});
      return;
    }
  }
  done(refused);
}

template <class Pick>
void ClusterWatch::Complete(Pick pick, const absl::Status& status) {
  std::vector<Done> ready;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (pick(*it)) {
        ready.push_back(std::move(it->done));
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (Done& d : ready) d(status);
}

void ClusterWatch::Notify(uint64_t version) {
  Complete([version](const Waiter& w) { return version > w.min_version; }, absl::OkStatus());
}

void ClusterWatch::ExpireDue(absl::Time now) {
  Complete([now](const Waiter& w) { return w.deadline <= now; }, absl::OkStatus());
}

void ClusterWatch::CancelAll() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  Complete([](const Waiter&) { return true; },
           absl::UnavailableError("the metastore node is stopping"));
}

size_t ClusterWatch::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiters_.size();
}

}  // namespace embers::metastore
