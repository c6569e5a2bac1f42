// Speedscope JSON (https://www.speedscope.app/file-format-schema.json) for POST
// /ingest?format=speedscope, as Pyroscope's pkg/og/convert/speedscope reads it.
//
// A file has a shared frame table and several profiles, each "evented" (open/close events at
// increasing times; the time between two events is charged to the stack open in between) or
// "sampled" (stacks of frame indices, root first, with weights). Profiles with the same name,
// type, unit and startValue are merged into one (upstream does this so they do not collapse into
// one series downstream); the result is ordered by startValue.
//
// Values: Pyroscope keeps fractions by multiplying time values by 100 and pretending the profile
// was sampled at 100× the unit's rate. The /ingest handler must then, per profile:
//   * if the file has more than one profile, ingest it under the app name "<name>.<unit>" (so the
//     unit selects the profile type: seconds/milliseconds/... → wall, bytes → memory);
//   * add the tag profile_name=<profile name>;
//   * if the request's sampleRate is the default 100, use SpeedscopeDefaultSampleRate(unit).
// With those, the usual sampleRate scaling (profile_kind.h) turns values into nanoseconds.
//
// Deliberate differences from upstream, which has bugs here: fractional weights are kept (upstream
// truncates a weight before multiplying, so 0.5 ms becomes 0); time spent before a nested open
// event is multiplied like every other value; nanosecond profiles use multiplier 1 and rate 1e9
// (upstream's 100e9 overflows uint32 and zeroes every value); a frame index equal to the table size
// is rejected instead of crashing; merged evented profiles are replayed one by one rather than as
// one concatenated (and then out-of-order) event list.
#ifndef EMBERS_INGEST_LEGACY_SPEEDSCOPE_H_
#define EMBERS_INGEST_LEGACY_SPEEDSCOPE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ingest/legacy/stack_samples.h"

namespace embers::ingest {

enum class SpeedscopeUnit { kNone, kNanoseconds, kMicroseconds, kMilliseconds, kSeconds, kBytes };

struct SpeedscopeProfile {
  std::string name;  // → tag profile_name
  SpeedscopeUnit unit = SpeedscopeUnit::kNone;
  StackSamples samples;  // values are weights × SpeedscopeValueMultiplier(unit)
};

// "none", "nanoseconds", ... as in the file.
std::string_view SpeedscopeUnitName(SpeedscopeUnit unit);
int64_t SpeedscopeValueMultiplier(SpeedscopeUnit unit);
// Hz: none → 10000 (100 Hz × 100), seconds → 100, milliseconds → 1e5, microseconds → 1e8,
// nanoseconds → 1e9, bytes → 0 (no scaling).
uint32_t SpeedscopeDefaultSampleRate(SpeedscopeUnit unit);

// Errors: 422 (InvalidArgument) for malformed JSON (with the byte offset), an unknown $schema,
// unit or profile type, out-of-range frame indices, events out of order or unbalanced, negative
// weights, samples/weights of different lengths; 413 when ParseLimits are exceeded or the JSON
// nests deeper than 64 levels. The body is read as a stream (SAX): no JSON document is built, only
// the frame names and compact arrays of the profiles' numbers, so memory stays near the body size
// whatever its shape (members may come in any order; unknown ones are skipped).
absl::StatusOr<std::vector<SpeedscopeProfile>> ParseSpeedscope(
    std::string_view body, const ParseLimits& limits = ParseLimits());

}  // namespace embers::ingest

#endif  // EMBERS_INGEST_LEGACY_SPEEDSCOPE_H_
