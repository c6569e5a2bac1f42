#include "block/block_testing.h"

#include <algorithm>
#include <map>
#include <ostream>

#include "base/status.h"

namespace embers::block::testing {

pprof::Profile ProfileOf(const std::vector<StackSample>& samples) {
  pprof::Profile p;
  p.strings = {"", "cpu", "nanoseconds"};
  p.sample_types.push_back({1, 2});
  // Function (and location) ids in first-use order; names are copied into one backing string
  // first, so the views into it stay valid.
  std::map<std::string, uint64_t> location_of;
  std::vector<std::string> names;
  for (const StackSample& s : samples) {
    for (const std::string& name : s.frames) {
      if (location_of.emplace(name, names.size() + 1).second) names.push_back(name);
    }
  }
  auto backing = std::make_shared<std::string>();
  for (const std::string& name : names) backing->append(name);
  size_t at = 0;
  for (uint64_t id = 1; id <= names.size(); ++id) {
    p.strings.push_back(std::string_view(*backing).substr(at, names[id - 1].size()));
    at += names[id - 1].size();
    p.functions.push_back({.id = id, .name = static_cast<int64_t>(p.strings.size() - 1)});
    p.lines.push_back({.function_id = id, .line = static_cast<int64_t>(id)});
    p.locations.push_back({.id = id,
                           .address = 0x1000 * id,
                           .line_begin = static_cast<uint32_t>(id - 1),
                           .line_count = 1});
  }
  for (const StackSample& s : samples) {
    pprof::Sample sample;
    sample.location_begin = static_cast<uint32_t>(p.location_ids.size());
    sample.location_count = static_cast<uint32_t>(s.frames.size());
    for (auto it = s.frames.rbegin(); it != s.frames.rend(); ++it) {
      p.location_ids.push_back(location_of[*it]);  // pprof stacks are leaf first
    }
    sample.value_begin = static_cast<uint32_t>(p.values.size());
    sample.value_count = 1;
    p.values.push_back(s.value);
    p.samples.push_back(sample);
  }
  p.backing.push_back(std::move(backing));
  return p;
}

std::vector<uint64_t> SpanIdsOf(const std::vector<StackSample>& samples) {
  std::vector<uint64_t> spans;
  for (const StackSample& s : samples) spans.push_back(s.span_id);
  if (std::all_of(spans.begin(), spans.end(), [](uint64_t s) { return s == 0; })) spans.clear();
  return spans;
}

std::vector<model::TraceId> TraceIdsOf(const std::vector<StackSample>& samples) {
  std::vector<model::TraceId> traces;
  for (const StackSample& s : samples) traces.push_back(s.trace_id);
  if (std::all_of(traces.begin(), traces.end(), [](model::TraceId t) { return t.empty(); })) {
    traces.clear();
  }
  return traces;
}

std::string StackName(const Symbols& symbols, uint32_t id) {
  std::vector<uint32_t> leaf_first;
  if (!symbols.Stack(id, &leaf_first)) return "<bad stack id>";
  std::string out;
  for (auto it = leaf_first.rbegin(); it != leaf_first.rend(); ++it) {
    const SymbolLocation& loc = symbols.locations[*it];
    const auto lines = symbols.LocationLines(loc);
    if (lines.empty()) {
      if (!out.empty()) out += ";";
      out += "0x" + std::to_string(loc.address);
    }
    // Inlined frames: the last line is the caller.
    for (auto line = lines.rbegin(); line != lines.rend(); ++line) {
      if (!out.empty()) out += ";";
      out += std::string(symbols.strings[symbols.functions[line->function].name]);
    }
  }
  return out;
}

std::ostream& operator<<(std::ostream& os, const StoredProfile& p) {
  os << p.tenant << "/" << p.service << " " << p.labels << " @" << p.timestamp_ms << " d"
     << p.duration_ns << " id " << p.profile_id.hi << ":" << p.profile_id.lo << " [";
  for (const auto& [stack, value, span, trace] : p.samples) {
    os << " " << stack << "=" << value;
    if (span != 0) os << "/span" << span;
    if (!trace.empty()) os << "/trace" << model::FormatTraceId(trace);
  }
  return os << " ]";
}

absl::StatusOr<std::vector<StoredProfile>> ReadStoredProfiles(const ObjectReader& object) {
  std::vector<StoredProfile> out;
  for (int d = 0; d < object.meta().datasets_size(); ++d) {
    EMBERS_ASSIGN_OR_RETURN(const std::vector<SeriesInfo> series, object.ReadSeries(d));
    EMBERS_ASSIGN_OR_RETURN(const Symbols symbols, object.ReadSymbols(d));
    EMBERS_ASSIGN_OR_RETURN(const ProfileRows rows, object.ReadProfiles(d));
    for (size_t r = 0; r < rows.size(); ++r) {
      if (rows.series[r] >= series.size()) return absl::DataLossError("row of no series");
      const SeriesInfo& s = series[rows.series[r]];
      StoredProfile p;
      p.tenant = std::string(object.String(object.meta().datasets(d).tenant()));
      p.service = std::string(object.String(object.meta().datasets(d).name()));
      p.labels = s.labels.ToString();
      p.fingerprint = s.fingerprint;
      p.timestamp_ms = rows.timestamp_ms[r];
      p.duration_ns = rows.duration_ns[r];
      p.profile_id = rows.profile_ids[r];
      for (uint32_t i = 0; i < rows.sample_count[r]; ++i) {
        const uint32_t k = rows.sample_begin[r] + i;
        const uint64_t span = rows.span_count[r] == 0 ? 0 : rows.span_ids[rows.span_begin[r] + i];
        const model::TraceId trace =
            rows.trace_count[r] == 0 ? model::TraceId{} : rows.trace_ids[rows.trace_begin[r] + i];
        p.samples.emplace_back(StackName(symbols, rows.stack_ids[k]), rows.values[k], span, trace);
      }
      std::sort(p.samples.begin(), p.samples.end());
      out.push_back(std::move(p));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<std::vector<StoredProfile>> ReadStoredProfiles(objstore::Bucket* bucket,
                                                              const std::string& key) {
  EMBERS_ASSIGN_OR_RETURN(const ObjectReader object, ObjectReader::Open(bucket, key));
  return ReadStoredProfiles(object);
}

}  // namespace embers::block::testing
