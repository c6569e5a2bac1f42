// Retention: which parts of the block index have outlived their tenants' retention period
// (reference §6.6, Pyroscope's time-based retention policy).
//
// The metastore leader runs it every -metastore.index.cleanup-interval (MetastoreNode's leader
// loop): it plans on its index after a read barrier and proposes one ReplaceBlocksRequest (with
// no new blocks) per expired (partition, tenant, shard). Applying it removes the blocks — and the
// shard, tenant and partition once empty — and records a tombstone listing them, which keeps late
// retries of those blocks out of the index and tells the compaction workers which objects to
// delete.
//
// Rules, block by block, with P(t) the retention of tenant t (-retention-period, or its
// per-tenant override; 0 = keep forever):
//  - a compacted block of tenant t expires when P(t) > 0 and all its data is older than
//    now - P(t);
//  - a level-0 segment (data of many tenants) expires when every tenant it holds data of has
//    P > 0 and all its data is older than now minus the longest of those periods. Segments are
//    normally compacted (split per tenant) long before that.
// Compacted blocks hold one tenant's data of one 6 h partition, so expiry is that precise.
// One request per (partition, tenant, shard) with expired blocks; at most `max_shards_per_run`
// per run, oldest first.
#ifndef EMBERS_METASTORE_RETENTION_H_
#define EMBERS_METASTORE_RETENTION_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "metastore/index/block_index.h"

namespace embers::metastore {

struct RetentionOptions {
  // -retention-period; 0 keeps data forever.
  absl::Duration default_period = absl::Hours(24 * 31);
  // -retention-period-per-tenant, tenant → period (0: forever).
  std::map<std::string, absl::Duration, std::less<>> tenant_periods;
  // -metastore.index.cleanup-interval; 0 disables the loop.
  absl::Duration interval = absl::Minutes(15);
  size_t max_shards_per_run = 32;

  absl::Duration PeriodOf(std::string_view tenant) const;
};

// Parses "tenant=duration,…" (the -retention-period-per-tenant form).
absl::StatusOr<std::map<std::string, absl::Duration, std::less<>>> ParseTenantPeriods(
    const std::vector<std::string>& items);

// The deletions retention wants at `now_ms` (leader time), oldest first. Tombstone names are
// "retention/<partition start ms>/<tenant or ->/<shard>/<now_ms>", unique per run.
std::vector<v1::ReplaceBlocksRequest> PlanRetention(const BlockIndex& index,
                                                    const RetentionOptions& options,
                                                    int64_t now_ms);

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_RETENTION_H_
