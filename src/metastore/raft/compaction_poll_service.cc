#include "metastore/raft/compaction_poll_service.h"

#include <algorithm>
#include <future>
#include <set>
#include <utility>
#include <vector>

#include "base/logging.h"
#include "base/strings.h"
#include "metastore/compaction/compaction_status.h"

namespace embers::metastore::raft {

namespace {

absl::Status CheckRequest(const v1::PollCompactionJobsRequest& r,
                          const CompactionServiceOptions& o) {
  auto bad = [](std::string_view what) {
    return absl::InvalidArgumentError(ToAbsl(StrCat("PollCompactionJobs: ", what)));
  };
  if (r.worker_id().empty() || r.worker_id().size() > 256) {
    return bad("worker_id must be 1 to 256 bytes");
  }
  if (r.status_updates_size() > o.max_status_updates) {
    return bad(StrCat("more than ", o.max_status_updates, " status updates"));
  }
  if (r.job_capacity() > o.max_job_capacity) {
    return bad(StrCat("job_capacity above ", o.max_job_capacity));
  }
  if (r.cleaned_tombstones_size() > 4096) return bad("more than 4096 cleaned tombstones");
  std::set<std::string_view> names;
  for (const v1::CompactionJobStatusUpdate& u : r.status_updates()) {
    if (u.name().empty()) return bad("a status update without a job name");
    if (!names.insert(u.name()).second) return bad(StrCat("job ", u.name(), " reported twice"));
    if (u.compacted_blocks().new_blocks_size() > 4096) {
      return bad(StrCat("job ", u.name(), ": more than 4096 output blocks"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

CompactionPollService::CompactionPollService(ReplicatedIndexService* service, Consensus* consensus,
                                             const BlockIndex* index, const CompactionState* state,
                                             std::function<bool()> is_ready_leader,
                                             CompactionServiceOptions options, Clock clock)
    : service_(service),
      consensus_(consensus),
      index_(index),
      state_(state),
      is_ready_leader_(std::move(is_ready_leader)),
      options_(std::move(options)),
      clock_(clock ? std::move(clock) : [service] { return service->NowMs(); }),
      thread_([this] { Loop(); }) {}

CompactionPollService::~CompactionPollService() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  thread_.join();
}

void CompactionPollService::PollCompactionJobs(const CallContext& ctx,
                                               const v1::PollCompactionJobsRequest& request,
                                               v1::PollCompactionJobsResponse* response,
                                               UnaryDone done) {
  if (absl::Status s = CheckRequest(request, options_); !s.ok()) return done(s);
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_) return done(absl::UnavailableError("the metastore is stopping"));
  if (pending_.size() + held_.size() >= options_.max_pending_polls) {
    lock.unlock();
    return done(absl::UnavailableError(
        StrCat("compaction planner busy: ", options_.max_pending_polls, " polls waiting")));
  }
  // Held no longer than asked, than the leader allows, or than leaves the caller time to get the
  // answer before its deadline.
  absl::Time hold_until = absl::InfinitePast();
  if (request.max_wait_ms() > 0 && request.job_capacity() > 0) {
    const absl::Time now = absl::Now();
    hold_until =
        std::min({now + std::min(absl::Milliseconds(request.max_wait_ms()), options_.max_poll_wait),
                  ctx.deadline - absl::Milliseconds(100)});
  }
  pending_.push_back({.request = &request,
                      .response = response,
                      .done = service_->Redirecting(std::move(done)),
                      .hold_until = hold_until});
  cv_.notify_one();
}

void CompactionPollService::Loop() {
  for (;;) {
    std::vector<Poll> due;
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto ready = [this] { return stopping_ || !pending_.empty(); };
      if (held_.empty()) {
        cv_.wait(lock, ready);
      } else {
        cv_.wait_for(lock, absl::ToChronoNanoseconds(options_.held_poll_recheck), ready);
      }
      if (stopping_) {
        std::deque<Poll> rest = std::move(pending_);
        for (Poll& p : held_) rest.push_back(std::move(p));
        held_.clear();
        lock.unlock();
        for (Poll& p : rest) p.done(absl::UnavailableError("the metastore is stopping"));
        return;
      }
      if (!pending_.empty()) {
        due.push_back(std::move(pending_.front()));
        pending_.pop_front();
      }
      // Held polls are planned again once the state changed, and answered when their time is up.
      const uint64_t generation = state_->Generation();
      const absl::Time now = absl::Now();
      for (auto it = held_.begin(); it != held_.end();) {
        if (it->planned_generation != generation || now >= it->hold_until) {
          due.push_back(std::move(*it));
          it = held_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (Poll& p : due) Answer(std::move(p));
  }
}

void CompactionPollService::Answer(Poll poll) {
  // Read before planning: a change from here on plans the poll again.
  const uint64_t generation = state_->Generation();
  bool idle = false;
  absl::Status s = Handle(*poll.request, poll.response, &idle);
  if (s.ok() && idle && absl::Now() < poll.hold_until) {
    poll.planned_generation = generation;
    poll.response->Clear();
    std::lock_guard<std::mutex> lock(mu_);
    held_.push_back(std::move(poll));
    return;
  }
  if (!s.ok()) poll.response->Clear();
  poll.done(std::move(s));
}

absl::Status CompactionPollService::Handle(const v1::PollCompactionJobsRequest& request,
                                           v1::PollCompactionJobsResponse* response, bool* idle) {
  if (!is_ready_leader_()) {
    ConsensusStatus st = consensus_->Status();
    return NotLeaderError(st.leader_id == st.node_id ? 0 : st.leader_id, st.leader_address);
  }
  const int64_t now_ms = clock_();
  CompactionPlan plan = PlanCompaction(*state_->Capture(), request, now_ms, options_.planner);
  for (const std::string& name : request.cleaned_tombstones()) {
    plan.update.add_deleted_tombstones(name);
    cleanup_leases_.erase(name);
  }
  HandOutCleanup(request, now_ms, response);

  if (!plan.empty()) {
    v1::RaftCommand command;
    *command.mutable_update_compaction_plan()->mutable_plan() = plan.update;
    // No request id: every element applies conditionally, so applying a plan twice is harmless.
    std::promise<absl::Status> applied;
    std::future<absl::Status> f = applied.get_future();
    service_->Propose(std::move(command), [&applied](absl::Status s) { applied.set_value(s); });
    absl::Status s = f.get();
    if (!s.ok()) return s;
  }

  // Answer from the state as applied: the jobs this worker holds now, with their tokens.
  std::shared_ptr<const CompactionStateView> after = state_->Capture();
  std::map<std::string_view, uint64_t> expected;
  for (const v1::CompactionJobAssign& a : plan.update.assigned()) {
    expected[a.name()] = a.expected_token();
  }
  auto holds = [&](const std::string& name) -> const v1::CompactionJobState* {
    auto it = after->jobs.find(name);
    if (it == after->jobs.end()) return nullptr;
    const v1::CompactionJobState& j = *it->second;
    if (j.status() != v1::COMPACTION_STATUS_IN_PROGRESS || j.worker() != request.worker_id()) {
      return nullptr;
    }
    return &j;
  };
  auto assign = [&](const v1::CompactionJobState& j) {
    v1::CompactionJobAssignment* a = response->add_assignments();
    a->set_name(j.name());
    a->set_token(j.token());
    a->set_lease_expires_at(j.lease_expires_at());
  };
  for (const std::string& name : plan.kept) {
    if (const v1::CompactionJobState* j = holds(name)) assign(*j);
  }
  // Jobs assigned now, and jobs this worker holds but did not report: the answer that assigned
  // them was lost (a timed-out poll that was applied anyway), so they are handed out again.
  std::vector<const v1::CompactionJobState*> handed;
  for (const std::string& name : plan.assigned) {
    const v1::CompactionJobState* j = holds(name);
    if (j != nullptr && j->token() != expected[name]) handed.push_back(j);
  }
  std::set<std::string_view> known(plan.assigned.begin(), plan.assigned.end());
  for (const v1::CompactionJobStatusUpdate& u : request.status_updates()) known.insert(u.name());
  for (const auto& [name, job] : after->jobs) {
    if (!known.contains(name) && holds(name) != nullptr) handed.push_back(job.get());
  }
  for (const v1::CompactionJobState* j : handed) {
    assign(*j);
    v1::CompactionJob* job = response->add_compaction_jobs();
    job->set_name(j->name());
    job->set_shard(j->shard());
    job->set_tenant(j->tenant());
    job->set_compaction_level(j->compaction_level());
    *job->mutable_source_blocks() = j->source_blocks();
    v1::GetBlockMetadataRequest req;
    req.mutable_blocks()->set_tenant(j->tenant());
    req.mutable_blocks()->set_shard(j->shard());
    *req.mutable_blocks()->mutable_blocks() = j->source_blocks();
    absl::StatusOr<v1::GetBlockMetadataResponse> metas = index_->GetBlockMetadata(req);
    if (metas.ok()) *job->mutable_source_metas() = std::move(*metas->mutable_blocks());
  }
  *idle = plan.empty() && request.status_updates().empty() && response->assignments().empty() &&
          response->cleanup().empty();
  return absl::OkStatus();
}

void CompactionPollService::HandOutCleanup(const v1::PollCompactionJobsRequest& request,
                                           int64_t now_ms,
                                           v1::PollCompactionJobsResponse* response) {
  std::erase_if(cleanup_leases_, [now_ms](const auto& e) { return e.second <= now_ms; });
  const uint32_t capacity = std::min(request.cleanup_capacity(), options_.max_cleanup_capacity);
  if (capacity == 0) return;
  const int64_t delay = absl::ToInt64Milliseconds(options_.cleanup_delay);
  const int64_t lease = absl::ToInt64Milliseconds(options_.cleanup_lease);
  std::set<std::string_view> cleaned(request.cleaned_tombstones().begin(),
                                     request.cleaned_tombstones().end());
  for (v1::BlockTombstones& t : index_->Tombstones()) {  // oldest first
    if (static_cast<uint32_t>(response->cleanup_size()) >= capacity) break;
    if (t.created_at() + delay > now_ms) continue;
    if (cleaned.contains(t.name()) || cleanup_leases_.contains(t.name())) continue;
    cleanup_leases_[t.name()] = now_ms + lease;
    *response->add_cleanup() = std::move(t);
  }
}

void CompactionPollService::GetCompactionStatus(const CallContext& /*ctx*/,
                                                const v1::GetCompactionStatusRequest& request,
                                                v1::GetCompactionStatusResponse* response,
                                                UnaryDone done) {
  *response->mutable_status() = Status();
  if (request.include_tombstones()) {
    // Bounded by what compaction and retention replace within one cleanup delay.
    for (v1::BlockTombstones& t : index_->Tombstones()) {
      *response->mutable_status()->add_tombstoned() = std::move(t);
    }
  }
  done(absl::OkStatus());
}

v1::CompactionStatus CompactionPollService::Status() const {
  return CompactionStatusOf(*state_->Capture(), *index_, clock_());
}

}  // namespace embers::metastore::raft
