#include "ingest/legacy/speedscope.h"

#include <cmath>
#include <memory>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "base/strings.h"

namespace embers::ingest {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kSchema = "https://www.speedscope.app/file-format-schema.json";

absl::Status Invalid(std::string_view message) {
  return UnprocessableError(StrCat("speedscope: ", message));
}

bool ParseUnit(std::string_view s, SpeedscopeUnit* out) {
  static constexpr std::pair<std::string_view, SpeedscopeUnit> kUnits[] = {
      {"none", SpeedscopeUnit::kNone},
      {"nanoseconds", SpeedscopeUnit::kNanoseconds},
      {"microseconds", SpeedscopeUnit::kMicroseconds},
      {"milliseconds", SpeedscopeUnit::kMilliseconds},
      {"seconds", SpeedscopeUnit::kSeconds},
      {"bytes", SpeedscopeUnit::kBytes},
  };
  for (const auto& [name, unit] : kUnits) {
    if (name == s) {
      *out = unit;
      return true;
    }
  }
  return false;
}

// A string member, "" when absent or null (Go's zero value); an error when of another type.
absl::Status GetString(const Json& obj, const char* field, std::string_view where,
                       std::string* out) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_string()) return Invalid(StrCat(where, ".", field, ": want a string"));
  *out = it->get<std::string>();
  return absl::OkStatus();
}

absl::Status GetNumber(const Json& obj, const char* field, std::string_view where, double* out) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_number()) return Invalid(StrCat(where, ".", field, ": want a number"));
  *out = it->get<double>();
  if (!std::isfinite(*out)) return Invalid(StrCat(where, ".", field, ": not finite"));
  return absl::OkStatus();
}

// An array member; nullptr when absent or null.
absl::StatusOr<const Json*> GetArray(const Json& obj, const char* field, std::string_view where) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return nullptr;
  if (!it->is_array()) return Invalid(StrCat(where, ".", field, ": want an array"));
  return &*it;
}

// Maps a speedscope frame index (a JSON number) to our frame id.
absl::Status FrameId(const Json& v, const std::vector<uint32_t>& frames, std::string_view where,
                     uint32_t* out) {
  if (!v.is_number()) return Invalid(StrCat(where, ": frame index is not a number"));
  const double d = v.get<double>();
  if (!(d >= 0 && d < static_cast<double>(frames.size())) || d != std::floor(d)) {
    return Invalid(StrCat(where, ": invalid frame index ", d, " (", frames.size(), " frames)"));
  }
  *out = frames[static_cast<size_t>(d)];
  return absl::OkStatus();
}

// weight × multiplier as an int64 (truncated toward zero, as a Go uint64 conversion would).
absl::Status ScaledValue(double weight, int64_t multiplier, std::string_view where, int64_t* out) {
  const double v = weight * static_cast<double>(multiplier);
  if (!(v >= 0) || v >= 9.2e18) return Invalid(StrCat(where, ": value ", weight, " out of range"));
  *out = static_cast<int64_t>(v);
  return absl::OkStatus();
}

struct Source {
  const Json* json;
  size_t index;
};

absl::Status ParseEvented(const Json& prof, size_t index, double start_value, int64_t mult,
                          const std::vector<uint32_t>& frames, const ParseLimits& limits,
                          StackSamplesBuilder& out) {
  const std::string where = StrCat("profiles[", index, "]");
  absl::StatusOr<const Json*> events = GetArray(prof, "events", where);
  if (!events.ok()) return events.status();
  if (*events == nullptr) return absl::OkStatus();
  std::vector<uint32_t> stack;
  double last = start_value;
  for (size_t i = 0; i < (*events)->size(); ++i) {
    const Json& ev = (**events)[i];
    const std::string ew = StrCat(where, ".events[", i, "]");
    if (!ev.is_object()) return Invalid(StrCat(ew, ": want an object"));
    std::string type;
    double at = 0;
    EMBERS_RETURN_IF_ERROR(GetString(ev, "type", ew, &type));
    EMBERS_RETURN_IF_ERROR(GetNumber(ev, "at", ew, &at));
    if (at < last) return Invalid(StrCat(ew, ": events out of order, ", at, " < ", last));
    auto frame_it = ev.find("frame");
    uint32_t id = 0;
    if (frame_it == ev.end()) return Invalid(StrCat(ew, ": missing frame"));
    EMBERS_RETURN_IF_ERROR(FrameId(*frame_it, frames, ew, &id));
    int64_t value = 0;
    EMBERS_RETURN_IF_ERROR(ScaledValue(at - last, mult, ew, &value));
    if (type == "O") {
      if (!stack.empty()) EMBERS_RETURN_IF_ERROR(out.AddStack(stack, value));
      if (stack.size() >= limits.max_stack_depth) {
        return PayloadTooLargeError(StrCat(
            "speedscope: ", ew, ": stack depth exceeds the limit of ", limits.max_stack_depth));
      }
      stack.push_back(id);
    } else if (type == "C") {
      if (stack.empty()) return Invalid(StrCat(ew, ": no open frame to close"));
      if (stack.back() != id) return Invalid(StrCat(ew, ": closing a frame that is not open"));
      EMBERS_RETURN_IF_ERROR(out.AddStack(stack, value));
      stack.pop_back();
    } else {
      return Invalid(StrCat(ew, ": unknown event type \"", type.substr(0, 16), "\""));
    }
    last = at;
  }
  return absl::OkStatus();
}

absl::Status ParseSampled(const Json& prof, size_t index, int64_t mult,
                          const std::vector<uint32_t>& frames, StackSamplesBuilder& out) {
  const std::string where = StrCat("profiles[", index, "]");
  absl::StatusOr<const Json*> samples = GetArray(prof, "samples", where);
  if (!samples.ok()) return samples.status();
  absl::StatusOr<const Json*> weights = GetArray(prof, "weights", where);
  if (!weights.ok()) return weights.status();
  const size_t ns = *samples ? (*samples)->size() : 0;
  const size_t nw = *weights ? (*weights)->size() : 0;
  if (ns != nw) return Invalid(StrCat(where, ": ", ns, " samples but ", nw, " weights"));
  std::vector<uint32_t> stack;
  for (size_t i = 0; i < ns; ++i) {
    const std::string sw = StrCat(where, ".samples[", i, "]");
    const Json& w = (**weights)[i];
    if (!w.is_number()) return Invalid(StrCat(where, ".weights[", i, "]: want a number"));
    const double weight = w.get<double>();
    if (weight < 0) return Invalid(StrCat(where, ".weights[", i, "]: negative weight"));
    const Json& s = (**samples)[i];
    if (!s.is_array()) return Invalid(StrCat(sw, ": want an array of frame indices"));
    stack.clear();
    for (const Json& f : s) {
      uint32_t id = 0;
      EMBERS_RETURN_IF_ERROR(FrameId(f, frames, sw, &id));
      stack.push_back(id);
    }
    int64_t value = 0;
    EMBERS_RETURN_IF_ERROR(ScaledValue(weight, mult, sw, &value));
    EMBERS_RETURN_IF_ERROR(out.AddStack(stack, value));
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view SpeedscopeUnitName(SpeedscopeUnit unit) {
  switch (unit) {
    case SpeedscopeUnit::kNone:
      return "none";
    case SpeedscopeUnit::kNanoseconds:
      return "nanoseconds";
    case SpeedscopeUnit::kMicroseconds:
      return "microseconds";
    case SpeedscopeUnit::kMilliseconds:
      return "milliseconds";
    case SpeedscopeUnit::kSeconds:
      return "seconds";
    case SpeedscopeUnit::kBytes:
      return "bytes";
  }
  return "none";
}

int64_t SpeedscopeValueMultiplier(SpeedscopeUnit unit) {
  return unit == SpeedscopeUnit::kBytes || unit == SpeedscopeUnit::kNanoseconds ? 1 : 100;
}

uint32_t SpeedscopeDefaultSampleRate(SpeedscopeUnit unit) {
  switch (unit) {
    case SpeedscopeUnit::kNone:
      return 100 * 100;
    case SpeedscopeUnit::kNanoseconds:
      return 1'000'000'000;
    case SpeedscopeUnit::kMicroseconds:
      return 100 * 1'000'000;
    case SpeedscopeUnit::kMilliseconds:
      return 100 * 1'000;
    case SpeedscopeUnit::kSeconds:
      return 100;
    case SpeedscopeUnit::kBytes:
      return 0;
  }
  return 0;
}

absl::StatusOr<std::vector<SpeedscopeProfile>> ParseSpeedscope(std::string_view body,
                                                               const ParseLimits& limits) {
  Json doc;
  try {
    doc = Json::parse(body.begin(), body.end());
  } catch (const Json::parse_error& e) {
    return Invalid(StrCat("invalid JSON at byte ", e.byte));
  } catch (const Json::exception& e) {
    // e.g. out_of_range for a number beyond double (1e999): found by fuzzing; must not abort.
    return Invalid(StrCat("invalid JSON: ", e.what()));
  }
  if (!doc.is_object()) return Invalid("want a JSON object");
  std::string schema;
  EMBERS_RETURN_IF_ERROR(GetString(doc, "$schema", "file", &schema));
  if (schema != kSchema) return Invalid(StrCat("unknown schema \"", schema.substr(0, 80), "\""));

  // Shared frames → our frame ids, interned once in a builder whose names every profile reuses.
  std::vector<std::string> names;
  if (auto shared = doc.find("shared"); shared != doc.end() && !shared->is_null()) {
    if (!shared->is_object()) return Invalid("shared: want an object");
    absl::StatusOr<const Json*> frames = GetArray(*shared, "frames", "shared");
    if (!frames.ok()) return frames.status();
    if (*frames != nullptr) {
      names.reserve((*frames)->size());
      for (size_t i = 0; i < (*frames)->size(); ++i) {
        const Json& f = (**frames)[i];
        const std::string fw = StrCat("shared.frames[", i, "]");
        if (!f.is_object()) return Invalid(StrCat(fw, ": want an object"));
        std::string name;
        EMBERS_RETURN_IF_ERROR(GetString(f, "name", fw, &name));
        names.push_back(std::move(name));
      }
    }
  }

  absl::StatusOr<const Json*> profiles = GetArray(doc, "profiles", "file");
  if (!profiles.ok()) return profiles.status();
  if (*profiles == nullptr) return std::vector<SpeedscopeProfile>();

  // Group profiles by (name, type, unit, startValue), keeping first-appearance order.
  struct Group {
    std::string name, type;
    SpeedscopeUnit unit;
    double start_value;
    std::vector<size_t> members;
  };
  std::vector<Group> groups;
  for (size_t i = 0; i < (*profiles)->size(); ++i) {
    const Json& p = (**profiles)[i];
    const std::string where = StrCat("profiles[", i, "]");
    if (!p.is_object()) return Invalid(StrCat(where, ": want an object"));
    Group g;
    std::string unit;
    g.start_value = 0;
    EMBERS_RETURN_IF_ERROR(GetString(p, "name", where, &g.name));
    EMBERS_RETURN_IF_ERROR(GetString(p, "type", where, &g.type));
    EMBERS_RETURN_IF_ERROR(GetString(p, "unit", where, &unit));
    EMBERS_RETURN_IF_ERROR(GetNumber(p, "startValue", where, &g.start_value));
    if (!ParseUnit(unit, &g.unit)) {
      return Invalid(StrCat(where, ": invalid profile unit \"", unit.substr(0, 32), "\""));
    }
    if (g.type != "evented" && g.type != "sampled") {
      return Invalid(StrCat(where, ": profile type \"", g.type.substr(0, 32), "\" not supported"));
    }
    auto same = [&](const Group& o) {
      return o.name == g.name && o.type == g.type && o.unit == g.unit &&
             o.start_value == g.start_value;
    };
    auto it = std::find_if(groups.begin(), groups.end(), same);
    if (it == groups.end()) {
      g.members.push_back(i);
      groups.push_back(std::move(g));
    } else {
      it->members.push_back(i);
    }
  }
  std::stable_sort(groups.begin(), groups.end(),
                   [](const Group& a, const Group& b) { return a.start_value < b.start_value; });

  std::vector<SpeedscopeProfile> out;
  out.reserve(groups.size());
  auto builder = std::make_unique<StackSamplesBuilder>(limits);
  for (const Group& g : groups) {
    // Frame ids are per result, so intern the shared names afresh for each profile.
    std::vector<uint32_t> frames(names.size());
    for (size_t i = 0; i < names.size(); ++i) {
      EMBERS_RETURN_IF_ERROR(builder->InternFrame(names[i], &frames[i]));
    }
    const int64_t mult = SpeedscopeValueMultiplier(g.unit);
    for (size_t index : g.members) {
      const Json& p = (**profiles)[index];
      absl::Status s = g.type == "evented"
                           ? ParseEvented(p, index, g.start_value, mult, frames, limits, *builder)
                           : ParseSampled(p, index, mult, frames, *builder);
      if (!s.ok()) return s;
    }
    SpeedscopeProfile result;
    result.name = g.name;
    result.unit = g.unit;
    result.samples = builder->Finish();
    out.push_back(std::move(result));
  }
  return out;
}

}  // namespace embers::ingest
