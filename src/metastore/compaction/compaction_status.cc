#include "metastore/compaction/compaction_status.h"

#include <algorithm>
#include <string>

#include "base/metrics.h"
#include "nlohmann/json.hpp"

namespace embers::metastore {

v1::CompactionStatus CompactionStatusOf(const CompactionStateView& state, const BlockIndex& index,
                                        int64_t now_ms) {
  v1::CompactionStatus out;
  std::vector<uint64_t> blocks = index.BlockCountsByLevel();
  blocks.resize(std::max<size_t>(blocks.size(), kMaxCompactionLevel + 1), 0);
  std::vector<v1::CompactionLevelStatus*> levels;
  for (uint32_t l = 0; l < blocks.size(); ++l) {
    v1::CompactionLevelStatus* s = out.add_levels();
    s->set_level(l);
    s->set_blocks(blocks[l]);
    if (l < kMaxCompactionLevel) s->set_jobs_completed(state.completed[l]);
    levels.push_back(s);
  }
  auto level = [&](uint32_t l) { return levels[std::min<size_t>(l, levels.size() - 1)]; };
  for (const auto& [key, batch] : state.batches) {
    v1::CompactionLevelStatus* s = level(key.level);
    s->set_queued_blocks(s->queued_blocks() + batch->size());
    if (!batch->empty()) {
      s->set_oldest_queued_age_ms(
          std::max(s->oldest_queued_age_ms(), now_ms - batch->front().added_at_ms));
    }
  }
  for (const auto& [name, job] : state.jobs) {
    v1::CompactionLevelStatus* s = level(job->compaction_level());
    switch (job->status()) {
      case v1::COMPACTION_STATUS_IN_PROGRESS:
        s->set_jobs_running(s->jobs_running() + 1);
        *out.add_running_jobs() = *job;
        break;
      case v1::COMPACTION_STATUS_FAILURE:
        s->set_jobs_parked(s->jobs_parked() + 1);
        *out.add_parked_jobs() = *job;
        break;
      default:
        s->set_jobs_queued(s->jobs_queued() + 1);
        // A queued job's blocks wait too: they count in the lag.
        s->set_oldest_queued_age_ms(
            std::max(s->oldest_queued_age_ms(), now_ms - job->created_at()));
        break;
    }
  }
  out.set_tombstones(index.Tombstones().size());
  out.set_deleted_objects(state.deleted_objects);
  out.set_deleted_bytes(state.deleted_bytes);
  return out;
}

nlohmann::json CompactionStatusJson(const v1::CompactionStatus& status) {
  nlohmann::json levels = nlohmann::json::array();
  for (const v1::CompactionLevelStatus& l : status.levels()) {
    levels.push_back({{"level", l.level()},
                      {"blocks", l.blocks()},
                      {"queued_blocks", l.queued_blocks()},
                      {"oldest_queued_age_ms", l.oldest_queued_age_ms()},
                      {"jobs_queued", l.jobs_queued()},
                      {"jobs_running", l.jobs_running()},
                      {"jobs_parked", l.jobs_parked()},
                      {"jobs_completed", l.jobs_completed()}});
  }
  auto jobs = [](const auto& list) {
    nlohmann::json out = nlohmann::json::array();
    for (const v1::CompactionJobState& j : list) {
      out.push_back({{"name", j.name()},
                     {"level", j.compaction_level()},
                     {"tenant", j.tenant()},
                     {"shard", j.shard()},
                     {"sources", j.source_blocks_size()},
                     {"source_bytes", j.source_bytes()},
                     {"worker", j.worker()},
                     {"failures", j.failures()},
                     {"lease_expires_at", j.lease_expires_at()},
                     {"last_error", j.last_error()}});
    }
    return out;
  };
  return {{"levels", levels},
          {"running_jobs", jobs(status.running_jobs())},
          {"parked_jobs", jobs(status.parked_jobs())},
          {"tombstones", status.tombstones()},
          {"deleted_objects", status.deleted_objects()},
          {"deleted_bytes", status.deleted_bytes()}};
}

void ExportCompactionGauges(const v1::CompactionStatus& status) {
  static auto& blocks = metrics::Registry::Global().Gauge(
      "embers_metastore_blocks", "Blocks in the metastore index, by compaction level.", {"level"});
  static auto& queued = metrics::Registry::Global().Gauge(
      "embers_compaction_queued_blocks", "Blocks waiting to join a compaction job, by level.",
      {"level"});
  static auto& lag = metrics::Registry::Global().Gauge(
      "embers_compaction_lag_seconds",
      "How long the oldest block waiting for compaction has waited, by level.", {"level"});
  static auto& jobs = metrics::Registry::Global().Gauge(
      "embers_compaction_jobs", "Compaction jobs by source level and state.", {"level", "state"});
  static auto& completed = metrics::Registry::Global().Gauge(
      "embers_compaction_jobs_completed", "Compaction jobs completed (replicated count), by level.",
      {"level"});
  static auto& tombstones = metrics::Registry::Global().Gauge(
      "embers_metastore_tombstones", "Tombstones waiting for their objects to be deleted.", {});
  static auto& deleted_objects = metrics::Registry::Global().Gauge(
      "embers_compaction_deleted_objects",
      "Replaced or expired objects deleted (replicated count).", {});
  static auto& deleted_bytes = metrics::Registry::Global().Gauge(
      "embers_compaction_deleted_bytes", "Bytes of the deleted objects (replicated count).", {});
  for (const v1::CompactionLevelStatus& l : status.levels()) {
    const std::string level = std::to_string(l.level());
    blocks.WithLabels({level}).Set(static_cast<double>(l.blocks()));
    if (l.level() >= kMaxCompactionLevel) continue;
    queued.WithLabels({level}).Set(static_cast<double>(l.queued_blocks()));
    lag.WithLabels({level}).Set(static_cast<double>(l.oldest_queued_age_ms()) / 1000);
    jobs.WithLabels({level, "queued"}).Set(static_cast<double>(l.jobs_queued()));
    jobs.WithLabels({level, "running"}).Set(static_cast<double>(l.jobs_running()));
    jobs.WithLabels({level, "parked"}).Set(static_cast<double>(l.jobs_parked()));
    completed.WithLabels({level}).Set(static_cast<double>(l.jobs_completed()));
  }
  tombstones.WithLabels({}).Set(static_cast<double>(status.tombstones()));
  deleted_objects.WithLabels({}).Set(static_cast<double>(status.deleted_objects()));
  deleted_bytes.WithLabels({}).Set(static_cast<double>(status.deleted_bytes()));
}

}  // namespace embers::metastore
