// Sample filters of a query: the stack-trace selector (call site), the span selector, the
// trace-id selector and the profile-id selector.
//
// StackTraceSelector.call_site lists function names root first; a stack is selected when it
// starts with them (the frames of inlined functions count one by one, as in the flame graph).
// The query-backend evaluates it once per dataset over the stack-trace tree — a node's state
// follows from its parent's, so it is one forward pass — and then drops unselected stack-trace
// ids from tree, pprof and time-series reports alike. The span selector keeps samples whose span
// id is one of the given ones (span ids are stored per sample, reference §9.1), the trace-id
// selector those whose trace id is (likewise per sample); the profile-id selector keeps whole
// profiles by the id their client pushed them with.
#ifndef EMBERS_QUERY_STACK_FILTER_H_
#define EMBERS_QUERY_STACK_FILTER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "block/symbols.h"
#include "model/profile_id.h"
#include "model/trace_id.h"

namespace embers::query {

struct SampleFilter {
  std::vector<std::string> call_site;  // root first; empty = every stack
  std::vector<uint64_t> span_ids;      // sorted; used when `by_span` is set
  bool by_span = false;
  std::vector<model::TraceId> trace_ids;  // sorted; used when `by_trace` is set
  bool by_trace = false;
  std::vector<model::ProfileId> profile_ids;  // sorted; whole profiles, when not empty

  bool empty() const { return call_site.empty() && !by_span && !by_trace && profile_ids.empty(); }
  bool HasSpan(uint64_t id) const;
  bool HasTrace(model::TraceId id) const;
  // Whether a profile (row) with this id is selected.
  bool HasProfile(model::ProfileId id) const;
  // For each stack-tree node of `symbols`: whether its stack starts with call_site.
  std::vector<bool> MatchStacks(const block::Symbols& symbols) const;
};

// Parses span ids as the API sends them (16 hex digits each) into a sorted filter set.
absl::StatusOr<std::vector<uint64_t>> ParseSpanSelector(const std::vector<std::string>& spans);
// Parses trace ids as the API sends them (32 hex digits each) into a sorted filter set.
absl::StatusOr<std::vector<model::TraceId>> ParseTraceIdSelector(
    const std::vector<std::string>& traces);
// Parses profile ids (UUIDs, as pushed in RawSample.ID) into a sorted filter set.
absl::StatusOr<std::vector<model::ProfileId>> ParseProfileIdSelector(
    const std::vector<std::string>& ids);

}  // namespace embers::query

#endif  // EMBERS_QUERY_STACK_FILTER_H_
