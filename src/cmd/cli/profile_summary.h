// ProfileSummary: what the query commands print from a merged pprof profile — each function's
// self and total (a function counted once per sample however often it recurses, as `go tool
// pprof -top` counts "cum"), collapsed stacks ("root;…;leaf value"), and the diff of two
// profiles ranked by change. Computed from the full profile SelectMergeProfile returns, so a top
// table is exact rather than cut by a flame graph's node limit.
#ifndef EMBERS_CMD_CLI_PROFILE_SUMMARY_H_
#define EMBERS_CMD_CLI_PROFILE_SUMMARY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/v1/profile.pb.h"

namespace embers::cli {

struct FunctionTotals {
  std::string name;
  int64_t self = 0;
  int64_t total = 0;
};

struct ProfileSummary {
  std::string sample_type;  // "cpu", "alloc_space", …
  std::string unit;         // "nanoseconds", "bytes", "count", …
  int64_t total = 0;        // sum over samples
  // Sorted by self, then total, descending; then by name.
  std::vector<FunctionTotals> functions;
};

// The index of the sample type named `type` ("" : the last one, the profile's usual default).
absl::StatusOr<int> SampleTypeIndex(const google::v1::Profile& profile, const std::string& type);

ProfileSummary Summarize(const google::v1::Profile& profile, int sample_index);

// One line per distinct stack, root first, frames joined by ';', then a space and the value;
// lines sorted. Stacks with a zero value are left out.
std::string CollapsedStacks(const google::v1::Profile& profile, int sample_index);

struct FunctionChange {
  std::string name;
  // Self as a share of each side's total (0–1), so sides of different sizes compare.
  double left_share = 0;
  double right_share = 0;
  int64_t left_self = 0;
  int64_t right_self = 0;
};

// Every function of either side, ranked by |right_share - left_share|, largest first.
std::vector<FunctionChange> DiffSummaries(const ProfileSummary& left, const ProfileSummary& right);

}  // namespace embers::cli

#endif  // EMBERS_CMD_CLI_PROFILE_SUMMARY_H_
