// JFR → stack-sample series, converted the way Pyroscope's JFR ingestion does it.
//
// Used by /ingest?format=jfr (the ingest adapter turns each JfrSeries into one normalised
// profile with the series labels plus the request's labels). Kept free of our pprof/model types
// so it can be tested on its own: the output is a neutral per-series structure.
//
// Events and what they become (one series per metric × context label set):
//   jdk.ExecutionSample          thread in STATE_RUNNABLE → "cpu" (or "itimer" when the
//                                recording's ActiveSetting `event` is itimer), 1 per sample;
//                                when `event` is "wall", every sample also → "wall"
//   profiler.WallClockSample     "wall", `samples` per event
//   jdk.ObjectAllocationInNewTLAB   "alloc_in_new_tlab_objects" 1 / "alloc_in_new_tlab_bytes"
//   tlabSize jdk.ObjectAllocationOutsideTLAB "alloc_outside_tlab_objects" 1 / "..._bytes"
//   allocationSize jdk.ObjectAllocationSample   "alloc_sample_objects" 1 / "alloc_sample_bytes"
//   weight jdk.JavaMonitorEnter         "lock_count" 1 / "lock_duration" duration (ticks, as
//   upstream) jdk.ThreadPark               "thread_park_count" 1 / "thread_park_duration" duration
//   (ticks) profiler.LiveObject          "live" 1
// Context ids on the events map to labels through the optional LabelsSnapshot (a `profile_id`
// label is kept per sample, see JfrConvertOptions). Frame names are
// "<class>.<method>" with JVM-generated class names merged (Foo$$Lambda$123/0x… → Foo$$Lambda$_),
// exactly as in Pyroscope's expected outputs, so folded stacks compare equal.
#ifndef EMBERS_INGEST_JFR_JFR_TO_PROFILES_H_
#define EMBERS_INGEST_JFR_JFR_TO_PROFILES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "ingest/jfr/jfr_labels.h"

namespace embers::jfr {

struct JfrConvertOptions {
  // The /ingest `sampleRate` (Hz): cpu and wall sample counts are worth 1e9/sample_rate ns.
  int64_t sample_rate = 100;
  // A context label `profile_id` (the span id of tracing integrations) stays on the sample
  // (JfrSeries::Sample::profile_id) instead of splitting the series: DESIGN §4 keeps span ids
  // out of series labels. False makes it an ordinary series label.
  bool profile_id_on_samples = true;
};

struct JfrSeries {
  // Pyroscope's per-metric name suffix ("<app>.<suffix>" in its legacy keys): "cpu", "itimer",
  // "wall", "alloc_in_new_tlab_objects", "alloc_in_new_tlab_bytes", "alloc_outside_tlab_objects",
  // "alloc_outside_tlab_bytes", "alloc_sample_objects", "alloc_sample_bytes", "lock_count",
  // "lock_duration", "thread_park_count", "thread_park_duration", "live".
  std::string metric_suffix;
  // The pprof view Pyroscope assigns: __name__ and sample/period types, and the resulting
  // profile type id "name:sample_type:sample_unit:period_type:period_unit".
  std::string name;  // process_cpu, wall, memory, mutex, block
  std::string sample_type, sample_unit, period_type, period_unit;
  std::string profile_type_id;
  int64_t period = 0;
  // Sample values are raw counts/amounts (what Pyroscope's folded outputs show); multiply by
  // value_scale to get `sample_unit` (1e9/sample_rate for cpu and wall, 1 otherwise).
  int64_t value_scale = 1;
  // Labels from the sample's context, sorted by name (e.g. thread_name, profile_id).
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<std::string> frames_table;
  struct Sample {
    std::vector<uint32_t> frames;  // indexes into frames_table, root first
    int64_t value = 0;
    std::string profile_id;  // the context's profile_id label (a span id), if any
  };
  std::vector<Sample> samples;  // one per distinct (stack, profile_id)
};

struct JfrProfiles {
  // The recording's ActiveSetting "event" (async-profiler mode: cpu, itimer, wall, …); Pyroscope
  // puts it in the `jfr_event` series label.
  std::string jfr_event;
  std::vector<JfrSeries> series;  // sorted by (metric_suffix, labels)
};

// Converts an uncompressed JFR recording. `labels` may be null. Errors are InvalidArgument.
absl::StatusOr<JfrProfiles> ConvertJfr(std::string_view jfr, const JfrLabelsSnapshot* labels,
                                       const JfrConvertOptions& options = {});

// The same for request bodies: `jfr` and `labels` (may be empty) may be gzip/zstd compressed;
// each is decompressed to at most `max_decompressed` bytes (ResourceExhausted beyond).
absl::StatusOr<JfrProfiles> ConvertJfrBody(std::string_view jfr, std::string_view labels,
                                           size_t max_decompressed,
                                           const JfrConvertOptions& options = {});

// Pyroscope's merging of JVM-generated names in a symbol (class or method name):
// GeneratedMethodAccessor123 → GeneratedMethodAccessor_, Foo$$Lambda$12/0x… → Foo$$Lambda$_,
// Foo$$Lambda/0x… → Foo$$Lambda_, and per-process native library names (libzstd-jni,
// amazonCorrettoCryptoProvider, libasyncProfiler) → a stable name.
std::string MergeJvmGeneratedName(std::string_view symbol);

}  // namespace embers::jfr

#endif  // EMBERS_INGEST_JFR_JFR_TO_PROFILES_H_
