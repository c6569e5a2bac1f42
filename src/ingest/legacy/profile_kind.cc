#include "ingest/legacy/profile_kind.h"

#include <charconv>
#include <limits>

#include "absl/status/status.h"
#include "base/strings.h"

namespace embers::ingest {
namespace {

struct Kind {
  std::string_view suffix;
  std::string_view metric;
  std::string_view sample_type;  // empty: the suffix itself
  std::string_view unit;
};

constexpr Kind kKinds[] = {
    {"cpu", "process_cpu", "samples", "count"},
    {"itimer", "process_cpu", "samples", "count"},
    {"wall", "wall", "samples", "count"},
    {"seconds", "wall", "samples", "count"},
    {"nanoseconds", "wall", "samples", "count"},
    {"microseconds", "wall", "samples", "count"},
    {"milliseconds", "wall", "samples", "count"},
    {"inuse_objects", "memory", "", "count"},
    {"alloc_objects", "memory", "", "count"},
    {"inuse_space", "memory", "", "bytes"},
    {"alloc_space", "memory", "", "bytes"},
    {"goroutines", "goroutine", "", "count"},
    {"mutex_count", "mutex", "contentions", "count"},
    {"mutex_duration", "mutex", "delay", "nanoseconds"},
    {"block_count", "block", "contentions", "count"},
    {"block_duration", "block", "delay", "nanoseconds"},
    {"lock_count", "block", "contentions", "count"},
    {"lock_duration", "block", "delay", "nanoseconds"},
    {"alloc_in_new_tlab_objects", "memory", "", "count"},
    {"alloc_in_new_tlab_bytes", "memory", "", "bytes"},
    {"alloc_outside_tlab_objects", "memory", "", "count"},
    {"alloc_outside_tlab_bytes", "memory", "", "bytes"},
    {"live", "memory", "", "count"},
    {"exceptions", "exceptions", "samples", "count"},
    {"bytes", "memory", "samples", "bytes"},
};

bool AllowedForIngestion(std::string_view name) {
  return name.substr(0, 2) != "__" || name == "__session_id__";
}

}  // namespace

std::string LegacyProfileType::ProfileTypeId() const {
  return StrCat(metric_name, ":", sample_type, ":", sample_unit, ":", period_type, ":",
                period_unit);
}

absl::StatusOr<LegacyProfileType> ResolveLegacyProfileType(std::string_view app_name,
                                                           uint32_t sample_rate) {
  LegacyProfileType t;
  std::string_view suffix = "cpu";
  const size_t dot = app_name.rfind('.');
  if (dot == std::string_view::npos) {
    t.service_name.assign(app_name);
  } else {
    suffix = app_name.substr(dot + 1);
    t.service_name.assign(app_name.substr(0, dot));
  }
  const Kind* kind = nullptr;
  for (const Kind& k : kKinds) {
    if (k.suffix == suffix) kind = &k;
  }
  if (kind == nullptr) {
    return absl::InvalidArgumentError(ToAbsl(StrCat("unknown profile type: ", suffix)));
  }
  t.metric_name.assign(kind->metric);
  t.sample_type.assign(kind->sample_type.empty() ? kind->suffix : kind->sample_type);
  t.sample_unit.assign(kind->unit);
  if (sample_rate != 0 && (t.metric_name == "process_cpu" || t.metric_name == "wall")) {
    t.period = 1'000'000'000 / static_cast<int64_t>(sample_rate);
    if (t.period == 0) {
      return absl::InvalidArgumentError(
          ToAbsl(StrCat("sampleRate ", sample_rate, " is above 1e9 Hz")));
    }
    t.period_type = "cpu";
    t.period_unit = "nanoseconds";
    t.sample_type = t.metric_name == "wall" ? "wall" : "cpu";
    t.sample_unit = "nanoseconds";
    t.value_multiplier = t.period;
  }
  return t;
}

std::vector<std::pair<std::string, std::string>> LegacySeriesLabels(const AppName& app,
                                                                    const LegacyProfileType& type,
                                                                    std::string_view spy_name) {
  std::vector<std::pair<std::string, std::string>> labels;
  labels.reserve(app.tags.size() + 4);
  labels.emplace_back("__name__", type.metric_name);
  labels.emplace_back("__delta__", "false");
  if (!spy_name.empty()) labels.emplace_back("pyroscope_spy", std::string(spy_name));
  bool has_service_name = false, has_app_name = false;
  for (const auto& [k, v] : app.tags) {
    if (!AllowedForIngestion(k)) continue;
    has_service_name |= k == "service_name";
    has_app_name |= k == "app_name";
    labels.emplace_back(k, v);
  }
  if (!has_service_name) {
    labels.emplace_back("service_name", type.service_name);
  } else if (!has_app_name) {
    labels.emplace_back("app_name", type.service_name);
  }
  return labels;
}

absl::StatusOr<uint32_t> ParseSampleRate(std::string_view value) {
  value = StripWhitespace(value);
  if (value.empty()) return 100u;
  int64_t v = 0;
  if (!ParseInt64(value, &v)) return 100u;  // upstream logs and keeps the default
  if (v < 0 || v > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError(ToAbsl(StrCat("sampleRate: out of range: ", v)));
  }
  return static_cast<uint32_t>(v);
}

absl::StatusOr<AggregationType> ParseAggregationType(std::string_view value) {
  if (value.empty() || value == "sum") return AggregationType::kSum;
  if (value == "average") return AggregationType::kAverage;
  return absl::InvalidArgumentError(
      ToAbsl(StrCat("aggregationType: want sum or average, got \"", value.substr(0, 32), "\"")));
}

}  // namespace embers::ingest
