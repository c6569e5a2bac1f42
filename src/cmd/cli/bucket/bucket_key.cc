#include "cmd/cli/bucket/bucket_key.h"

#include <vector>

#include "base/strings.h"
#include "block/object_writer.h"

namespace embers::cli {
namespace {

absl::Status NotALayoutKey(std::string_view key) {
  return absl::InvalidArgumentError(
      StrCat("\"", key, "\" is not a key Embers writes (", kSegmentsPrefix, "<shard>/anonymous/",
             "<ULID>/block.bin, ", kBlocksPrefix, "<shard>/<tenant>/<ULID>/block.bin or ",
             kDlqPrefix, "<shard>/<tenant>/<ULID>/meta.pb)"));
}

}  // namespace

std::string BucketKey::ObjectKey() const {
  if (kind == Kind::kBlock) return block::ObjectKey(1, shard, tenant, id());
  return block::ObjectKey(0, shard, "", id());
}

absl::StatusOr<BucketKey> ParseBucketKey(std::string_view key) {
  std::vector<std::string_view> parts = Split(key, '/');
  if (parts.size() != 5) return NotALayoutKey(key);
  BucketKey out;
  std::string_view file;
  if (parts[0] == "segments") {
    out.kind = BucketKey::Kind::kSegment;
    file = "block.bin";
  } else if (parts[0] == "blocks") {
    out.kind = BucketKey::Kind::kBlock;
    file = "block.bin";
  } else if (parts[0] == "dlq") {
    out.kind = BucketKey::Kind::kDlqEntry;
    file = "meta.pb";
  } else {
    return NotALayoutKey(key);
  }
  if (parts[4] != file || parts[1].empty() || parts[1].size() > 10 || parts[2].empty()) {
    return NotALayoutKey(key);
  }
  uint64_t shard = 0;
  for (char c : parts[1]) {
    if (c < '0' || c > '9') return NotALayoutKey(key);
    shard = shard * 10 + static_cast<uint64_t>(c - '0');
  }
  if (shard > UINT32_MAX) return NotALayoutKey(key);
  out.shard = static_cast<uint32_t>(shard);
  out.tenant = std::string(parts[2]);
  absl::StatusOr<Ulid> ulid = ParseUlid(parts[3]);
  if (!ulid.ok()) return NotALayoutKey(key);
  out.ulid = *ulid;
  // Exactly the spelling the writers use: no leading zeros, an upper-case ULID, "anonymous" as
  // the segment's owner.
  const std::string canonical =
      out.kind == BucketKey::Kind::kDlqEntry
          ? StrCat(kDlqPrefix, out.shard, "/", out.tenant, "/", out.id(), "/meta.pb")
          : out.ObjectKey();
  if (canonical != key) return NotALayoutKey(key);
  return out;
}

}  // namespace embers::cli
