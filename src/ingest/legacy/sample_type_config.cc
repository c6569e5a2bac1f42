#include "ingest/legacy/sample_type_config.h"

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "base/strings.h"

namespace embers::ingest {
namespace {

absl::Status Invalid(std::string_view message) {
  return absl::InvalidArgumentError(ToAbsl(StrCat("sample_type_config: ", message)));
}

absl::Status ReadString(const nlohmann::json& obj, std::string_view type, const char* field,
                        std::string* out) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_string()) return Invalid(StrCat(type, ".", field, ": want a string"));
  *out = it->get<std::string>();
  return absl::OkStatus();
}

absl::Status ReadBool(const nlohmann::json& obj, std::string_view type, const char* field,
                      bool* out) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_boolean()) return Invalid(StrCat(type, ".", field, ": want true or false"));
  *out = it->get<bool>();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SampleTypeConfigMap> ParseSampleTypeConfig(std::string_view json) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json.begin(), json.end());
  } catch (const nlohmann::json::parse_error& e) {
    return Invalid(StrCat("invalid JSON at byte ", e.byte));
  } catch (const nlohmann::json::exception& e) {
    // e.g. out_of_range for a number beyond double (1e999): found by fuzzing; must not abort.
    return Invalid(StrCat("invalid JSON: ", e.what()));
  }
  if (doc.is_null()) return SampleTypeConfigMap();  // Go: "null" leaves the map empty
  if (!doc.is_object()) return Invalid("want a JSON object");
  SampleTypeConfigMap out;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string& type = it.key();
    if (it->is_null()) continue;
    if (!it->is_object()) return Invalid(StrCat(type, ": want a JSON object"));
    SampleTypeConfig c;
    absl::Status s = ReadString(*it, type, "units", &c.units);
    if (s.ok()) s = ReadString(*it, type, "aggregation", &c.aggregation);
    if (s.ok()) s = ReadString(*it, type, "display-name", &c.display_name);
    if (s.ok()) s = ReadBool(*it, type, "sampled", &c.sampled);
    if (s.ok()) s = ReadBool(*it, type, "cumulative", &c.cumulative);
    if (!s.ok()) return s;
    if (!c.aggregation.empty() && c.aggregation != "sum" && c.aggregation != "average") {
      return Invalid(StrCat(type, ".aggregation: want sum or average"));
    }
    out[type] = std::move(c);
  }
  return out;
}

const SampleTypeConfigMap& DefaultSampleTypeConfig() {
  // Immutable after construction (thread-safe static initialisation); never freed.
  static const SampleTypeConfigMap* const kDefault = new SampleTypeConfigMap{
      {"samples", {"samples", "", "cpu", true, false}},
      {"inuse_objects", {"objects", "average", "", false, false}},
      {"alloc_objects", {"objects", "", "", false, true}},
      {"inuse_space", {"bytes", "average", "", false, false}},
      {"alloc_space", {"bytes", "", "", false, true}},
      {"goroutine", {"goroutines", "average", "goroutines", false, false}},
      {"contentions", {"lock_samples", "", "mutex_count", false, true}},
      {"delay", {"lock_nanoseconds", "", "mutex_duration", false, true}},
  };
  return *kDefault;
}

}  // namespace embers::ingest
