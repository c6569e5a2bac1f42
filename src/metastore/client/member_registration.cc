#include "metastore/client/member_registration.h"

#include <future>
#include <memory>
#include <utility>

#include "absl/time/clock.h"
#include "base/logging.h"

namespace embers::metastore {

MemberRegistration::MemberRegistration(MembershipService* service,
                                       MemberRegistrationOptions options)
    : service_(service), options_(std::move(options)) {}

MemberRegistration::~MemberRegistration() { StopLoop(); }

void MemberRegistration::Start() {
  thread_ = std::thread([this] { Loop(); });
}

absl::Status MemberRegistration::SendHeartbeat(v1::MemberState state, absl::Time deadline) {
  struct Exchange {
    v1::HeartbeatRequest request;
    v1::HeartbeatResponse response;
    std::promise<absl::Status> result;
  };
  auto x = std::make_shared<Exchange>();
  *x->request.mutable_member() = options_.member;
  x->request.mutable_member()->set_state(state);
  CallContext ctx;
  ctx.deadline = deadline;
  std::future<absl::Status> f = x->result.get_future();
  service_->Heartbeat(ctx, x->request, &x->response,
                      [x](absl::Status s) { x->result.set_value(std::move(s)); });
  absl::Status s = f.get();
  if (s.ok()) {
    slot_ = x->response.slot();
    registered_ = true;
  }
  return s;
}

void MemberRegistration::Loop() {
  bool failing = false;
  for (;;) {
    absl::Status s = SendHeartbeat(state_.load(), absl::Now() + options_.interval * 3);
    if (!s.ok() && !failing) {
      log::Warn("membership: heartbeat to the metastore failed; retrying",
                {{"id", options_.member.id()}, {"err", s}});
    } else if (s.ok() && failing) {
      log::Info("membership: heartbeats accepted again", {{"id", options_.member.id()}});
    }
    failing = !s.ok();
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, absl::ToChronoMilliseconds(options_.interval), [this] { return stop_; }))
      return;
  }
}

absl::Status MemberRegistration::SetLeaving(absl::Time deadline) {
  state_ = v1::MEMBER_STATE_LEAVING;  // later heartbeats keep saying so
  absl::Status s;
  for (;;) {
    s = SendHeartbeat(v1::MEMBER_STATE_LEAVING, deadline);
    if (s.ok() || absl::Now() >= deadline) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return s;
}

void MemberRegistration::StopLoop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

absl::Status MemberRegistration::Leave(absl::Time deadline) {
  StopLoop();
  if (!registered_.exchange(false)) return absl::OkStatus();
  struct Exchange {
    v1::LeaveRequest request;
    v1::LeaveResponse response;
    std::promise<absl::Status> result;
  };
  auto x = std::make_shared<Exchange>();
  x->request.set_id(options_.member.id());
  CallContext ctx;
  ctx.deadline = deadline;
  std::future<absl::Status> f = x->result.get_future();
  service_->Leave(ctx, x->request, &x->response,
                  [x](absl::Status s) { x->result.set_value(std::move(s)); });
  absl::Status s = f.get();
  if (!s.ok()) {
    log::Warn("membership: leaving failed; the lease will expire instead",
              {{"id", options_.member.id()}, {"err", s}});
  }
  return s;
}

}  // namespace embers::metastore
