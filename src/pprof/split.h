// Splitting one pushed pprof into per-series, per-sample-type profiles.
//
// A pushed profile carries series labels (from the request) and optionally string sample labels
// (pprof labels such as `thread_name`). Pyroscope lifts sample labels into series labels, so one
// profile becomes several series, and stores each sample type as its own series with a
// `__profile_type__` label (reference §2.1, §4.3; upstream pprofsplit.VisitSampleSeries and
// phlaredb/labels.CreateProfileLabels). This file does the same, for the distributor to hand to
// the segment-writer:
//
//  * `profile_id` sample labels are renamed `span_id`; `span_id` and `trace_id` stay on the
//    samples (and are parsed into SeriesProfile::span_ids / trace_ids) instead of making series.
//  * Other string sample labels join the series labels unless the series already has that name
//    (series labels win) or the value is empty.
//  * Groups whose resulting label sets are equal are merged; samples with the same stack (and
//    span/trace) within a series are summed.
//  * Per sample type the labels get `__type__`, `__unit__`, `__period_type__`/`__period_unit__`
//    (when the profile has a period type), `__service_name__` (copy of `service_name`, which is
//    set to `unknown_service` when absent) and `__profile_type__`; `__delta__` and `__order__`
//    are removed (the segment-writer never stores them). The result is in canonical order, so
//    its fingerprint equals Pyroscope's series fingerprint.
//  * Samples whose value for the type is not positive are left out of that type's profile.
//
// Symbols are not copied per series: every SeriesProfile of one split shares the source
// profile's string table, locations, functions and mappings through `symbols`.
#ifndef EMBERS_PPROF_SPLIT_H_
#define EMBERS_PPROF_SPLIT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/labels.h"
#include "model/profile_type.h"
#include "model/trace_id.h"
#include "pprof/profile.h"

namespace embers::pprof {

inline constexpr std::string_view kSpanIdLabel = "span_id";
inline constexpr std::string_view kTraceIdLabel = "trace_id";
inline constexpr std::string_view kProfileIdLabel = "profile_id";

struct SeriesProfile {
  model::Labels labels;      // canonical order, including __profile_type__
  uint64_t fingerprint = 0;  // labels.Fingerprint()
  model::ProfileType type;
  // This series' samples for one sample type: `samples`, `location_ids`, `values` (one per
  // sample) and `labels` (span_id/trace_id only) are this series' own; `sample_types` has one
  // entry; time_nanos, duration_nanos, period, period_type, comments and the frame filters are
  // copied from the source. Symbol tables (strings, locations, lines, functions, mappings) are
  // empty here: every string index and location id refers to `*symbols`. `*symbols` is the
  // source profile with its sample arrays emptied (they were recycled for the next decode).
  Profile samples;
  std::shared_ptr<const Profile> symbols;
  // Parallel to samples.samples, or empty when no sample has one: the span id of each sample
  // (from a 16-hex-digit `span_id` label), 0 when it has none.
  std::vector<uint64_t> span_ids;
  // Likewise the trace id of each sample (from a 32-hex-digit `trace_id` label).
  std::vector<model::TraceId> trace_ids;

  // A standalone pprof of this series (symbols copied in), e.g. to Encode() it.
  Profile ToPprof() const;
};

// Splits a decoded (and normally Normalize()d) profile. `series_labels` are the labels sent with
// the profile (they must include `__name__`, the first part of the profile type). Output order:
// series in first-seen order, and for each series the sample types in profile order. Series
// with no positive sample for a type produce no SeriesProfile for that type.
absl::StatusOr<std::vector<SeriesProfile>> SplitBySeries(Profile profile,
                                                         const model::Labels& series_labels);

// Parses a span id as Pyroscope stores it: 16 hex digits → uint64 (big-endian digit order).
// Returns 0 for anything else.
uint64_t ParseSpanId(std::string_view s);
// The inverse: 16 lowercase hex digits (what a span selector takes back).
std::string FormatSpanId(uint64_t id);

}  // namespace embers::pprof

#endif  // EMBERS_PPROF_SPLIT_H_
