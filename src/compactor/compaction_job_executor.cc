#include "compactor/compaction_job_executor.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "base/strings.h"
#include "block/compaction.h"
#include "metastore/index/block_index.h"

namespace embers::compactor {

namespace {
constexpr std::string_view kJobDirPrefix = "job-";
}  // namespace

absl::Status PrepareCompactionTempDir(const std::string& temp_dir) {
  std::error_code ec;
  std::filesystem::create_directories(temp_dir, ec);
  if (ec) return absl::FailedPreconditionError(StrCat(temp_dir, ": ", ec.message()));
  for (const auto& entry : std::filesystem::directory_iterator(temp_dir, ec)) {
    if (entry.path().filename().string().starts_with(kJobDirPrefix)) {
      std::filesystem::remove_all(entry.path(), ec);
    }
  }
  if (ec) return absl::FailedPreconditionError(StrCat(temp_dir, ": ", ec.message()));
  return absl::OkStatus();
}

CompactionJobExecutor NewBlockCompactionExecutor(objstore::Bucket* bucket,
                                                 BlockCompactionOptions options) {
  return [bucket, options = std::move(options)](
             const v1::CompactionJob& job,
             const std::atomic<bool>& cancel) -> absl::StatusOr<CompactionJobResult> {
    block::CompactionOptions o;
    o.job_name = job.name();
    o.output_level = job.compaction_level() + 1;
    o.created_by = options.created_by;
    // A job name holds the tenant id, which may hold any character a tenant id may: the
    // directory is named by the hash that starts the name instead.
    o.temp_dir = StrCat(options.temp_dir, "/", kJobDirPrefix, job.name().substr(0, 16));
    o.memory_limit_bytes = options.memory_limit_bytes;
    o.zstd_level = options.zstd_level;
    o.partition_duration_ms = metastore::BlockIndex::kPartitionDurationMs;
    o.cancel = &cancel;
    const std::vector<metastore::v1::BlockMeta> sources(job.source_metas().begin(),
                                                        job.source_metas().end());
    absl::StatusOr<block::CompactionResult> r = block::CompactBlocks(bucket, sources, o);
    if (!r.ok()) return r.status();
    CompactionJobResult out;
    out.outputs = std::move(r->outputs);
    out.input_bytes = r->stats.source_bytes;
    out.output_bytes = r->stats.output_bytes;
    out.input_rows = r->stats.rows_in;
    out.output_rows = r->stats.rows_out;
    out.duplicate_rows = r->stats.duplicate_rows;
    out.samples = r->stats.samples_out;
    out.missing_sources = r->stats.missing_sources;
    return out;
  };
}

}  // namespace embers::compactor
