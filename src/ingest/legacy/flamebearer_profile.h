// A flamebearer JSON document (Pyroscope's flame graph export: "Export → JSON" in its UI, the
// body of /pyroscope/render) read back as a profile: each node's self value on its stack.
//
// Only the single-graph form is accepted (metadata.format "single", version 1): a diff has two
// values per node and no one profile behind it. Levels hold [x offset delta, total, self, name
// index] per node; the offsets are delta-encoded along each level, and a node's parent is the node
// of the level above whose x is the largest not after its own. Level 0 is the "total" root and
// is not a frame. Used by adhocprofiles.v1 uploads (ingest/adapters/adhoc_file.h).
#ifndef EMBERS_INGEST_LEGACY_FLAMEBEARER_PROFILE_H_
#define EMBERS_INGEST_LEGACY_FLAMEBEARER_PROFILE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ingest/legacy/stack_samples.h"

namespace embers::ingest {

struct FlamebearerProfile {
  StackSamples stacks;
  std::string name;   // metadata.name: the sample type ("cpu", "alloc_space", ...)
  std::string units;  // metadata.units ("samples", "bytes", ...; may be empty)
};

// Errors: 422 naming what is malformed (not JSON, another format or version, a level that is not
// quadruples, a name index or parent out of range, a negative value); 413 when a ParseLimits
// bound is exceeded.
absl::StatusOr<FlamebearerProfile> ParseFlamebearerProfile(
    std::string_view json, const ParseLimits& limits = ParseLimits());

}  // namespace embers::ingest

#endif  // EMBERS_INGEST_LEGACY_FLAMEBEARER_PROFILE_H_
