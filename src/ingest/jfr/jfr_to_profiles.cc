#include "ingest/jfr/jfr_to_profiles.h"

#include <algorithm>
#include <memory>
#include <regex>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "base/compression.h"
#include "base/status.h"
#include "base/strings.h"
#include "ingest/jfr/jfr_reader.h"

namespace embers::jfr {

namespace {

// Sample groups: one per event family; a group has one or two value columns, each becoming a
// series on output.
enum Group : uint8_t {
  kCpu,
  kWall,
  kInTlab,
  kOutTlab,
  kAllocSample,
  kLock,
  kThreadPark,
  kLive,
  kNumGroups,
};

struct SeriesSpec {
  const char* suffix;
  const char* name;
  const char* sample_type;
  const char* sample_unit;
  const char* period_type;
  const char* period_unit;
};

struct GroupSpec {
  int columns;
  SeriesSpec series[2];
};

// Mirrors the profile builders of grafana/jfr-parser's pprof converter.
constexpr GroupSpec kGroups[kNumGroups] = {
    /*kCpu*/ {1, {{"cpu", "process_cpu", "cpu", "nanoseconds", "cpu", "nanoseconds"}, {}}},
    /*kWall*/ {1, {{"wall", "wall", "wall", "nanoseconds", "wall", "nanoseconds"}, {}}},
    /*kInTlab*/
    {2,
     {{"alloc_in_new_tlab_objects", "memory", "alloc_in_new_tlab_objects", "count", "space",
       "bytes"},
      {"alloc_in_new_tlab_bytes", "memory", "alloc_in_new_tlab_bytes", "bytes", "space", "bytes"}}},
    /*kOutTlab*/
    {2,
     {{"alloc_outside_tlab_objects", "memory", "alloc_outside_tlab_objects", "count", "space",
       "bytes"},
      {"alloc_outside_tlab_bytes", "memory", "alloc_outside_tlab_bytes", "bytes", "space",
       "bytes"}}},
    /*kAllocSample*/
    {2,
     {{"alloc_sample_objects", "memory", "alloc_sample_objects", "count", "space", "bytes"},
      {"alloc_sample_bytes", "memory", "alloc_sample_bytes", "bytes", "space", "bytes"}}},
    /*kLock*/
    {2,
     {{"lock_count", "mutex", "contentions", "count", "mutex", "count"},
      {"lock_duration", "mutex", "delay", "nanoseconds", "mutex", "count"}}},
    /*kThreadPark*/
    {2,
     {{"thread_park_count", "block", "contentions", "count", "block", "count"},
      {"thread_park_duration", "block", "delay", "nanoseconds", "block", "count"}}},
    /*kLive*/ {1, {{"live", "memory", "live", "count", "objects", "count"}, {}}},
};

constexpr int32_t kNone = -1;

// Accumulates the samples of one (group, label set) pair, merged by (stack, profile id).
struct Builder {
  Group group;
  uint32_t labelset;
  absl::flat_hash_map<uint64_t, uint32_t> sample_by_key;
  std::vector<uint32_t> stacks;
  std::vector<uint32_t> profile_ids;  // index into Converter::profile_ids_
  std::vector<int64_t> values[2];
};

// What a context id resolves to.
struct ContextLabels {
  uint32_t labelset = 0;
  uint32_t profile_id = 0;  // 0 = none
};

// The conversion state. Frames, stacks and label sets are interned across chunks (a chunk's
// constant-pool ids are only meaningful inside it, so the per-chunk caches are reset).
class Converter {
 public:
  Converter(const JfrLabelsSnapshot* labels, const JfrConvertOptions& options)
      : labels_(labels), options_(options) {
    labelsets_.emplace_back();    // id 0: no labels
    profile_ids_.emplace_back();  // id 0: no profile id
  }

  absl::Status Run(std::string_view data) {
    JfrReader reader(data);
    JfrEvent ev;
    while (reader.NextChunk()) {
      frame_by_method_.clear();
      stack_by_trace_.clear();
      const JfrChunk& chunk = reader.chunk();
      while (reader.NextEvent(&ev)) OnEvent(chunk, ev);
    }
    return reader.status();
  }

  JfrProfiles Finish();

 private:
  void OnEvent(const JfrChunk& chunk, const JfrEvent& ev) {
    switch (ev.type) {
      case JfrEventType::kExecutionSample:
        // Upstream counts a sample as CPU only when the thread was running; in wall mode every
        // sample is also a wall sample.
        if (chunk.ThreadStateName(ev.state) == "STATE_RUNNABLE") {
          Add(chunk, kCpu, ev.context_id, ev.stack_trace, 1, 0);
        }
        if (event_ == "wall") Add(chunk, kWall, ev.context_id, ev.stack_trace, 1, 0);
        break;
      case JfrEventType::kWallClockSample:
        Add(chunk, kWall, 0, ev.stack_trace, static_cast<int64_t>(ev.samples), 0);
        break;
      case JfrEventType::kAllocInNewTlab:
        Add(chunk, kInTlab, ev.context_id, ev.stack_trace, 1, static_cast<int64_t>(ev.tlab_size));
        break;
      case JfrEventType::kAllocOutsideTlab:
        Add(chunk, kOutTlab, ev.context_id, ev.stack_trace, 1,
            static_cast<int64_t>(ev.allocation_size));
        break;
      case JfrEventType::kAllocSample:
        Add(chunk, kAllocSample, 0, ev.stack_trace, 1, static_cast<int64_t>(ev.weight));
        break;
      case JfrEventType::kMonitorEnter:
        Add(chunk, kLock, ev.context_id, ev.stack_trace, 1, static_cast<int64_t>(ev.duration));
        break;
      case JfrEventType::kThreadPark:
        Add(chunk, kThreadPark, ev.context_id, ev.stack_trace, 1,
            static_cast<int64_t>(ev.duration));
        break;
      case JfrEventType::kLiveObject:
        Add(chunk, kLive, 0, ev.stack_trace, 1, 0);
        break;
      case JfrEventType::kActiveSetting:
        if (ev.setting_name == "event") event_ = std::string(ev.setting_value);
        break;
      case JfrEventType::kCount:
        break;
    }
  }

  void Add(const JfrChunk& chunk, Group group, uint64_t context_id, uint64_t trace_id, int64_t v0,
           int64_t v1) {
    const int32_t stack = StackFor(chunk, trace_id);
    if (stack == kNone) return;  // unknown stack trace: upstream drops the sample
    const ContextLabels ctx = LabelsFor(context_id);
    Builder& b = BuilderFor(group, ctx.labelset);
    const uint64_t key =
        (static_cast<uint64_t>(ctx.profile_id) << 32) | static_cast<uint32_t>(stack);
    auto [it, inserted] = b.sample_by_key.try_emplace(key, b.stacks.size());
    if (inserted) {
      b.stacks.push_back(static_cast<uint32_t>(stack));
      b.profile_ids.push_back(ctx.profile_id);
      b.values[0].push_back(v0);
      b.values[1].push_back(v1);
    } else {
      b.values[0][it->second] += v0;
      b.values[1][it->second] += v1;
    }
  }

  Builder& BuilderFor(Group group, uint32_t labelset) {
    const uint64_t key = (static_cast<uint64_t>(labelset) << 8) | group;
    auto [it, inserted] = builder_by_key_.try_emplace(key, builders_.size());
    if (inserted) {
      builders_.push_back(std::make_unique<Builder>());
      builders_.back()->group = group;
      builders_.back()->labelset = labelset;
    }
    return *builders_[it->second];
  }

  ContextLabels LabelsFor(uint64_t context_id) {
    if (context_id == 0 || labels_ == nullptr) return {};
    auto cached = labels_by_context_.find(context_id);
    if (cached != labels_by_context_.end()) return cached->second;
    ContextLabels result;
    std::vector<std::pair<std::string, std::string>> ls;
    auto ctx = labels_->contexts.find(static_cast<int64_t>(context_id));
    if (ctx != labels_->contexts.end()) {
      for (const auto& [k, v] : ctx->second) {
        auto name = labels_->strings.find(k);
        if (name == labels_->strings.end()) continue;
        auto value = labels_->strings.find(v);
        ls.emplace_back(name->second,
                        value == labels_->strings.end() ? std::string() : value->second);
      }
      std::stable_sort(ls.begin(), ls.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      ls.erase(std::unique(ls.begin(), ls.end(),
                           [](const auto& a, const auto& b) { return a.first == b.first; }),
               ls.end());
      if (options_.profile_id_on_samples) {
        for (auto it = ls.begin(); it != ls.end(); ++it) {
          if (it->first != "profile_id") continue;
          auto [pit, inserted] = profile_id_index_.try_emplace(it->second, profile_ids_.size());
          if (inserted) profile_ids_.push_back(it->second);
          result.profile_id = pit->second;
          ls.erase(it);
          break;
        }
      }
    }
    std::string key;
    for (const auto& [n, v] : ls) {
      key.append(n).push_back('\xff');
      key.append(v).push_back('\xff');
    }
    auto [it, inserted] = labelset_by_key_.try_emplace(key, labelsets_.size());
    if (inserted) labelsets_.push_back(std::move(ls));
    result.labelset = it->second;
    labels_by_context_[context_id] = result;
    return result;
  }

  int32_t StackFor(const JfrChunk& chunk, uint64_t trace_id) {
    auto cached = stack_by_trace_.find(trace_id);
    if (cached != stack_by_trace_.end()) return cached->second;
    int32_t result = kNone;
    if (const JfrStackTrace* st = chunk.FindStackTrace(trace_id)) {
      auto frames = chunk.Frames(*st);
      scratch_.clear();
      for (size_t i = frames.size(); i-- > 0;) {  // JFR lists the leaf first; we want root first
        const int32_t f = FrameFor(chunk, frames[i].method);
        if (f != kNone) scratch_.push_back(static_cast<uint32_t>(f));
      }
      std::string key(reinterpret_cast<const char*>(scratch_.data()),
                      scratch_.size() * sizeof(uint32_t));
      auto [it, inserted] = stack_by_key_.try_emplace(std::move(key), stacks_.size());
      if (inserted) stacks_.push_back(scratch_);
      result = static_cast<int32_t>(it->second);
    }
    stack_by_trace_[trace_id] = result;
    return result;
  }

  // "<class>.<method>", or kNone when the method or its class is unknown (upstream skips such
  // frames). A class whose name symbol is missing yields "" for the class part, as upstream.
  int32_t FrameFor(const JfrChunk& chunk, uint64_t method_id) {
    auto cached = frame_by_method_.find(method_id);
    if (cached != frame_by_method_.end()) return cached->second;
    int32_t result = kNone;
    const JfrMethod* m = chunk.FindMethod(method_id);
    uint64_t class_symbol;
    if (m != nullptr && chunk.FindClassName(m->class_id, &class_symbol)) {
      std::string_view cls, method;
      chunk.FindSymbol(class_symbol, &cls);
      chunk.FindSymbol(m->name_symbol, &method);
      std::string name = StrCat(MergeJvmGeneratedName(cls), ".", MergeJvmGeneratedName(method));
      auto [it, inserted] = frame_by_name_.try_emplace(name, frames_.size());
      if (inserted) frames_.push_back(std::move(name));
      result = static_cast<int32_t>(it->second);
    }
    frame_by_method_[method_id] = result;
    return result;
  }

  const JfrLabelsSnapshot* labels_;
  JfrConvertOptions options_;
  std::string event_;

  std::vector<std::string> frames_;
  absl::flat_hash_map<std::string, uint32_t> frame_by_name_;
  std::vector<std::vector<uint32_t>> stacks_;
  absl::flat_hash_map<std::string, uint32_t> stack_by_key_;
  std::vector<uint32_t> scratch_;
  std::vector<std::vector<std::pair<std::string, std::string>>> labelsets_;
  absl::flat_hash_map<std::string, uint32_t> labelset_by_key_;
  std::vector<std::string> profile_ids_;
  absl::flat_hash_map<std::string, uint32_t> profile_id_index_;
  absl::flat_hash_map<uint64_t, ContextLabels> labels_by_context_;
  std::vector<std::unique_ptr<Builder>> builders_;
  absl::flat_hash_map<uint64_t, uint32_t> builder_by_key_;
  // Per chunk.
  absl::flat_hash_map<uint64_t, int32_t> frame_by_method_;
  absl::flat_hash_map<uint64_t, int32_t> stack_by_trace_;
};

JfrProfiles Converter::Finish() {
  JfrProfiles out;
  out.jfr_event = event_;
  const int64_t period = options_.sample_rate > 0 ? 1000000000 / options_.sample_rate : 0;
  std::vector<int32_t> local(frames_.size(), kNone);
  for (const auto& bp : builders_) {
    const Builder& b = *bp;
    const GroupSpec& g = kGroups[b.group];
    for (int col = 0; col < g.columns; ++col) {
      const SeriesSpec& spec = g.series[col];
      JfrSeries s;
      s.metric_suffix = spec.suffix;
      if (b.group == kCpu && event_ == "itimer") s.metric_suffix = "itimer";
      s.name = spec.name;
      s.sample_type = spec.sample_type;
      s.sample_unit = spec.sample_unit;
      s.period_type = spec.period_type;
      s.period_unit = spec.period_unit;
      s.profile_type_id = StrCat(s.name, ":", s.sample_type, ":", s.sample_unit, ":", s.period_type,
                                 ":", s.period_unit);
      const bool timed = b.group == kCpu || b.group == kWall;
      s.value_scale = timed ? std::max<int64_t>(period, 1) : 1;
      s.period = timed ? period : 1;
      s.labels = labelsets_[b.labelset];
      // Remap the global frame ids of this series' stacks to a compact local table.
      std::vector<uint32_t> used;
      s.samples.reserve(b.stacks.size());
      for (size_t i = 0; i < b.stacks.size(); ++i) {
        const std::vector<uint32_t>& stack = stacks_[b.stacks[i]];
        JfrSeries::Sample sample;
        sample.value = b.values[col][i];
        sample.profile_id = profile_ids_[b.profile_ids[i]];
        sample.frames.reserve(stack.size());
        for (uint32_t f : stack) {
          if (local[f] == kNone) {
            local[f] = static_cast<int32_t>(s.frames_table.size());
            s.frames_table.push_back(frames_[f]);
            used.push_back(f);
          }
          sample.frames.push_back(static_cast<uint32_t>(local[f]));
        }
        s.samples.push_back(std::move(sample));
      }
      for (uint32_t f : used) local[f] = kNone;
      out.series.push_back(std::move(s));
    }
  }
  std::sort(out.series.begin(), out.series.end(), [](const JfrSeries& a, const JfrSeries& b) {
    return std::tie(a.metric_suffix, a.labels) < std::tie(b.metric_suffix, b.labels);
  });
  return out;
}

// Replaces the whole of `s` by `replacement` (with $1 = first group) when `re` matches it all.
bool ReplaceIfMatch(std::string* s, const std::regex& re, const char* replacement) {
  std::smatch m;
  if (!std::regex_match(*s, m, re)) return false;
  *s = m.format(replacement);
  return true;
}

}  // namespace

std::string MergeJvmGeneratedName(std::string_view symbol) {
  std::string s(symbol);
  // Cheap substring checks first: the regexes run only on the rare symbols that may match.
  if (s.find("GeneratedMethodAccessor") != std::string::npos) {
    static const std::regex re("^(jdk/internal/reflect/GeneratedMethodAccessor)(\\d+)$");
    ReplaceIfMatch(&s, re, "$1_");
  }
  if (s.find("$$Lambda") != std::string::npos) {
    // JDK < 21: Foo$$Lambda$669/0x0000000800fd7318 (Pyroscope's expected data keeps the '$');
    // JDK 21+: Foo$$Lambda/0x00007ffa600c4da0 or Foo$$Lambda.0x….
    static const std::regex old_form("^(.+\\$\\$Lambda\\$)\\d+[./](0x[\\da-f]+|\\d+)$");
    static const std::regex new_form("^(.+\\$\\$Lambda)(\\$?\\d*[./](0x)?[\\da-f]+|\\d+)$");
    if (!ReplaceIfMatch(&s, old_form, "$1_")) ReplaceIfMatch(&s, new_form, "$1_");
  }
  if (s.find("libzstd-jni-") != std::string::npos) {
    static const std::regex re(
        "^(\\.?/tmp/)?(libzstd-jni-\\d+\\.\\d+\\.\\d+-)(\\d+)(\\.so)( \\(deleted\\))?$");
    ReplaceIfMatch(&s, re, "libzstd-jni-_.so");
  }
  if (s.find("amazonCorrettoCryptoProvider") != std::string::npos) {
    static const std::regex re(
        "^(\\.?/tmp/)?(lib)?(amazonCorrettoCryptoProvider)(NativeLibraries\\.)?([0-9a-f]{16})"
        "(/libcrypto|/libamazonCorrettoCryptoProvider)?(\\.so)( \\(deleted\\))?$");
    ReplaceIfMatch(&s, re, "libamazonCorrettoCryptoProvider_.so");
  }
  if (s.find("libasyncProfiler-") != std::string::npos) {
    static const std::regex re(
        "^(\\.?/tmp/)?(libasyncProfiler)-(linux-arm64|linux-musl-x64|linux-x64|macos)-"
        "(17b9a1d8156277a98ccc871afa9a8f69215f92)(\\.so)( \\(deleted\\))?$");
    ReplaceIfMatch(&s, re, "libasyncProfiler-_.so");
  }
  return s;
}

absl::StatusOr<JfrProfiles> ConvertJfr(std::string_view jfr, const JfrLabelsSnapshot* labels,
                                       const JfrConvertOptions& options) {
  Converter c(labels, options);
  EMBERS_RETURN_IF_ERROR(c.Run(jfr));
  return c.Finish();
}

absl::StatusOr<JfrProfiles> ConvertJfrBody(std::string_view jfr, std::string_view labels,
                                           size_t max_decompressed,
                                           const JfrConvertOptions& options) {
  EMBERS_ASSIGN_OR_RETURN(std::string raw, MaybeDecompress(jfr, max_decompressed));
  JfrLabelsSnapshot snapshot;
  if (!labels.empty()) {
    EMBERS_ASSIGN_OR_RETURN(std::string raw_labels, MaybeDecompress(labels, max_decompressed));
    EMBERS_ASSIGN_OR_RETURN(snapshot, ParseLabelsSnapshot(raw_labels));
  }
  return ConvertJfr(raw, labels.empty() ? nullptr : &snapshot, options);
}

}  // namespace embers::jfr
