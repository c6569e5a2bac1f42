// Validation limits and normalisation of a decoded profile, as Pyroscope's distributor applies
// them to every pushed pprof (reference §2.4 steps 3-4: ValidateProfile, then Normalize).
//
// Called by the distributor on every decoded profile before it is split into series. What each
// step does and how it matches upstream (pkg/validation/validate.go ValidateProfile,
// pkg/pprof/pprof.go Normalize):
//
//   limit / step                     upstream behaviour (and ours)
//   -------------------------------  ---------------------------------------------------------
//   > max_samples samples (16000)    reject: InvalidArgument, counted before merging
//   > max_labels_per_sample (100)    reject: InvalidArgument
//   stack deeper than max_stack_depth (1000)
//                                    truncate, keeping the root-most frames: location_ids[0] is
//                                    the leaf, so the leaf-most frames are dropped
//   string longer than max_symbol_length (65535)
//                                    truncate, keeping the *last* bytes (the distinctive end of
//                                    a long symbol); we also move the cut forward to a UTF-8
//                                    character boundary so the result stays valid UTF-8
//   sample type containing '-'       reject: "sample type contains -" (the /ingest path rewrites
//                                    hyphens before this runs)
//   time_nanos == 0                  set to now
//   non-string sample labels         dropped
//   samples with identical stack and string labels
//                                    merged (values summed); labels are sorted by (key, str)
//   samples with no value > 0        dropped (after merging)
//   mappings with has_functions      addresses cleared (mapping ranges and location addresses):
//                                    symbolized profiles do not need them and they defeat
//                                    deduplication of locations
//
// Not done (upstream does, but nothing downstream needs it): garbage-collecting locations,
// functions and strings that no remaining sample references. The segment-writer only copies
// symbols reachable from samples, so unreferenced ones cost nothing there.
//
// Merging is exact (hash + full comparison), unlike upstream's hash-only merge, and keeps the
// first-seen order of samples instead of hash order.
#ifndef EMBERS_PPROF_NORMALIZE_H_
#define EMBERS_PPROF_NORMALIZE_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "pprof/profile.h"

namespace embers::pprof {

struct NormalizeOptions {
  // Pyroscope's validation.* limits; 0 disables each one.
  size_t max_samples = 16000;
  size_t max_labels_per_sample = 100;
  size_t max_stack_depth = 1000;
  size_t max_symbol_length = 65535;
  // Reject sample types whose name contains '-' (Push path; upstream ValidateProfile).
  bool reject_hyphenated_sample_types = true;
  // Used for a missing time_nanos; 0 means the current time.
  int64_t now_nanos = 0;
};

// Validates against the limits and normalises `*profile` in place. `profile` must come from the
// decoder (or have passed pprof::Validate). Errors are InvalidArgument.
absl::Status Normalize(Profile* profile, const NormalizeOptions& options = {});

}  // namespace embers::pprof

#endif  // EMBERS_PPROF_NORMALIZE_H_
