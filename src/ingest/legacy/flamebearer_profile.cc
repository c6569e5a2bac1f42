#include "ingest/legacy/flamebearer_profile.h"

#include <algorithm>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "base/strings.h"

namespace embers::ingest {
namespace {

using Json = nlohmann::json;

absl::Status Invalid(std::string_view message) {
  return UnprocessableError(StrCat("flamebearer JSON: ", message));
}

// One level, decoded: each node's absolute x, self value and name index.
struct Level {
  std::vector<int64_t> x;
  std::vector<int64_t> self;
  std::vector<uint32_t> name;
};

absl::StatusOr<Level> DecodeLevel(const Json& level, size_t index, size_t name_count) {
  if (!level.is_array() || level.size() % 4 != 0) {
    return Invalid(StrCat("level ", index, " is not an array of quadruples"));
  }
  Level out;
  const size_t nodes = level.size() / 4;
  out.x.reserve(nodes);
  out.self.reserve(nodes);
  out.name.reserve(nodes);
  int64_t next = 0;  // where the previous node ended
  for (size_t j = 0; j < level.size(); j += 4) {
    int64_t v[4];
    for (int k = 0; k < 4; ++k) {
      const Json& e = level[j + static_cast<size_t>(k)];
      if (!e.is_number_integer()) {
        return Invalid(StrCat("level ", index, " holds a value that is not an integer"));
      }
      v[k] = e.get<int64_t>();
    }
    const auto [delta, total, self, name] = v;
    int64_t x = 0, end = 0;
    if (delta < 0 || total < 0 || self < 0 || self > total ||
        __builtin_add_overflow(next, delta, &x) || __builtin_add_overflow(x, total, &end)) {
      return Invalid(StrCat("level ", index, " node ", j / 4, ": bad offset or values"));
    }
    if (name < 0 || static_cast<uint64_t>(name) >= name_count) {
      return Invalid(
          StrCat("level ", index, " node ", j / 4, ": name index ", name, " out of range"));
    }
    out.x.push_back(x);
    out.self.push_back(self);
    out.name.push_back(static_cast<uint32_t>(name));
    next = end;
  }
  return out;
}

}  // namespace

absl::StatusOr<FlamebearerProfile> ParseFlamebearerProfile(std::string_view json,
                                                           const ParseLimits& limits) {
  Json doc = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return Invalid("not a JSON object");
  const auto version = doc.find("version");
  if (version == doc.end() || !version->is_number_integer() || version->get<int64_t>() != 1) {
    return Invalid("unsupported version (want 1)");
  }
  const auto metadata = doc.find("metadata");
  const auto flamebearer = doc.find("flamebearer");
  if (metadata == doc.end() || !metadata->is_object() || flamebearer == doc.end() ||
      !flamebearer->is_object()) {
    return Invalid("want \"metadata\" and \"flamebearer\" objects");
  }
  FlamebearerProfile out;
  auto string_of = [&](const char* field) -> std::string {
    const auto it = metadata->find(field);
    return it != metadata->end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (const std::string format = string_of("format"); format != "single") {
    return Invalid(StrCat("format \"", format.substr(0, 32), "\" is not supported (want ",
                          "\"single\": a diff holds no one profile)"));
  }
  out.name = string_of("name");
  out.units = string_of("units");
  const auto names = flamebearer->find("names");
  const auto levels = flamebearer->find("levels");
  if (names == flamebearer->end() || !names->is_array() || levels == flamebearer->end() ||
      !levels->is_array()) {
    return Invalid("want flamebearer.names and flamebearer.levels arrays");
  }
  if (levels->size() > limits.max_stack_depth + 1) {
    return PayloadTooLargeError(
        StrCat("flamebearer JSON: deeper than ", limits.max_stack_depth, " frames"));
  }
  StackSamplesBuilder builder(limits);
  std::vector<uint32_t> frame_of_name(names->size());
  for (size_t i = 0; i < names->size(); ++i) {
    if (!(*names)[i].is_string()) return Invalid(StrCat("name ", i, " is not a string"));
    EMBERS_RETURN_IF_ERROR(
        builder.InternFrame((*names)[i].get_ref<const std::string&>(), &frame_of_name[i]));
  }
  std::vector<Level> decoded;
  decoded.reserve(levels->size());
  for (size_t i = 0; i < levels->size(); ++i) {
    EMBERS_ASSIGN_OR_RETURN(Level level, DecodeLevel((*levels)[i], i, names->size()));
    decoded.push_back(std::move(level));
  }
  std::vector<uint32_t> stack;
  // Every stack is rebuilt from its leaf, so repeated nodes would cost their depth each time even
  // where the stacks merge: the frames walked are bounded like the frames kept.
  uint64_t walked = 0;
  for (size_t i = 1; i < decoded.size(); ++i) {
    for (size_t j = 0; j < decoded[i].x.size(); ++j) {
      if (decoded[i].self[j] == 0) continue;
      walked += i;
      if (walked > limits.max_total_frames) {
        return PayloadTooLargeError(
            StrCat("flamebearer JSON: stack frames exceed the limit of ", limits.max_total_frames));
      }
      // Up through the parents: the node of each level above with the largest x ≤ this x.
      stack.assign(i, 0);
      stack[i - 1] = frame_of_name[decoded[i].name[j]];
      int64_t x = decoded[i].x[j];
      for (size_t up = i - 1; up > 0; --up) {
        const std::vector<int64_t>& xs = decoded[up].x;
        const auto it = std::upper_bound(xs.begin(), xs.end(), x);
        if (it == xs.begin()) {
          return Invalid(StrCat("level ", i, " node ", j, " has no parent in level ", up));
        }
        const size_t parent = static_cast<size_t>(it - xs.begin()) - 1;
        stack[up - 1] = frame_of_name[decoded[up].name[parent]];
        x = xs[parent];
      }
      EMBERS_RETURN_IF_ERROR(builder.AddStack(stack, decoded[i].self[j]));
    }
  }
  out.stacks = builder.Finish();
  return out;
}

}  // namespace embers::ingest
