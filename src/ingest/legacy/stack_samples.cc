#include "ingest/legacy/stack_samples.h"

#include <algorithm>
#include <limits>

#include "base/status.h"
#include "base/strings.h"

namespace embers::ingest {

int64_t StackSamples::TotalValue() const {
  int64_t total = 0;
  for (int64_t v : values_) {
    if (__builtin_add_overflow(total, v, &total)) return std::numeric_limits<int64_t>::max();
  }
  return total;
}

std::string StackSamples::StackString(size_t i) const {
  std::string out;
  bool first = true;
  for (uint32_t id : stack(i)) {
    if (!first) out.push_back(';');
    first = false;
    out.append(frame_name(id));
  }
  return out;
}

std::string StackSamples::ToFoldedSorted() const {
  std::vector<std::string> lines;
  lines.reserve(num_samples());
  for (size_t i = 0; i < num_samples(); ++i) lines.push_back(StrCat(StackString(i), " ", value(i)));
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const std::string& line : lines) out.append(line).push_back('\n');
  return out;
}

size_t StackSamplesBuilder::StackHash::operator()(std::span<const uint32_t> v) const {
  // FNV-1a over the ids, then a final mix: cheap, and the set re-mixes it anyway.
  uint64_t h = 1469598103934665603ull;
  for (uint32_t id : v) {
    h ^= id;
    h *= 1099511628211ull;
  }
  h ^= h >> 29;
  return static_cast<size_t>(h * 0xbf58476d1ce4e5b9ull);
}

StackSamplesBuilder::StackSamplesBuilder(const ParseLimits& limits)
    : limits_(limits),
      names_(0, NameHash{&out_}, NameEq{&out_}),
      stacks_(0, StackHash{&out_}, StackEq{&out_}) {}

absl::Status StackSamplesBuilder::InternFrame(std::string_view name, uint32_t* id) {
  absl::Status status;
  auto it = names_.lazy_emplace(name, [&](const auto& construct) {
    const uint32_t next = static_cast<uint32_t>(out_.num_frames());
    if (out_.names_.size() + name.size() > limits_.max_name_bytes) {
      status = PayloadTooLargeError(
          StrCat("frame names exceed the limit of ", limits_.max_name_bytes, " bytes"));
      // The slot must still be filled: give it a valid (empty-named) frame; the builder is
      // abandoned on error anyway.
    } else {
      out_.names_.append(name);
    }
    out_.name_offsets_.push_back(static_cast<uint32_t>(out_.names_.size()));
    construct(next);
  });
  *id = *it;
  return status;
}

absl::Status StackSamplesBuilder::AddStack(std::span<const uint32_t> frames, int64_t value) {
  if (value < 0) return UnprocessableError(StrCat("negative sample value ", value));
  if (value == 0 || frames.empty()) return absl::OkStatus();
  if (frames.size() > limits_.max_stack_depth) {
    return PayloadTooLargeError(
        StrCat("stack depth ", frames.size(), " exceeds the limit of ", limits_.max_stack_depth));
  }
  auto it = stacks_.find(frames);
  if (it != stacks_.end()) {
    int64_t& v = out_.values_[*it];
    if (__builtin_add_overflow(v, value, &v)) {
      return UnprocessableError("sample value overflows int64");
    }
    return absl::OkStatus();
  }
  if (out_.values_.size() >= limits_.max_samples) {
    return PayloadTooLargeError(
        StrCat("number of distinct stacks exceeds the limit of ", limits_.max_samples));
  }
  if (out_.stack_frames_.size() + frames.size() > limits_.max_total_frames) {
    return PayloadTooLargeError(
        StrCat("total stack frames exceed the limit of ", limits_.max_total_frames));
  }
  const uint32_t index = static_cast<uint32_t>(out_.values_.size());
  out_.stack_frames_.insert(out_.stack_frames_.end(), frames.begin(), frames.end());
  out_.stack_offsets_.push_back(static_cast<uint32_t>(out_.stack_frames_.size()));
  out_.values_.push_back(value);
  stacks_.insert(index);
  return absl::OkStatus();
}

absl::Status StackSamplesBuilder::AddFoldedStack(std::string_view stack, int64_t value) {
  if (value == 0 || stack.empty()) return value < 0 ? AddStack({}, value) : absl::OkStatus();
  scratch_.clear();
  size_t start = 0;
  while (start < stack.size()) {
    size_t end = stack.find(';', start);
    if (end == std::string_view::npos) end = stack.size();
    if (scratch_.size() >= limits_.max_stack_depth) {
      return PayloadTooLargeError(
          StrCat("stack depth exceeds the limit of ", limits_.max_stack_depth));
    }
    uint32_t id;
    EMBERS_RETURN_IF_ERROR(InternFrame(stack.substr(start, end - start), &id));
    scratch_.push_back(id);
    start = end + 1;
  }
  return AddStack(scratch_, value);
}

StackSamples StackSamplesBuilder::Finish() {
  StackSamples result = std::move(out_);
  out_ = StackSamples();
  names_.clear();
  stacks_.clear();
  return result;
}

}  // namespace embers::ingest
