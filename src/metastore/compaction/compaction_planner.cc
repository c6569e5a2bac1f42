#include "metastore/compaction/compaction_planner.h"

#include <algorithm>
#include <set>
#include <span>

#include "base/strings.h"

namespace embers::metastore {

namespace {

std::string_view TenantOf(const v1::BlockMeta& b) {
  return b.tenant() > 0 && b.tenant() < b.string_table_size() ? b.string_table(b.tenant())
                                                              : std::string_view();
}

int64_t Ms(absl::Duration d) { return absl::ToInt64Milliseconds(d); }

}  // namespace

bool CompactionPlan::empty() const {
  const v1::CompactionPlanUpdate& u = update;
  return u.new_jobs().empty() && u.assigned().empty() && u.renewed().empty() &&
         u.completed().empty() && u.failed().empty() && u.deleted_tombstones().empty();
}

absl::Status ValidateCompactionOutputs(
    const v1::CompactionJobState& job,
    const google::protobuf::RepeatedPtrField<v1::BlockMeta>& outputs) {
  std::set<std::string> ids;
  for (const v1::BlockMeta& b : outputs) {
    if (absl::Status s = BlockIndex::ValidateBlock(b); !s.ok()) return s;
    std::string_view tenant = TenantOf(b);
    auto bad = [&](std::string_view what) {
      return absl::InvalidArgumentError(
          ToAbsl(StrCat("job ", job.name(), ": output block ", b.id(), ": ", what)));
    };
    if (b.shard() != job.shard()) return bad(StrCat("shard ", b.shard(), " is not the job's"));
    if (b.compaction_level() != job.compaction_level() + 1) {
      return bad(StrCat("level ", b.compaction_level(), ", want ", job.compaction_level() + 1));
    }
    if (tenant.empty()) return bad("a compacted block must name its tenant");
    if (!job.tenant().empty() && tenant != job.tenant()) {
      return bad(StrCat("tenant \"", tenant, "\" in a job of tenant \"", job.tenant(), "\""));
    }
    if (!ids.insert(b.id()).second) return bad("reported twice");
    if (b.datasets_size() == 0) return bad("no datasets");
  }
  return absl::OkStatus();
}

CompactionPlan PlanCompaction(const CompactionStateView& state,
                              const v1::PollCompactionJobsRequest& request, int64_t now_ms,
                              const CompactionPlannerOptions& options) {
  CompactionPlan plan;
  v1::CompactionPlanUpdate& u = plan.update;
  const int64_t lease = Ms(options.lease_duration);
  auto find_job = [&](const std::string& name) -> const v1::CompactionJobState* {
    auto it = state.jobs.find(name);
    return it == state.jobs.end() ? nullptr : it->second.get();
  };
  std::set<std::string> handled;  // jobs this plan already decides on

  // 1. The worker's reports, taken only from the holder of the current token.
  for (const v1::CompactionJobStatusUpdate& s : request.status_updates()) {
    const v1::CompactionJobState* job = find_job(s.name());
    if (job == nullptr || job->token() != s.token() ||
        job->status() != v1::COMPACTION_STATUS_IN_PROGRESS || !handled.insert(s.name()).second) {
      continue;  // reassigned or gone: left out of the answer, so the worker abandons it
    }
    auto fail = [&](const std::string& error) {
      v1::CompactionJobFailed* f = u.add_failed();
      f->set_name(job->name());
      f->set_token(job->token());
      f->set_failures(job->failures() + 1);
      f->set_park(job->failures() + 1 >= options.max_failures);
      f->set_error(error);
      f->set_retry_after(now_ms + Ms(options.failure_backoff) * (job->failures() + 1));
    };
    switch (s.status()) {
      case v1::COMPACTION_STATUS_IN_PROGRESS:
        // Renew when less than half the lease is left (a poll a second would otherwise write a
        // Raft entry per job per second).
        if (job->lease_expires_at() - now_ms < lease / 2) {
          v1::CompactionJobLease* l = u.add_renewed();
          l->set_name(job->name());
          l->set_token(job->token());
          l->set_lease_expires_at(now_ms + lease);
        }
        plan.kept.push_back(job->name());
        break;
      case v1::COMPACTION_STATUS_SUCCESS: {
        absl::Status valid = ValidateCompactionOutputs(*job, s.compacted_blocks().new_blocks());
        if (!valid.ok()) {
          fail(StrCat("rejected outputs: ", ToStd(valid.message())));
          break;
        }
        v1::CompactionJobCompleted* c = u.add_completed();
        c->set_name(job->name());
        c->set_token(job->token());
        *c->mutable_new_blocks() = s.compacted_blocks().new_blocks();
        break;
      }
      case v1::COMPACTION_STATUS_FAILURE:
        fail(s.error().empty() ? "the worker reported a failure" : s.error());
        break;
      default:
        break;  // UNSPECIFIED: nothing to report
    }
  }

  // 2. Expired leases: a failure each; parked at the limit, reassignable otherwise.
  struct Candidate {
    uint32_t level;
    int64_t order;  // seq for queued jobs, lease expiry for expired ones
    bool expired;
    const v1::CompactionJobState* job;
  };
  std::vector<Candidate> candidates;
  size_t jobs = state.jobs.size();
  for (const auto& [name, job] : state.jobs) {
    if (handled.contains(name)) continue;
    if (job->status() == v1::COMPACTION_STATUS_IN_PROGRESS && job->lease_expires_at() <= now_ms) {
      if (job->failures() + 1 >= options.max_failures) {
        v1::CompactionJobFailed* f = u.add_failed();
        f->set_name(name);
        f->set_token(job->token());
        f->set_failures(job->failures() + 1);
        f->set_park(true);
        f->set_error(StrCat("lease expired on worker ", job->worker()));
        handled.insert(name);
        continue;
      }
      candidates.push_back({job->compaction_level(), job->lease_expires_at(), true, job.get()});
    } else if (job->status() == v1::COMPACTION_STATUS_UNSPECIFIED &&
               job->lease_expires_at() <= now_ms) {
      candidates.push_back(
          {job->compaction_level(), static_cast<int64_t>(job->seq()), false, job.get()});
    }
  }

  // 3. New jobs from the batches (keys order by level first).
  std::vector<v1::CompactionJobState> fresh;
  for (const auto& [key, batch] : state.batches) {
    if (jobs >= options.max_jobs || fresh.size() >= options.max_new_jobs_per_poll) break;
    const uint32_t level = std::min(key.level, kMaxCompactionLevel - 1);
    const size_t max_blocks = std::max<uint32_t>(2, options.max_blocks[level]);
    std::span<const QueuedBlock> rest(*batch);
    while (!rest.empty() && jobs < options.max_jobs &&
           fresh.size() < options.max_new_jobs_per_poll) {
      // A full job: max_blocks blocks, or fewer holding max_bytes.
      size_t take = 0;
      uint64_t bytes = 0;
      while (take < rest.size() && take < max_blocks && bytes < options.max_bytes[level]) {
        bytes += rest[take++].size;
      }
      const bool full = take == max_blocks || bytes >= options.max_bytes[level];
      // Otherwise `take` is the whole rest: a smaller job once its oldest block waited enough.
      if (!full && now_ms - rest.front().added_at_ms < Ms(options.max_age[level])) break;
      std::span<const QueuedBlock> blocks = rest.first(take);
      rest = rest.subspan(take);
      fresh.push_back(CompactionState::NewJob(key, blocks));
      ++jobs;
    }
  }
  for (size_t i = 0; i < fresh.size(); ++i) {
    // Ordered after every existing job of its level (its seq is assigned when applied).
    candidates.push_back(
        {fresh[i].compaction_level(), static_cast<int64_t>(state.next_seq + i), false, &fresh[i]});
  }

  // 4. Assignment: lowest level first; queued jobs (oldest first) before expired ones.
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    if (a.level != b.level) return a.level < b.level;
    if (a.expired != b.expired) return !a.expired;
    if (a.order != b.order) return a.order < b.order;
    return a.job->name() < b.job->name();
  });
  const size_t capacity = request.job_capacity();
  for (const Candidate& c : candidates) {
    if (plan.assigned.size() >= capacity) break;
    v1::CompactionJobAssign* a = u.add_assigned();
    a->set_name(c.job->name());
    a->set_expected_token(c.job->token());
    a->set_worker(request.worker_id());
    a->set_lease_expires_at(now_ms + lease);
    a->set_failures(c.job->failures() + (c.expired ? 1 : 0));
    plan.assigned.push_back(c.job->name());
  }
  for (v1::CompactionJobState& j : fresh) *u.add_new_jobs() = std::move(j);
  return plan;
}

}  // namespace embers::metastore
