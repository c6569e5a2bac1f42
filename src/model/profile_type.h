// Profile types: what a series measures, e.g. process_cpu:cpu:nanoseconds:cpu:nanoseconds.
//
// A pprof with N sample types becomes N series, one per type; the type's ID is stored as the
// series label `__profile_type__` and is how queries select data (DESIGN §4, reference §9.2).
// Used by the pprof splitter (to build IDs) and by the query path (to parse them).
#ifndef EMBERS_MODEL_PROFILE_TYPE_H_
#define EMBERS_MODEL_PROFILE_TYPE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace embers::model {

struct ProfileType {
  std::string name;         // __name__ of the series: process_cpu, memory, wall, ...
  std::string sample_type;  // pprof sample_type[i].type
  std::string sample_unit;  // pprof sample_type[i].unit
  std::string period_type;  // pprof period_type.type ("" when absent)
  std::string period_unit;  // pprof period_type.unit ("" when absent)

  // "name:sample_type:sample_unit:period_type:period_unit".
  std::string ID() const;

  friend bool operator==(const ProfileType&, const ProfileType&) = default;
};

// Parses an ID. Five colon-separated parts; a sixth part is tolerated and ignored, as Pyroscope's
// ParseProfileTypeSelector does; like upstream, empty parts are accepted. Errors are
// InvalidArgument and quote the input.
absl::StatusOr<ProfileType> ParseProfileType(std::string_view id);

}  // namespace embers::model

#endif  // EMBERS_MODEL_PROFILE_TYPE_H_
