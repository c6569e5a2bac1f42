#include "query/stack_filter.h"

#include <algorithm>

#include "base/strings.h"
#include "pprof/split.h"

namespace embers::query {

bool SampleFilter::HasSpan(uint64_t id) const {
  return std::binary_search(span_ids.begin(), span_ids.end(), id);
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

absl::StatusOr<std::vector<uint64_t>> ParseSpanSelector(const std::vector<std::string>& spans) {
  std::vector<uint64_t> ids;
  ids.reserve(spans.size());
  for (const std::string& s : spans) {
    const uint64_t id = pprof::ParseSpanId(s);
    if (id == 0) {
      return absl::InvalidArgumentError(
          StrCat("invalid span id \"", s, "\": want 16 hexadecimal digits"));
    }
    ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

absl::StatusOr<std::vector<model::ProfileId>> ParseProfileIdSelector(
    const std::vector<std::string>& ids) {
  std::vector<model::ProfileId> out;
  out.reserve(ids.size());
  for (const std::string& s : ids) {
    std::optional<model::ProfileId> id = model::ParseProfileId(s);
    if (!id.has_value()) {
      return absl::InvalidArgumentError(StrCat("invalid profile id \"", s, "\": want a UUID"));
    }
    out.push_back(*id);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace embers::query
