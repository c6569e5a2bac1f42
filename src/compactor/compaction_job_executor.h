// NewBlockCompactionExecutor: the CompactionJobExecutor the compaction-worker runs in production —
// the block compaction kernel (block/compaction.h) over the job's sources, with the worker's
// temp dir, memory limit and zstd level.
#ifndef EMBERS_COMPACTOR_COMPACTION_JOB_EXECUTOR_H_
#define EMBERS_COMPACTOR_COMPACTION_JOB_EXECUTOR_H_

#include <cstddef>
#include <string>

#include "compactor/compaction_worker.h"
#include "objstore/bucket.h"

namespace embers::compactor {

struct BlockCompactionOptions {
  // Each job spills under <temp_dir>/job-<hash of its name>.
  std::string temp_dir;
  size_t memory_limit_bytes = 256 << 20;
  int zstd_level = 3;
  // Written into every output's BlockMeta.created_by.
  std::string created_by;
};

// Creates `temp_dir` if needed and removes what jobs of an earlier run left there (a killed
// worker's spill files); only the job directories the executor creates are touched.
absl::Status PrepareCompactionTempDir(const std::string& temp_dir);

// `bucket` must outlive the executor.
CompactionJobExecutor NewBlockCompactionExecutor(objstore::Bucket* bucket,
                                                 BlockCompactionOptions options);

}  // namespace embers::compactor

#endif  // EMBERS_COMPACTOR_COMPACTION_JOB_EXECUTOR_H_
