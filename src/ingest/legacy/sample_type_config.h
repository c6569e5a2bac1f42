// The `sample_type_config` part of a multipart /ingest pprof upload: JSON mapping a pprof sample
// type to how Pyroscope should present it,
//   {"alloc_space": {"units": "bytes", "aggregation": "sum", "display-name": "...",
//                    "sampled": false, "cumulative": true}, ...}
// Unknown fields are ignored (as Go's encoding/json does); a wrongly typed field, or JSON that is
// not an object of objects, is an InvalidArgument naming the sample type and field.
//
// Used by the /ingest pprof path: display names rename sample types before the profile name is
// chosen; without the part, DefaultSampleTypeConfig() applies (Pyroscope's
// DefaultSampleTypeMapping: "samples" → "cpu", "goroutine" → "goroutines", "contentions" →
// "mutex_count", "delay" → "mutex_duration", ...).
#ifndef EMBERS_INGEST_LEGACY_SAMPLE_TYPE_CONFIG_H_
#define EMBERS_INGEST_LEGACY_SAMPLE_TYPE_CONFIG_H_

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace embers::ingest {

struct SampleTypeConfig {
  std::string units;         // e.g. "samples", "bytes", "objects", "lock_nanoseconds"
  std::string aggregation;   // "sum" (or empty) | "average"
  std::string display_name;  // "display-name": replaces the sample type's name when set
  bool sampled = false;
  bool cumulative = false;
};

using SampleTypeConfigMap = std::map<std::string, SampleTypeConfig, std::less<>>;

absl::StatusOr<SampleTypeConfigMap> ParseSampleTypeConfig(std::string_view json);

const SampleTypeConfigMap& DefaultSampleTypeConfig();

}  // namespace embers::ingest

#endif  // EMBERS_INGEST_LEGACY_SAMPLE_TYPE_CONFIG_H_
