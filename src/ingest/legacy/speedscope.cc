#include "ingest/legacy/speedscope.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "base/strings.h"

namespace embers::ingest {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kSchema = "https://www.speedscope.app/file-format-schema.json";
// A speedscope file nests five deep (file → profiles → profile → samples → sample); unknown
// members may nest further, but nothing legitimate comes near this.
constexpr size_t kMaxNesting = 64;
// A frame index that is not an integer in [0, 2^32 - 1): the value is kept aside for the error.
constexpr uint32_t kBadIndex = UINT32_MAX;

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

// weight × multiplier as an int64 (truncated toward zero, as a Go uint64 conversion would).
absl::Status ScaledValue(double weight, int64_t multiplier, std::string_view where, int64_t* out) {
  const double v = weight * static_cast<double>(multiplier);
  if (!(v >= 0) || v >= 9.2e18) return Invalid(StrCat(where, ": value ", weight, " out of range"));
  *out = static_cast<int64_t>(v);
  return absl::OkStatus();
}

// A frame index as read: kBadIndex when not a usable integer (its value goes to `bad`).
uint32_t IndexOf(double d, std::vector<double>* bad) {
  if (d >= 0 && d < static_cast<double>(kBadIndex) && d == std::floor(d)) {
    return static_cast<uint32_t>(d);
  }
  bad->push_back(d);
  return kBadIndex;
}

// What the file says, kept compactly (a few bytes per number, about the size of the JSON text or
// less) instead of as a JSON document, which costs tens of bytes per value and, for nested
// arrays, an allocation per level.
struct RawEvent {
  double at = 0;
  uint32_t frame = kBadIndex;
  char type = 0;  // 'O', 'C', or 0 for anything else
  bool has_frame = false;
  bool frame_is_number = false;
};

struct RawProfile {
  std::string name, type, unit;
  double start_value = 0;
  std::vector<RawEvent> events;
  // The type of the first event whose type is neither "O" nor "C" ("" when it had none): the
  // first such event is the one a replay stops at.
  std::optional<std::string> first_unknown_event_type;
  // Sampled: frame indices of every sample back to back, sample i at [offsets[i], offsets[i+1]).
  std::vector<uint32_t> sample_frames;
  std::vector<uint32_t> sample_offsets = {0};
  std::vector<double> weights;
  std::vector<double> bad_indices;  // values of the kBadIndex entries, in order
};

struct RawFile {
  bool is_object = false;
  std::string schema;
  std::vector<std::string> frame_names;
  std::vector<RawProfile> profiles;
};

// The SAX handler: follows the path through the document and fills a RawFile. Members it does not
// know are skipped without storing anything; type errors stop the parse at once.
class SpeedscopeReader final : public nlohmann::json_sax<Json> {
 public:
  SpeedscopeReader(RawFile* out, const ParseLimits& limits) : out_(out), limits_(limits) {}
  absl::Status status() const { return status_; }

  bool null() override { return Scalar(Kind::kNull, 0, nullptr); }
  bool boolean(bool) override { return Scalar(Kind::kOther, 0, nullptr); }
  bool number_integer(number_integer_t v) override {
    return Scalar(Kind::kNumber, static_cast<double>(v), nullptr);
  }
  bool number_unsigned(number_unsigned_t v) override {
    return Scalar(Kind::kNumber, static_cast<double>(v), nullptr);
  }
  bool number_float(number_float_t v, const string_t&) override {
    // 1e999 arrives as infinity.
    if (!std::isfinite(v)) return Fail(Invalid(StrCat(Where(), ": number out of range")));
    return Scalar(Kind::kNumber, v, nullptr);
  }
  bool string(string_t& v) override { return Scalar(Kind::kString, 0, &v); }
  bool binary(binary_t&) override { return Scalar(Kind::kOther, 0, nullptr); }

  bool start_object(std::size_t) override { return Open(/*object=*/true); }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t) override { return Open(/*object=*/false); }
  bool end_array() override { return Close(); }
  bool key(string_t& k) override {
    key_ = k;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception&) override {
    return Fail(Invalid(StrCat("invalid JSON at byte ", position)));
  }

 private:
  enum class Kind { kNull, kNumber, kString, kOther, kObject, kArray };
  enum class Ctx {
    kRoot,
    kShared,
    kFrames,
    kFrame,
    kProfiles,
    kProfile,
    kEvents,
    kEvent,
    kSamples,
    kSample,
    kWeights,
    kSkip
  };
  struct Level {
    Ctx ctx;
    bool object;
    size_t index = 0;  // of the next element, in arrays
    std::string name;  // kFrame: the name so far; kEvent: the type
  };

  bool Fail(absl::Status st) {
    if (status_.ok()) status_ = std::move(st);
    return false;
  }

  // The path of the value being read, for messages ("profiles[0].samples[3]").
  std::string Where() const {
    std::string w;
    for (size_t i = 0; i < stack_.size(); ++i) {
      const Level& l = stack_[i];
      if (l.ctx == Ctx::kRoot) continue;
      if (l.ctx == Ctx::kShared) w = "shared";
      if (l.ctx == Ctx::kFrames) w = "shared.frames";
      if (l.ctx == Ctx::kProfiles) w = "profiles";
      if (l.ctx == Ctx::kEvents) w += ".events";
      if (l.ctx == Ctx::kSamples) w += ".samples";
      if (l.ctx == Ctx::kWeights) w += ".weights";
      if (!l.object) StrAppendIndex(w, l.index);
    }
    return w.empty() ? "file" : w;
  }
  static void StrAppendIndex(std::string& w, size_t i) { w += StrCat("[", i, "]"); }

  // What a value at the current position is, given its parent and key; nullopt: skip it.
  Ctx ChildContext() const {
    if (stack_.empty()) return Ctx::kRoot;
    const Level& p = stack_.back();
    switch (p.ctx) {
      case Ctx::kRoot:
        if (key_ == "shared") return Ctx::kShared;
        if (key_ == "profiles") return Ctx::kProfiles;
        return Ctx::kSkip;
      case Ctx::kShared:
        return key_ == "frames" ? Ctx::kFrames : Ctx::kSkip;
      case Ctx::kFrames:
        return Ctx::kFrame;
      case Ctx::kProfiles:
        return Ctx::kProfile;
      case Ctx::kProfile:
        if (key_ == "events") return Ctx::kEvents;
        if (key_ == "samples") return Ctx::kSamples;
        if (key_ == "weights") return Ctx::kWeights;
        return Ctx::kSkip;
      case Ctx::kEvents:
        return Ctx::kEvent;
      case Ctx::kSamples:
        return Ctx::kSample;
      default:
        return Ctx::kSkip;
    }
  }

  bool Open(bool object) {
    if (stack_.size() >= kMaxNesting) {
      return Fail(PayloadTooLargeError(
          StrCat("speedscope: JSON nested deeper than ", kMaxNesting, " levels")));
    }
    Ctx ctx = ChildContext();
    if (!stack_.empty() && stack_.back().ctx == Ctx::kSkip) ctx = Ctx::kSkip;
    const Kind kind = object ? Kind::kObject : Kind::kArray;
    if (ctx == Ctx::kSkip && !stack_.empty() && stack_.back().ctx != Ctx::kSkip) {
      // A container where a known member wants a scalar ("name": {}, a frame index [1]) is a
      // type error; under an unknown member it is skipped.
      if (absl::Status st = ScalarIn(stack_.back(), Ctx::kSkip, kind, 0, nullptr); !st.ok()) {
        return Fail(st);
      }
    }
    if (ctx != Ctx::kSkip && ctx != Ctx::kRoot) {
      if (absl::Status st = CheckKind(ctx, kind); !st.ok()) return Fail(st);
    }
    if (ctx == Ctx::kRoot) {
      if (!object) return Fail(Invalid("want a JSON object"));
      out_->is_object = true;
    }
    if (ctx == Ctx::kProfile) out_->profiles.emplace_back();
    if (ctx == Ctx::kEvent) {
      if (current().events.size() + current().sample_frames.size() >= limits_.max_total_frames) {
        return Fail(PayloadTooLargeError(
            StrCat("speedscope: more than ", limits_.max_total_frames, " events and frames")));
      }
      current().events.emplace_back();
    }
    stack_.push_back(Level{.ctx = ctx, .object = object});
    return true;
  }

  bool Close() {
    Level done = std::move(stack_.back());
    stack_.pop_back();
    switch (done.ctx) {
      case Ctx::kFrame:
        out_->frame_names.push_back(std::move(done.name));
        break;
      case Ctx::kSample: {
        RawProfile& p = current();
        p.sample_offsets.push_back(static_cast<uint32_t>(p.sample_frames.size()));
        break;
      }
      case Ctx::kEvent: {
        RawProfile& p = current();
        if (p.events.back().type == 0 && !p.first_unknown_event_type) {
          p.first_unknown_event_type = "";  // no type member at all
        }
        break;
      }
      default:
        break;
    }
    if (!stack_.empty() && !stack_.back().object) stack_.back().index++;
    return true;
  }

  // Type checks of a value (object, array or scalar) in context `ctx`.
  absl::Status CheckKind(Ctx ctx, Kind kind) {
    const std::string where = Where();
    auto want = [&](bool ok, std::string_view what) {
      return ok ? absl::OkStatus() : Invalid(StrCat(where, ": want ", what));
    };
    switch (ctx) {
      case Ctx::kShared:
        return want(kind == Kind::kObject || kind == Kind::kNull, "an object");
      case Ctx::kFrames:
      case Ctx::kProfiles:
      case Ctx::kEvents:
      case Ctx::kSamples:
      case Ctx::kWeights:
        return kind == Kind::kArray || kind == Kind::kNull
                   ? absl::OkStatus()
                   : Invalid(StrCat(where, ".", key_, ": want an array"));
      case Ctx::kFrame:
      case Ctx::kProfile:
      case Ctx::kEvent:
        return want(kind == Kind::kObject, "an object");
      case Ctx::kSample:
        return want(kind == Kind::kArray, "an array of frame indices");
      default:
        return absl::OkStatus();
    }
  }

  RawProfile& current() { return out_->profiles.back(); }

  bool Scalar(Kind kind, double number, const std::string* text) {
    if (stack_.empty()) return Fail(Invalid("want a JSON object"));
    Level& parent = stack_.back();
    const Ctx ctx = parent.ctx == Ctx::kSkip ? Ctx::kSkip : ChildContext();
    absl::Status st = ScalarIn(parent, ctx, kind, number, text);
    if (!parent.object) parent.index++;
    return st.ok() || Fail(st);
  }

  absl::Status ScalarIn(Level& parent, Ctx ctx, Kind kind, double number, const std::string* text) {
    // Containers given as a scalar: null is "absent"; anything else is a type error.
    switch (ctx) {
      case Ctx::kShared:
      case Ctx::kFrames:
      case Ctx::kProfiles:
      case Ctx::kEvents:
      case Ctx::kSamples:
      case Ctx::kWeights:
      case Ctx::kFrame:
      case Ctx::kProfile:
      case Ctx::kEvent:
        return CheckKind(ctx, kind);
      case Ctx::kSample:  // a scalar where a sample (an array) belongs
        return CheckKind(ctx, kind);
      default:
        break;
    }
    auto string_field = [&](std::string* out) -> absl::Status {
      if (kind == Kind::kNull) return absl::OkStatus();
      if (kind != Kind::kString) return Invalid(StrCat(Where(), ".", key_, ": want a string"));
      *out = *text;
      return absl::OkStatus();
    };
    auto number_field = [&](double* out) -> absl::Status {
      if (kind == Kind::kNull) return absl::OkStatus();
      if (kind != Kind::kNumber) return Invalid(StrCat(Where(), ".", key_, ": want a number"));
      *out = number;
      return absl::OkStatus();
    };
    switch (parent.ctx) {
      case Ctx::kRoot:
        if (key_ == "$schema") return string_field(&out_->schema);
        return absl::OkStatus();
      case Ctx::kFrame:
        if (key_ == "name") return string_field(&parent.name);
        return absl::OkStatus();
      case Ctx::kProfile: {
        RawProfile& p = current();
        if (key_ == "name") return string_field(&p.name);
        if (key_ == "type") return string_field(&p.type);
        if (key_ == "unit") return string_field(&p.unit);
        if (key_ == "startValue") return number_field(&p.start_value);
        return absl::OkStatus();
      }
      case Ctx::kEvent: {
        RawProfile& p = current();
        RawEvent& e = p.events.back();
        if (key_ == "type") {
          std::string type;
          EMBERS_RETURN_IF_ERROR(string_field(&type));
          e.type = type == "O" ? 'O' : type == "C" ? 'C' : 0;
          if (e.type == 0 && !p.first_unknown_event_type) {
            p.first_unknown_event_type = type.substr(0, 16);
          }
          return absl::OkStatus();
        }
        if (key_ == "at") return number_field(&e.at);
        if (key_ == "frame") {
          e.has_frame = true;
          e.frame_is_number = kind == Kind::kNumber;
          if (e.frame_is_number) e.frame = IndexOf(number, &p.bad_indices);
        }
        return absl::OkStatus();
      }
      case Ctx::kSample: {
        RawProfile& p = current();
        if (kind != Kind::kNumber) {
          return Invalid(StrCat(Where(), ": frame index is not a number"));
        }
        if (p.sample_frames.size() + p.events.size() >= limits_.max_total_frames) {
          return PayloadTooLargeError(
              StrCat("speedscope: more than ", limits_.max_total_frames, " frames in samples"));
        }
        p.sample_frames.push_back(IndexOf(number, &p.bad_indices));
        return absl::OkStatus();
      }
      case Ctx::kWeights: {
        if (kind != Kind::kNumber) return Invalid(StrCat(Where(), ": want a number"));
        if (number < 0) return Invalid(StrCat(Where(), ": negative weight"));
        current().weights.push_back(number);
        return absl::OkStatus();
      }
      default:
        return absl::OkStatus();
    }
  }

  RawFile* out_;
  const ParseLimits& limits_;
  std::vector<Level> stack_;
  std::string key_;
  absl::Status status_;
};

// Maps a frame index as read to our frame id.
absl::Status FrameId(uint32_t index, const std::vector<uint32_t>& frames, const RawProfile& p,
                     size_t* bad_cursor, std::string_view where, uint32_t* out) {
  if (index == kBadIndex || index >= frames.size()) {
    const double d = index == kBadIndex ? p.bad_indices[(*bad_cursor)++] : index;
    return Invalid(StrCat(where, ": invalid frame index ", d, " (", frames.size(), " frames)"));
  }
  *out = frames[index];
  return absl::OkStatus();
}

absl::Status ReplayEvented(const RawProfile& p, size_t index, double start_value, int64_t mult,
                           const std::vector<uint32_t>& frames, const ParseLimits& limits,
                           StackSamplesBuilder& out) {
  const std::string where = StrCat("profiles[", index, "]");
  std::vector<uint32_t> stack;
  double last = start_value;
  size_t bad = 0;
  for (size_t i = 0; i < p.events.size(); ++i) {
    const RawEvent& ev = p.events[i];
    const std::string ew = StrCat(where, ".events[", i, "]");
    const double at = ev.at;
    if (at < last) return Invalid(StrCat(ew, ": events out of order, ", at, " < ", last));
    if (!ev.has_frame) return Invalid(StrCat(ew, ": missing frame"));
    if (!ev.frame_is_number) return Invalid(StrCat(ew, ": frame index is not a number"));
    uint32_t id = 0;
    EMBERS_RETURN_IF_ERROR(FrameId(ev.frame, frames, p, &bad, ew, &id));
    int64_t value = 0;
    EMBERS_RETURN_IF_ERROR(ScaledValue(at - last, mult, ew, &value));
    if (ev.type == 'O') {
      if (!stack.empty()) EMBERS_RETURN_IF_ERROR(out.AddStack(stack, value));
      if (stack.size() >= limits.max_stack_depth) {
        return PayloadTooLargeError(StrCat(
            "speedscope: ", ew, ": stack depth exceeds the limit of ", limits.max_stack_depth));
      }
      stack.push_back(id);
    } else if (ev.type == 'C') {
      if (stack.empty()) return Invalid(StrCat(ew, ": no open frame to close"));
      if (stack.back() != id) return Invalid(StrCat(ew, ": closing a frame that is not open"));
      EMBERS_RETURN_IF_ERROR(out.AddStack(stack, value));
      stack.pop_back();
    } else {
      return Invalid(
          StrCat(ew, ": unknown event type \"", p.first_unknown_event_type.value_or(""), "\""));
    }
    last = at;
  }
  return absl::OkStatus();
}

absl::Status ReplaySampled(const RawProfile& p, size_t index, int64_t mult,
                           const std::vector<uint32_t>& frames, StackSamplesBuilder& out) {
  const std::string where = StrCat("profiles[", index, "]");
  const size_t ns = p.sample_offsets.size() - 1;
  const size_t nw = p.weights.size();
  if (ns != nw) return Invalid(StrCat(where, ": ", ns, " samples but ", nw, " weights"));
  std::vector<uint32_t> stack;
  size_t bad = 0;
  for (size_t i = 0; i < ns; ++i) {
    const std::string sw = StrCat(where, ".samples[", i, "]");
    stack.clear();
    for (uint32_t k = p.sample_offsets[i]; k < p.sample_offsets[i + 1]; ++k) {
      uint32_t id = 0;
      EMBERS_RETURN_IF_ERROR(FrameId(p.sample_frames[k], frames, p, &bad, sw, &id));
      stack.push_back(id);
    }
    int64_t value = 0;
    EMBERS_RETURN_IF_ERROR(ScaledValue(p.weights[i], mult, sw, &value));
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
  RawFile file;
  SpeedscopeReader reader(&file, limits);
  bool ok = false;
  try {
    ok = Json::sax_parse(body.begin(), body.end(), &reader);
  } catch (const Json::exception& e) {
    return Invalid(StrCat("invalid JSON: ", e.what()));
  }
  if (!ok) {
    if (!reader.status().ok()) return reader.status();
    return Invalid("invalid JSON");
  }
  if (!file.is_object) return Invalid("want a JSON object");
  if (file.schema != kSchema) {
    return Invalid(StrCat("unknown schema \"", file.schema.substr(0, 80), "\""));
  }

  // Group profiles by (name, type, unit, startValue), keeping first-appearance order.
  struct Group {
    std::string name, type;
    SpeedscopeUnit unit;
    double start_value;
    std::vector<size_t> members;
  };
  std::vector<Group> groups;
  for (size_t i = 0; i < file.profiles.size(); ++i) {
    const RawProfile& p = file.profiles[i];
    const std::string where = StrCat("profiles[", i, "]");
    Group g{.name = p.name,
            .type = p.type,
            .unit = SpeedscopeUnit::kNone,
            .start_value = p.start_value,
            .members = {}};
    if (!ParseUnit(p.unit, &g.unit)) {
      return Invalid(StrCat(where, ": invalid profile unit \"", p.unit.substr(0, 32), "\""));
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
    std::vector<uint32_t> frames(file.frame_names.size());
    for (size_t i = 0; i < file.frame_names.size(); ++i) {
      EMBERS_RETURN_IF_ERROR(builder->InternFrame(file.frame_names[i], &frames[i]));
    }
    const int64_t mult = SpeedscopeValueMultiplier(g.unit);
    for (size_t index : g.members) {
      const RawProfile& p = file.profiles[index];
      absl::Status s = g.type == "evented"
                           ? ReplayEvented(p, index, g.start_value, mult, frames, limits, *builder)
                           : ReplaySampled(p, index, mult, frames, *builder);
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
