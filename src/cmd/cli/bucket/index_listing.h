// ListIndex: every block the metastore's index holds (or those of some tenants, levels and time
// range), with the key of its object, as `bucket verify` compares them with the bucket and
// `admin blocks ls` prints them.
//
// The index has no "list everything" call: it answers QueryMetadata per tenant. So this asks
// GetTenants (unless tenants are given), then QueryMetadata per tenant (selector "{}" unless
// another is given).
// A level-0 segment holds datasets of many tenants and is returned once per tenant (with only
// that tenant's datasets): the listing holds it once, with the union of its tenants. A query
// whose answer is too large for one gRPC message (RESOURCE_EXHAUSTED) is split in two halves of
// its time range, recursively; blocks overlapping both halves are merged by id.
//
// A block whose datasets carry no label set at all is not returned by QueryMetadata (the selector
// matches label sets): Embers never indexes such blocks (every dataset has one per profile type).
#ifndef EMBERS_CMD_CLI_BUCKET_INDEX_LISTING_H_
#define EMBERS_CMD_CLI_BUCKET_INDEX_LISTING_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
// The client itself, not a forward declaration: declaring embers::metastore alone would hide
// ::metastore::v1 from code in namespace embers that names it `metastore::v1` (the block headers).
#include "metastore/client/metastore_client.h"

namespace embers::cli {

struct ListIndexOptions {
  // Tenants to list; empty: every tenant GetTenants names.
  std::vector<std::string> tenants;
  // Blocks whose data time range overlaps [start_ms, end_ms] (ms since epoch, inclusive).
  int64_t start_ms = INT64_MIN;
  int64_t end_ms = INT64_MAX;
  // The compaction level to keep (0 is level-0 segments); -1: every level.
  int level = -1;
  // Label selector the datasets must match ("{}": all). A block is listed with the datasets that
  // match; `bucket verify` needs them all.
  std::string query = "{}";
  // Deadline of the whole listing; InfiniteFuture: each call gets the client's call_timeout.
  absl::Time deadline = absl::InfiniteFuture();
  // Also list the tombstoned blocks' keys (GetCompactionStatus). A metastore without compaction
  // (Unimplemented) gives none.
  bool include_tombstones = false;
};

struct IndexedBlock {
  std::string id;  // ULID
  // Tenants with datasets in the block (among those listed), sorted; a compacted block has one.
  std::vector<std::string> tenants;
  uint32_t shard = 0;
  uint32_t level = 0;
  int64_t min_time_ms = 0;
  int64_t max_time_ms = 0;
  uint64_t size = 0;      // object bytes
  uint32_t datasets = 0;  // datasets of the listed tenants (that match the query)
  uint32_t format_version = 0;
  std::string created_by;
  // Where the object is: block::ObjectKey (segments/<shard>/anonymous/<id>/block.bin for level
  // 0, blocks/<shard>/<tenant>/<id>/block.bin above).
  std::string key;
};

struct IndexListing {
  std::vector<IndexedBlock> blocks;  // sorted by key, one per block
  std::vector<std::string> tenants;  // the tenants that were listed
  // Object keys of tombstoned blocks (replaced by compaction, dropped by retention) that wait for
  // -compaction.cleanup-delay before their objects are deleted; sorted. Filled only with
  // ListIndexOptions::include_tombstones.
  std::vector<std::string> tombstoned_keys;
};

// The error of a failed call names the call and, for QueryMetadata, the tenant; an unreachable
// metastore is Unavailable or DeadlineExceeded, as MetastoreClient gives it.
absl::StatusOr<IndexListing> ListIndex(metastore::MetastoreClient& client,
                                       const ListIndexOptions& options);

}  // namespace embers::cli

#endif  // EMBERS_CMD_CLI_BUCKET_INDEX_LISTING_H_
