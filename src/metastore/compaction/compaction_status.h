// CompactionStatusOf: what the compaction planner holds, for people — the metastore status page
// (GET /metastore/status), the GetCompactionStatus RPC and the compaction gauges in /metrics.
// Per level: blocks in the index, blocks queued and how long the oldest has waited (the
// compaction lag), jobs queued / running / parked / completed; the parked and running jobs;
// tombstones waiting for deletion and what deletion removed so far.
#ifndef EMBERS_METASTORE_COMPACTION_COMPACTION_STATUS_H_
#define EMBERS_METASTORE_COMPACTION_COMPACTION_STATUS_H_

#include <cstdint>

#include "metastore/compaction/compaction_state.h"
#include "metastore/index/block_index.h"
#include "metastore/v1/compaction.pb.h"
#include "nlohmann/json_fwd.hpp"

namespace embers::metastore {

// `now_ms` is this node's clock (ages are approximate on a follower).
v1::CompactionStatus CompactionStatusOf(const CompactionStateView& state, const BlockIndex& index,
                                        int64_t now_ms);

// The status as the JSON object of the status page.
nlohmann::json CompactionStatusJson(const v1::CompactionStatus& status);

// Sets the embers_compaction_* gauges from a status (any node: each reports its replica).
void ExportCompactionGauges(const v1::CompactionStatus& status);

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_COMPACTION_COMPACTION_STATUS_H_
