#include "query/stack_filter.h"

#include <algorithm>

#include "base/strings.h"
#include "pprof/split.h"

namespace embers::query {

bool SampleFilter::HasSpan(uint64_t id) const {
  return std::binary_search(span_ids.begin(), span_ids.end(), id);
}

bool SampleFilter::HasTrace(model::TraceId id) const {
  return std::binary_search(trace_ids.begin(), trace_ids.end(), id);
}

bool SampleFilter::HasProfile(model::ProfileId id) const {
  return profile_ids.empty() || std::binary_search(profile_ids.begin(), profile_ids.end(), id);
}

std::vector<bool> SampleFilter::MatchStacks(const block::Symbols& symbols) const {
  const size_t nodes = symbols.node_parent.size();
  const int want = static_cast<int>(call_site.size());
  // matched[n]: how many call-site frames the stack of n matches so far; -1 once it diverged.
  std::vector<int> matched(nodes, 0);
  std::vector<bool> out(nodes, want == 0);
  if (want == 0) return out;
  for (size_t n = 1; n < nodes; ++n) {
    int m = matched[symbols.node_parent[n]];
    if (m >= 0 && m < want) {
      const block::SymbolLocation& loc = symbols.locations[symbols.node_location[n]];
      auto lines = symbols.LocationLines(loc);
      if (lines.empty()) {
        // An unsymbolized frame is named by its address, as in the flame graph.
        m = call_site[m] == StrCat("0x", Hex(loc.address)) ? m + 1 : -1;
      }
      for (auto it = lines.rbegin(); it != lines.rend() && m >= 0 && m < want; ++it) {
        m = symbols.strings[symbols.functions[it->function].name] == call_site[m] ? m + 1 : -1;
      }
    }
    matched[n] = m;
    out[n] = m == want;
  }
  return out;
}

namespace {

// Parses each of `texts` with `parse` (text → std::optional<Id>, nullopt when invalid) into a
// sorted set without repeats; InvalidArgument naming the bad one and `want`.
template <typename Id, typename Parse>
absl::StatusOr<std::vector<Id>> ParseIdSet(const std::vector<std::string>& texts, Parse&& parse,
                                           std::string_view what, std::string_view want) {
  std::vector<Id> out;
  out.reserve(texts.size());
  for (const std::string& s : texts) {
    const std::optional<Id> id = parse(s);
    if (!id.has_value()) {
      return absl::InvalidArgumentError(StrCat("invalid ", what, " \"", s, "\": want ", want));
    }
    out.push_back(*id);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

absl::StatusOr<std::vector<uint64_t>> ParseSpanSelector(const std::vector<std::string>& spans) {
  // Zero is how a sample without a span id is stored: never a span to select.
  auto parse = [](std::string_view s) -> std::optional<uint64_t> {
    const uint64_t id = pprof::ParseSpanId(s);
    if (id == 0) return std::nullopt;
    return id;
  };
  return ParseIdSet<uint64_t>(spans, parse, "span id", "16 hexadecimal digits");
}

absl::StatusOr<std::vector<model::TraceId>> ParseTraceIdSelector(
    const std::vector<std::string>& traces) {
  auto parse = [](std::string_view s) -> std::optional<model::TraceId> {
    std::optional<model::TraceId> id = model::ParseTraceId(s);
    if (id.has_value() && id->empty()) return std::nullopt;  // as for span ids
    return id;
  };
  return ParseIdSet<model::TraceId>(traces, parse, "trace id",
                                    "32 hexadecimal digits, not all zero");
}

absl::StatusOr<std::vector<model::ProfileId>> ParseProfileIdSelector(
    const std::vector<std::string>& ids) {
  return ParseIdSet<model::ProfileId>(ids, model::ParseProfileId, "profile id", "a UUID");
}

}  // namespace embers::query
