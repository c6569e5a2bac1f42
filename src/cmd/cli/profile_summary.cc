#include "cmd/cli/profile_summary.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "absl/container/flat_hash_map.h"
#include "base/strings.h"

namespace embers::cli {
namespace {

// Frame names of a profile's locations, innermost first within a location (pprof puts inlined
// functions before their caller), looked up by location id.
class FrameNames {
 public:
  explicit FrameNames(const google::v1::Profile& p) {
    absl::flat_hash_map<uint64_t, int64_t> function_name;
    for (const auto& f : p.function()) function_name[f.id()] = f.name();
    for (const auto& loc : p.location()) {
      auto& names = frames_[loc.id()];
      for (const auto& line : loc.line()) {
        auto it = function_name.find(line.function_id());
        if (it != function_name.end()) names.push_back(String(p, it->second));
      }
      if (names.empty()) names.push_back(StrCat("0x", Hex(loc.address())));
    }
  }

  // Empty for an unknown id (a malformed profile): such frames are skipped.
  const std::vector<std::string>& Of(uint64_t location_id) const {
    auto it = frames_.find(location_id);
    return it == frames_.end() ? empty_ : it->second;
  }

  static std::string String(const google::v1::Profile& p, int64_t index) {
    if (index < 0 || index >= p.string_table_size()) return "";
    return p.string_table(static_cast<int>(index));
  }

 private:
  std::unordered_map<uint64_t, std::vector<std::string>> frames_;
  std::vector<std::string> empty_;
};

int64_t SampleValue(const google::v1::Sample& s, int index) {
  return index < s.value_size() ? s.value(index) : 0;
}

}  // namespace

absl::StatusOr<int> SampleTypeIndex(const google::v1::Profile& profile, const std::string& type) {
  if (profile.sample_type_size() == 0) {
    return absl::NotFoundError("the profile has no sample types");
  }
  if (type.empty()) return profile.sample_type_size() - 1;
  std::vector<std::string> names;
  for (int i = 0; i < profile.sample_type_size(); ++i) {
    names.push_back(FrameNames::String(profile, profile.sample_type(i).type()));
    if (names.back() == type) return i;
  }
  return absl::InvalidArgumentError(
      StrCat("the profile has no sample type \"", type, "\" (it has ", Join(names, ", "), ")"));
}

ProfileSummary Summarize(const google::v1::Profile& profile, int sample_index) {
  ProfileSummary summary;
  if (sample_index < profile.sample_type_size()) {
    summary.sample_type = FrameNames::String(profile, profile.sample_type(sample_index).type());
    summary.unit = FrameNames::String(profile, profile.sample_type(sample_index).unit());
  }
  const FrameNames names(profile);
  absl::flat_hash_map<std::string_view, size_t> index;  // keys point into FrameNames
  std::vector<size_t> seen;  // functions already counted in this sample's total
  for (const auto& sample : profile.sample()) {
    const int64_t value = SampleValue(sample, sample_index);
    if (value == 0) continue;
    summary.total += value;
    seen.clear();
    bool leaf = true;
    for (uint64_t id : sample.location_id()) {
      for (const std::string& name : names.Of(id)) {
        auto [it, inserted] = index.try_emplace(name, summary.functions.size());
        if (inserted) summary.functions.push_back({.name = name});
        FunctionTotals& f = summary.functions[it->second];
        if (leaf) f.self += value;
        leaf = false;
        if (std::find(seen.begin(), seen.end(), it->second) == seen.end()) {
          f.total += value;
          seen.push_back(it->second);
        }
      }
    }
  }
  std::sort(summary.functions.begin(), summary.functions.end(),
            [](const FunctionTotals& a, const FunctionTotals& b) {
              if (a.self != b.self) return a.self > b.self;
              if (a.total != b.total) return a.total > b.total;
              return a.name < b.name;
            });
  return summary;
}

std::string CollapsedStacks(const google::v1::Profile& profile, int sample_index) {
  const FrameNames names(profile);
  absl::flat_hash_map<std::string, int64_t> stacks;
  std::vector<const std::string*> frames;
  for (const auto& sample : profile.sample()) {
    const int64_t value = SampleValue(sample, sample_index);
    if (value == 0) continue;
    frames.clear();
    for (uint64_t id : sample.location_id()) {
      for (const std::string& name : names.Of(id)) frames.push_back(&name);
    }
    std::string key;
    for (auto it = frames.rbegin(); it != frames.rend(); ++it) {
      if (!key.empty()) key += ';';
      key += **it;
    }
    stacks[key] += value;
  }
  std::vector<std::pair<std::string, int64_t>> sorted(stacks.begin(), stacks.end());
  std::sort(sorted.begin(), sorted.end());
  std::string out;
  for (const auto& [stack, value] : sorted) {
    if (value == 0) continue;
    out += StrCat(stack, " ", value, "\n");
  }
  return out;
}

std::vector<FunctionChange> DiffSummaries(const ProfileSummary& left, const ProfileSummary& right) {
  absl::flat_hash_map<std::string, FunctionChange> by_name;
  auto add = [&](const ProfileSummary& side, bool is_left) {
    const double total = side.total > 0 ? static_cast<double>(side.total) : 1.0;
    for (const FunctionTotals& f : side.functions) {
      FunctionChange& c = by_name[f.name];
      c.name = f.name;
      (is_left ? c.left_self : c.right_self) = f.self;
      (is_left ? c.left_share : c.right_share) = static_cast<double>(f.self) / total;
    }
  };
  add(left, true);
  add(right, false);
  std::vector<FunctionChange> out;
  out.reserve(by_name.size());
  for (auto& [name, c] : by_name) out.push_back(std::move(c));
  std::sort(out.begin(), out.end(), [](const FunctionChange& a, const FunctionChange& b) {
    const double da = std::abs(a.right_share - a.left_share);
    const double db = std::abs(b.right_share - b.left_share);
    if (da != db) return da > db;
    return a.name < b.name;
  });
  return out;
}

}  // namespace embers::cli
