// What a legacy /ingest text or binary profile (folded, lines, trie, tree, speedscope) is: the
// profile type selected by the application name's last dot-suffix, the sampleRate scaling, and
// the series labels Pyroscope attaches (pkg/ingester/pyroscope/ingest_adapter.go).
//
//   suffix                                      __name__    sample type : unit
//   none, cpu, itimer                           process_cpu samples:count
//   wall, seconds, nanoseconds, microseconds,   wall        samples:count
//     milliseconds
//   inuse_objects, alloc_objects                memory      <suffix>:count
//   inuse_space, alloc_space                    memory      <suffix>:bytes
//   goroutines                                  goroutine   goroutines:count
//   mutex_count / mutex_duration                mutex       contentions:count / delay:nanoseconds
//   block_count / block_duration,               block       contentions:count / delay:nanoseconds
//     lock_count / lock_duration
//   alloc_{in_new,outside}_tlab_objects|bytes   memory      <suffix>:count|bytes
//   live                                        memory      live:count
//   exceptions                                  exceptions  samples:count
//   bytes                                       memory      samples:bytes
//   anything else                               error "unknown profile type" (400, as upstream)
//
// For process_cpu and wall with sampleRate > 0, each value is a count of samples taken every
// period = 1e9 / sampleRate ns: values are multiplied by the period and the type becomes
// cpu:nanoseconds (or wall:nanoseconds) with period type cpu:nanoseconds.
//
// Used by the /ingest handler to turn a StackSamples into a one-sample-type pprof profile and its
// series labels.
#ifndef EMBERS_INGEST_LEGACY_PROFILE_KIND_H_
#define EMBERS_INGEST_LEGACY_PROFILE_KIND_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "ingest/legacy/app_name.h"

namespace embers::ingest {

struct LegacyProfileType {
  std::string metric_name;  // series label __name__
  std::string sample_type;
  std::string sample_unit;
  std::string period_type;  // empty when there is no period
  std::string period_unit;
  int64_t period = 0;
  // Multiply every StackSamples value by this (the period when scaled, else 1).
  int64_t value_multiplier = 1;
  // The application name without its profile-type suffix: the service_name.
  std::string service_name;

  // "name:sample_type:sample_unit:period_type:period_unit" (DESIGN §4); empty period fields stay
  // empty, e.g. "memory:inuse_space:bytes::".
  std::string ProfileTypeId() const;
};

// `app_name` is AppName::name (with suffix). Errors: InvalidArgument "unknown profile type: x";
// InvalidArgument when sampleRate exceeds 1e9 (the period would be 0 ns and every value 0).
absl::StatusOr<LegacyProfileType> ResolveLegacyProfileType(std::string_view app_name,
                                                           uint32_t sample_rate);

// Series labels, unsorted (the model layer orders them): __name__, __delta__="false",
// pyroscope_spy (when spy_name is not empty), the user's tags except reserved "__*" names
// (__session_id__ excepted), and service_name = the suffix-less app name — or, when the user set
// service_name, app_name = that name (unless app_name was set too).
std::vector<std::pair<std::string, std::string>> LegacySeriesLabels(const AppName& app,
                                                                    const LegacyProfileType& type,
                                                                    std::string_view spy_name);

// The other /ingest query parameters, read as upstream does.
enum class AggregationType { kSum, kAverage };

struct LegacyIngestParams {
  uint32_t sample_rate = 100;
  std::string spy_name = "unknown";
  std::string units = "samples";
  AggregationType aggregation = AggregationType::kSum;
};

// Empty → 100. Upstream ignores an unparsable sampleRate (keeping 100); we do too, but reject a
// negative or out-of-range number, which upstream would wrap around.
absl::StatusOr<uint32_t> ParseSampleRate(std::string_view value);
// Empty → sum; "sum" | "average"; anything else is InvalidArgument.
absl::StatusOr<AggregationType> ParseAggregationType(std::string_view value);

}  // namespace embers::ingest

#endif  // EMBERS_INGEST_LEGACY_PROFILE_KIND_H_
