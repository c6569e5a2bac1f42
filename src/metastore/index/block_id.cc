#include "metastore/index/block_id.h"

#include "base/ulid.h"

namespace embers::metastore {

// base/ulid is the one Crockford base32 codec; BlockId only keeps the value as two integers.
std::optional<BlockId> BlockId::Parse(std::string_view text) {
  absl::StatusOr<Ulid> ulid = ParseUlid(text);
  if (!ulid.ok()) return std::nullopt;
  return BlockId{.hi = ulid->hi(), .lo = ulid->lo()};
}

std::string BlockId::ToString() const { return Ulid::FromHalves(hi, lo).ToString(); }

}  // namespace embers::metastore
