// VerifyBucket: `bucket verify` — checks every object of the bucket (footer and section
// checksums, CheckObject) and compares the bucket with the metastore's index.
//
// The comparison finds orphans (objects no indexed block names, older than `orphan_min_age`) and
// missing objects (indexed blocks without their object). Young unindexed objects are not
// problems: a segment is written before its AddBlock, and a compaction job writes its blocks
// before the index swaps them in. Segments parked under dlq/ are listed, not counted as problems
// (unless their object is gone: the metastore would index a block that has none).
// Because the index and the bucket change while the check runs, every orphan and missing
// candidate is checked again at the end against a fresh listing of the index and the bucket: an
// object indexed, deleted or written meanwhile is not reported.
//
// Compaction and retention delete the blocks they replaced or dropped only after a delay
// (-compaction.cleanup-delay, 15 min): the index listing carries those tombstones, so such an
// object is reported as tombstoned, not as an orphan.
//
// Read-only: nothing is written to the bucket or the index. Objects are checked by `concurrency`
// threads at once.
#ifndef EMBERS_CMD_CLI_BUCKET_BUCKET_VERIFIER_H_
#define EMBERS_CMD_CLI_BUCKET_BUCKET_VERIFIER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cmd/cli/bucket/index_listing.h"
#include "cmd/cli/bucket/object_check.h"
#include "objstore/bucket.h"

namespace embers::cli {

struct VerifyFinding {
  enum class Kind {
    kCorrupt,     // problem: a checksum, the footer or the size is wrong
    kUnreadable,  // problem: the bucket failed to read it (permissions, I/O, ...)
    kMissing,     // problem: indexed (or parked in dlq/), but no object
    kOrphan,      // problem: an object no indexed block names, older than orphan_min_age
    kRecent,      // not indexed (yet), younger than orphan_min_age; or written during the check
    kParked,      // a segment parked in dlq/, waiting for the metastore to index it
    kVanished,    // listed, then deleted before it was read (compaction's cleanup)
    kTombstoned,  // not indexed: replaced or dropped, its object deleted after the cleanup delay
  };
  Kind kind = Kind::kCorrupt;
  std::string key;
  std::string detail;
};

// "corrupt", "unreadable", ...
std::string_view FindingKindName(VerifyFinding::Kind kind);
// Whether a finding makes the check fail.
bool IsProblem(VerifyFinding::Kind kind);

struct VerifyReport {
  uint64_t objects_checked = 0;  // read and checked, intact or not
  uint64_t bytes_checked = 0;
  absl::Duration elapsed;
  bool index_compared = false;
  uint64_t indexed_blocks = 0;
  std::vector<VerifyFinding> findings;  // by kind, then key

  size_t Count(VerifyFinding::Kind kind) const;
  size_t problems() const;
  bool ok() const { return problems() == 0; }
  double megabytes_per_second() const;
};

// Lists the index (ListIndex bound to a client and options); null: no index comparison.
using IndexSource = std::function<absl::StatusOr<IndexListing>()>;

struct VerifyOptions {
  int concurrency = 4;
  absl::Duration orphan_min_age = absl::Hours(1);
  ObjectCheckOptions check;
  // The time objects' ages are measured at; InfinitePast: when the check starts.
  absl::Time now = absl::InfinitePast();
  // Progress (both optional): `on_start` once the objects are listed, with their count and
  // (estimated) bytes; `on_progress` from the checking threads as objects are read — bytes as they
  // come, each object counted as an item once it is done.
  std::function<void(uint64_t total_items, uint64_t total_bytes)> on_start;
  std::function<void(uint64_t items, uint64_t bytes)> on_progress;
};

// Errors: the bucket's when it cannot be listed, the index's when it cannot be listed. Problems
// found are findings of the report, not errors.
absl::StatusOr<VerifyReport> VerifyBucket(objstore::Bucket& bucket, const IndexSource& index,
                                          const VerifyOptions& options);

}  // namespace embers::cli

#endif  // EMBERS_CMD_CLI_BUCKET_BUCKET_VERIFIER_H_
