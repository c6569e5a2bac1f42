// BucketKey: what a key of the bucket layout (DESIGN §5) names — a level-0 segment, a compacted
// block or a DLQ entry — with its shard, tenant and ULID.
//
// `bucket verify` parses every key it lists to tell objects from DLQ entries, to match objects with
// the index and to date them (an object's age is its ULID's time). Keys are built by
// block::ObjectKey, the one place that knows the layout; parsing accepts exactly the keys it
// builds (and the segment-writer's dlq/ keys), nothing spelled differently.
#ifndef EMBERS_CMD_CLI_BUCKET_BUCKET_KEY_H_
#define EMBERS_CMD_CLI_BUCKET_BUCKET_KEY_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/ulid.h"

namespace embers::cli {

// The prefixes `bucket verify` lists.
inline constexpr std::string_view kSegmentsPrefix = "segments/";
inline constexpr std::string_view kBlocksPrefix = "blocks/";
inline constexpr std::string_view kDlqPrefix = "dlq/";

struct BucketKey {
  enum class Kind {
    kSegment,   // segments/<shard>/anonymous/<ULID>/block.bin
    kBlock,     // blocks/<shard>/<tenant>/<ULID>/block.bin
    kDlqEntry,  // dlq/<shard>/<tenant>/<ULID>/meta.pb: metadata of a segment not yet indexed
  };
  Kind kind = Kind::kSegment;
  uint32_t shard = 0;
  std::string tenant;
  Ulid ulid;

  std::string id() const { return ulid.ToString(); }
  // The key of the object this names: itself for segments and blocks, the parked segment's for
  // a DLQ entry.
  std::string ObjectKey() const;
};

// InvalidArgument for a key outside the layout (a stray file, a key spelled other than the way
// Embers writes it: "segments/01/…", a lower-case ULID).
absl::StatusOr<BucketKey> ParseBucketKey(std::string_view key);

}  // namespace embers::cli

#endif  // EMBERS_CMD_CLI_BUCKET_BUCKET_KEY_H_
