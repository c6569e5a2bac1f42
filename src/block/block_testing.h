// Test helpers for src/block: profiles built in code from function names, and the profiles of a
// stored object as a user reads them back (stacks resolved to function names), so tests compare
// what goes in with what comes out without depending on stack-trace ids. Test-only.
#ifndef EMBERS_BLOCK_BLOCK_TESTING_H_
#define EMBERS_BLOCK_BLOCK_TESTING_H_

#include <compare>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "block/object_reader.h"
#include "model/profile_id.h"
#include "model/trace_id.h"
#include "objstore/bucket.h"
#include "pprof/profile.h"

namespace embers::block::testing {

// One sample: function names from the root to the leaf, its value, span id and trace id (0 =
// none).
struct StackSample {
  std::vector<std::string> frames;
  int64_t value = 0;
  uint64_t span_id = 0;
  model::TraceId trace_id;
};

// A pprof profile (one sample type, cpu nanoseconds) holding `samples` in order; functions and
// locations are numbered in first-use order.
pprof::Profile ProfileOf(const std::vector<StackSample>& samples);
// The samples' span ids, for DatasetBuilder::Append (empty when none has one).
std::vector<uint64_t> SpanIdsOf(const std::vector<StackSample>& samples);
// The samples' trace ids (empty when none has one).
std::vector<model::TraceId> TraceIdsOf(const std::vector<StackSample>& samples);

// "root;...;leaf" of stack-trace id `id` (the frames of inlined functions joined the same way).
std::string StackName(const Symbols& symbols, uint32_t id);

// A stored profile as a user sees it.
struct StoredProfile {
  std::string tenant;
  std::string service;
  std::string labels;  // Labels::ToString()
  uint64_t fingerprint = 0;
  int64_t timestamp_ms = 0;
  int64_t duration_ns = 0;
  model::ProfileId profile_id;
  // (stack name, value, span id, trace id), sorted.
  std::vector<std::tuple<std::string, int64_t, uint64_t, model::TraceId>> samples;

  friend bool operator==(const StoredProfile&, const StoredProfile&) = default;
  friend auto operator<=>(const StoredProfile&, const StoredProfile&) = default;
};
std::ostream& operator<<(std::ostream& os, const StoredProfile& p);

// Every profile of every dataset of an object, sorted.
absl::StatusOr<std::vector<StoredProfile>> ReadStoredProfiles(const ObjectReader& object);
absl::StatusOr<std::vector<StoredProfile>> ReadStoredProfiles(objstore::Bucket* bucket,
                                                              const std::string& key);

}  // namespace embers::block::testing

#endif  // EMBERS_BLOCK_BLOCK_TESTING_H_
