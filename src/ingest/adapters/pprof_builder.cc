#include "ingest/adapters/pprof_builder.h"

#include <memory>
#include <utility>

#include "base/status.h"
#include "base/strings.h"
#include "pprof/decoder.h"

namespace embers::ingest {

PprofBuilder::PprofBuilder() { String(""); }

int64_t PprofBuilder::String(std::string_view s) {
  auto [it, inserted] =
      string_index_.try_emplace(std::string(s), static_cast<int64_t>(strings_.size()));
  if (inserted) strings_.emplace_back(s);
  return it->second;
}

void PprofBuilder::AddSampleType(std::string_view type, std::string_view unit) {
  profile_.sample_types.push_back({String(type), String(unit)});
}

void PprofBuilder::SetPeriod(std::string_view type, std::string_view unit, int64_t period) {
  profile_.period_type = {String(type), String(unit)};
  profile_.has_period_type = true;
  profile_.period = period;
}

void PprofBuilder::SetTime(int64_t time_nanos, int64_t duration_nanos) {
  profile_.time_nanos = time_nanos;
  profile_.duration_nanos = duration_nanos;
}

void PprofBuilder::SetDefaultSampleType(std::string_view type) {
  profile_.default_sample_type = String(type);
}

uint64_t PprofBuilder::AddFunction(std::string_view name, std::string_view system_name,
                                   std::string_view filename, int64_t start_line) {
  pprof::Function f;
  f.id = profile_.functions.size() + 1;
  f.name = String(name);
  f.system_name = String(system_name);
  f.filename = String(filename);
  f.start_line = start_line;
  profile_.functions.push_back(f);
  return f.id;
}

uint64_t PprofBuilder::AddMapping(const pprof::Mapping& mapping) {
  profile_.mappings.push_back(mapping);
  profile_.mappings.back().id = profile_.mappings.size();
  return profile_.mappings.size();
}

uint64_t PprofBuilder::AddLocation(uint64_t mapping_id, uint64_t address,
                                   std::span<const pprof::Line> lines) {
  pprof::Location loc;
  loc.id = profile_.locations.size() + 1;
  loc.mapping_id = mapping_id;
  loc.address = address;
  loc.line_begin = static_cast<uint32_t>(profile_.lines.size());
  loc.line_count = static_cast<uint32_t>(lines.size());
  profile_.lines.insert(profile_.lines.end(), lines.begin(), lines.end());
  profile_.locations.push_back(loc);
  return loc.id;
}

void PprofBuilder::AddSample(std::span<const uint64_t> location_ids,
                             std::span<const int64_t> values,
                             std::span<const pprof::Label> labels) {
  pprof::Sample s;
  s.location_begin = static_cast<uint32_t>(profile_.location_ids.size());
  s.location_count = static_cast<uint32_t>(location_ids.size());
  s.value_begin = static_cast<uint32_t>(profile_.values.size());
  s.value_count = static_cast<uint32_t>(values.size());
  s.label_begin = static_cast<uint32_t>(profile_.labels.size());
  s.label_count = static_cast<uint32_t>(labels.size());
  profile_.location_ids.insert(profile_.location_ids.end(), location_ids.begin(),
                               location_ids.end());
  profile_.values.insert(profile_.values.end(), values.begin(), values.end());
  profile_.labels.insert(profile_.labels.end(), labels.begin(), labels.end());
  profile_.samples.push_back(s);
}

absl::StatusOr<pprof::Profile> PprofBuilder::Finish() {
  // One buffer for every string: reserve first so the views taken below stay valid.
  size_t total = 0;
  for (const std::string& s : strings_) total += s.size();
  auto backing = std::make_shared<std::string>();
  backing->reserve(total);
  profile_.strings.clear();
  profile_.strings.reserve(strings_.size());
  for (const std::string& s : strings_) {
    const size_t at = backing->size();
    backing->append(s);
    profile_.strings.emplace_back(backing->data() + at, s.size());
  }
  profile_.backing.push_back(std::move(backing));
  pprof::Profile out = std::move(profile_);
  profile_ = pprof::Profile();
  strings_.clear();
  string_index_.clear();
  String("");
  absl::Status status = pprof::Validate(out);
  if (!status.ok()) return status;
  return out;
}

absl::Status AddStackSamples(const StackSamples& stacks, int64_t value_multiplier,
                             PprofBuilder* b) {
  // One function and one location per distinct frame, created when first used.
  std::vector<uint64_t> location_of_frame(stacks.num_frames(), 0);
  std::vector<uint64_t> leaf_first;
  for (size_t i = 0; i < stacks.num_samples(); ++i) {
    std::span<const uint32_t> stack = stacks.stack(i);
    leaf_first.clear();
    for (size_t j = stack.size(); j-- > 0;) {
      uint64_t& loc = location_of_frame[stack[j]];
      if (loc == 0) {
        pprof::Line line;
        line.function_id = b->AddFunction(stacks.frame_name(stack[j]), "", "", 0);
        loc = b->AddLocation(0, 0, {&line, 1});
      }
      leaf_first.push_back(loc);
    }
    int64_t value = 0;
    if (__builtin_mul_overflow(stacks.value(i), value_multiplier, &value)) {
      return UnprocessableError(
          StrCat("sample value ", stacks.value(i), " × ", value_multiplier, " overflows 64 bits"));
    }
    b->AddSample(leaf_first, {&value, 1});
  }
  return absl::OkStatus();
}

}  // namespace embers::ingest
