#include "metastore/client/cluster_watcher.h"

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"
#include "base/logging.h"
#include "base/metrics.h"

namespace embers::metastore {
namespace {

// What this process's view of the cluster is: operators compare versions across processes (one
// lagging behind the metastore's is a watcher that cannot reach it), and the member counts by
// kind and state say what placement works with.
void ExportView(const v1::ClusterView& view) {
  static auto& version = metrics::Registry::Global().Gauge(
      "embers_cluster_view_version",
      "Version (Raft index of the last membership or placement change) of the cluster view this "
      "process uses.",
      {});
  static auto& members = metrics::Registry::Global().Gauge(
      "embers_cluster_view_members", "Members in this process's cluster view, by kind and state.",
      {"kind", "state"});
  version.WithLabels({}).Set(static_cast<double>(view.version()));
  for (int k = v1::MemberKind_MIN; k <= v1::MemberKind_MAX; k++) {
    for (int st = v1::MemberState_MIN; st <= v1::MemberState_MAX; st++) {
      if (k == v1::MEMBER_KIND_UNSPECIFIED || st == v1::MEMBER_STATE_UNSPECIFIED) continue;
      int n = 0;
      for (const v1::Member& m : view.members()) n += m.kind() == k && m.state() == st;
      members
          .WithLabels({v1::MemberKind_Name(static_cast<v1::MemberKind>(k)).substr(12),
                       v1::MemberState_Name(static_cast<v1::MemberState>(st)).substr(13)})
          .Set(n);
    }
  }
}

}  // namespace

ClusterWatcher::ClusterWatcher(MembershipService* service, absl::Duration wait)
    : service_(service), wait_(wait) {}

ClusterWatcher::~ClusterWatcher() { Stop(); }

void ClusterWatcher::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void ClusterWatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const v1::ClusterView> ClusterWatcher::view() const {
  std::lock_guard<std::mutex> lock(mu_);
  return view_;
}

void ClusterWatcher::Loop() {
  // The exchange outlives a stop that leaves its call still waiting in the client.
  struct Exchange {
    v1::WatchClusterRequest request;
    v1::ClusterView response;
    bool finished = false;
    absl::Status status;
  };
  absl::Duration backoff = absl::Milliseconds(100);
  bool failing = false;
  uint64_t older_answers = 0;
  for (;;) {
    auto x = std::make_shared<Exchange>();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
      x->request.set_min_version(view_ ? view_->version() : 0);
      // The first view is wanted at once.
      x->request.set_wait_ms(view_ ? absl::ToInt64Milliseconds(wait_) : 0);
    }
    CallContext ctx;
    ctx.deadline = absl::Now() + wait_ + absl::Seconds(20);
    service_->WatchCluster(ctx, x->request, &x->response, [this, x](absl::Status s) {
      std::lock_guard<std::mutex> lock(mu_);
      x->status = std::move(s);
      x->finished = true;
      cv_.notify_all();
    });
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || x->finished; });
      if (stop_) return;
    }
    if (!x->status.ok()) {
      if (!failing)
        log::Warn("membership: watching the cluster failed; retrying", {{"err", x->status}});
      failing = true;
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_for(lock, absl::ToChronoMilliseconds(backoff), [this] { return stop_; })) return;
      backoff = std::min(backoff * 2, absl::Seconds(2));
      continue;
    }
    if (failing) log::Info("membership: watching the cluster again");
    failing = false;
    backoff = absl::Milliseconds(100);
    std::shared_ptr<const v1::ClusterView> current = view();
    if (current != nullptr) {
      if (x->response.version() == current->version()) continue;
      if (x->response.version() < current->version() && ++older_answers < 2) continue;
    }
    older_answers = 0;
    auto next = std::make_shared<const v1::ClusterView>(std::move(x->response));
    {
      std::lock_guard<std::mutex> lock(mu_);
      view_ = next;
    }
    log::Debug("membership: new cluster view", {{"version", next->version()}});
    ExportView(*next);
    for (const Listener& l : listeners_) l(*next);
  }
}

}  // namespace embers::metastore
