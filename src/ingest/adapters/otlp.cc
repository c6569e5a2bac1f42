#include "ingest/adapters/otlp.h"

#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/time/clock.h"
#include "base/status.h"
#include "base/strings.h"
#include "google/protobuf/util/json_util.h"
#include "ingest/adapters/pprof_builder.h"
#include "model/labels.h"

namespace embers::ingest {

namespace {

namespace otel = ::opentelemetry::proto::profiles::v1development;
namespace otel_common = ::opentelemetry::proto::common::v1;

constexpr std::string_view kServiceNameAttr = "service.name";
constexpr int64_t kDefaultDurationNanos = 10'000'000'000;

absl::Status Invalid(std::string_view message) {
  return absl::InvalidArgumentError(ToAbsl(StrCat("otlp profile: ", message)));
}

// Bounds-checked access to the dictionary's tables: every index in an OTLP profile is
// untrusted.
template <class T>
const T* At(const google::protobuf::RepeatedPtrField<T>& table, int32_t index) {
  return index >= 0 && index < table.size() ? &table.Get(index) : nullptr;
}

class Dictionary {
 public:
  explicit Dictionary(const otel::ProfilesDictionary& d) : d_(d) {}
  const otel::ProfilesDictionary& proto() const { return d_; }

  absl::Status String(int32_t index, std::string_view what, std::string_view* out) const {
    if (index < 0 || index >= d_.string_table_size()) {
      return Invalid(StrCat(what, ": string index ", index, " out of range (table has ",
                            d_.string_table_size(), ")"));
    }
    *out = d_.string_table(index);
    return absl::OkStatus();
  }

  // The string form of an attribute value as Pyroscope reads it: string values (inline or via
  // the string table); other kinds are "" and so never become labels.
  std::string_view ValueString(const otel_common::AnyValue& v) const {
    switch (v.value_case()) {
      case otel_common::AnyValue::kStringValue:
        return v.string_value();
      case otel_common::AnyValue::kStringValueStrindex: {
        const int32_t i = v.string_value_strindex();
        return i >= 0 && i < d_.string_table_size() ? std::string_view(d_.string_table(i))
                                                    : std::string_view();
      }
      default:
        return {};
    }
  }

  // The value of attribute `key` among `indices`, "" when absent.
  absl::Status Attribute(const google::protobuf::RepeatedField<int32_t>& indices,
                         std::string_view key, std::string_view* out) const {
    *out = {};
    for (int32_t index : indices) {
      const otel::KeyValueAndUnit* attr = At(d_.attribute_table(), index);
      if (attr == nullptr) return Invalid(StrCat("attribute index ", index, " out of range"));
      std::string_view k;
      EMBERS_RETURN_IF_ERROR(String(attr->key_strindex(), "attribute key", &k));
      if (k == key) {
        *out = ValueString(attr->value());
        return absl::OkStatus();
      }
    }
    return absl::OkStatus();
  }

  // A resource/scope attribute's key: inline, or (newer senders) through the string table.
  std::string_view Key(const otel_common::KeyValue& kv) const {
    if (!kv.key().empty()) return kv.key();
    const int32_t i = kv.key_strindex();
    return i > 0 && i < d_.string_table_size() ? std::string_view(d_.string_table(i))
                                               : std::string_view();
  }

 private:
  const otel::ProfilesDictionary& d_;
};

// Converts the samples of one OTel profile that belong to one service.
class ProfileConverter {
 public:
  ProfileConverter(const otel::Profile& src, const Dictionary& dict) : src_(src), dict_(dict) {}

  absl::Status Init(int64_t now_nanos) {
    if (!src_.has_sample_type()) return Invalid("sample type is missing");
    std::string_view type, unit, period_type, period_unit;
    EMBERS_RETURN_IF_ERROR(dict_.String(src_.sample_type().type_strindex(), "sample type", &type));
    EMBERS_RETURN_IF_ERROR(dict_.String(src_.sample_type().unit_strindex(), "sample unit", &unit));
    if (src_.has_period_type()) {
      EMBERS_RETURN_IF_ERROR(
          dict_.String(src_.period_type().type_strindex(), "period type", &period_type));
      EMBERS_RETURN_IF_ERROR(
          dict_.String(src_.period_type().unit_strindex(), "period unit", &period_unit));
      b_.SetPeriod(period_type, period_unit, src_.period());
    } else {
      b_.SetPeriodValue(src_.period());
    }
    b_.SetDefaultSampleType(type);

    // Upstream's recognition of the eBPF profiler's types goes through this string; the period
    // part is empty unless there is a period.
    const bool has_period = src_.has_period_type() && src_.period() != 0;
    const std::string id = StrCat(type, ":", unit, ":", has_period ? period_type : "", ":",
                                  has_period ? period_unit : "");
    if (id == "samples:count:cpu:nanoseconds") {
      b_.AddSampleType("cpu", "nanoseconds");
      name_ = "process_cpu";
      conversion_ = Conversion::kSamplesToNanos;
    } else if (id == "off_cpu:nanoseconds::") {
      b_.AddSampleType(type, unit);
      name_ = "off_cpu";
      conversion_ = Conversion::kSumEvents;
    } else {
      // Upstream names custom types after the period type; without one we use the sample type
      // rather than an empty (and so rejected) __name__.
      b_.AddSampleType(type, unit);
      name_ = std::string(has_period && !period_type.empty() ? period_type : type);
    }
    int64_t time = static_cast<int64_t>(src_.time_unix_nano());
    if (time == 0) time = now_nanos;
    int64_t duration = static_cast<int64_t>(src_.duration_nano());
    if (duration == 0) duration = kDefaultDurationNanos;
    b_.SetTime(time, duration);
    return absl::OkStatus();
  }

  absl::Status AddSample(const otel::Sample& s) {
    int64_t value = 0;
    if (s.values_size() == 0) {
      // The spec allows timestamps without values: each occurrence counts 1.
      if (s.timestamps_unix_nano_size() == 0) return Invalid("sample value is required");
      value = s.timestamps_unix_nano_size();
      EMBERS_RETURN_IF_ERROR(Convert(&value));
    } else if (conversion_ == Conversion::kSumEvents) {
      // pprof has one value per sample type, so the off-CPU events of a sample are summed.
      for (int64_t v : s.values()) {
        if (__builtin_add_overflow(value, v, &value)) return Invalid("sample values overflow");
      }
    } else {
      if (s.values_size() != 1) {
        return Invalid(StrCat("sample has ", s.values_size(), " values for 1 sample type"));
      }
      value = s.values(0);
      EMBERS_RETURN_IF_ERROR(Convert(&value));
    }

    labels_.clear();
    for (int32_t index : s.attribute_indices()) {
      const otel::KeyValueAndUnit* attr = At(dict_.proto().attribute_table(), index);
      if (attr == nullptr) return Invalid(StrCat("attribute index ", index, " out of range"));
      std::string_view key;
      EMBERS_RETURN_IF_ERROR(dict_.String(attr->key_strindex(), "attribute key", &key));
      if (key == kServiceNameAttr) continue;  // it selected this converter
      std::string_view v = dict_.ValueString(attr->value());
      if (v.empty()) continue;
      labels_.push_back({b_.String(key), b_.String(v), 0, 0});
    }
    if (s.link_index() != 0) {
      const otel::Link* link = At(dict_.proto().link_table(), s.link_index());
      if (link == nullptr) return Invalid(StrCat("link index ", s.link_index(), " out of range"));
      labels_.push_back({b_.String("span_id"), b_.String(HexBytes(link->span_id())), 0, 0});
      if (link->trace_id().size() == 16) {
        labels_.push_back({b_.String("trace_id"), b_.String(HexBytes(link->trace_id())), 0, 0});
      }
    }

    const otel::Stack* stack = At(dict_.proto().stack_table(), s.stack_index());
    if (stack == nullptr) return Invalid(StrCat("stack index ", s.stack_index(), " out of range"));
    // Every index of the stack is checked before any is followed: ConvertMapping surveys all of
    // the stack's locations, so one bad index further down must be rejected first (found by
    // otlp_fuzzer; tests/fuzz/regressions).
    for (int32_t li : stack->location_indices()) {
      const otel::Location* loc = At(dict_.proto().location_table(), li);
      if (loc == nullptr) return Invalid(StrCat("location index ", li, " out of range"));
      if (At(dict_.proto().mapping_table(), loc->mapping_index()) == nullptr) {
        return Invalid(StrCat("mapping index ", loc->mapping_index(), " out of range"));
      }
    }
    // Mappings first: their has_* flags are surveyed over this stack's locations.
    for (int32_t li : stack->location_indices()) {
      const otel::Location* loc = At(dict_.proto().location_table(), li);
      if (!mapping_ids_.contains(loc->mapping_index())) {
        EMBERS_RETURN_IF_ERROR(ConvertMapping(loc->mapping_index(), *stack));
      }
    }
    // OTLP stacks, like pprof's, run leaf first.
    stack_.clear();
    for (int32_t li : stack->location_indices()) {
      uint64_t id = 0;
      EMBERS_RETURN_IF_ERROR(ConvertLocation(li, &id));
      stack_.push_back(id);
    }
    b_.AddSample(stack_, {&value, 1}, labels_);
    return absl::OkStatus();
  }

  const std::string& name() const { return name_; }
  absl::StatusOr<pprof::Profile> Finish() { return b_.Finish(); }

 private:
  enum class Conversion { kNone, kSamplesToNanos, kSumEvents };

  absl::Status Convert(int64_t* value) const {
    if (conversion_ == Conversion::kSamplesToNanos &&
        __builtin_mul_overflow(*value, src_.period(), value)) {
      return Invalid("sample value × period overflows 64 bits");
    }
    return absl::OkStatus();
  }

  static std::string HexBytes(const std::string& bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 15]);
    }
    return out;
  }

  absl::Status ConvertMapping(int32_t index, const otel::Stack& stack) {
    const otel::Mapping& om = dict_.proto().mapping_table(index);
    // A mapping has symbols only if every location of it in this stack does.
    bool has_lines = true, has_functions = true, has_inline = true, has_filenames = true;
    for (int32_t li : stack.location_indices()) {
      const otel::Location& loc = dict_.proto().location_table(li);
      if (loc.mapping_index() != index) continue;
      if (loc.lines_size() == 0) {
        has_lines = has_functions = has_inline = has_filenames = false;
        break;
      }
      for (int i = 0; i < loc.lines_size(); ++i) {
        const otel::Line& line = loc.lines(i);
        has_functions = has_functions && line.function_index() > 0;
        has_lines = has_lines && line.line() > 0;
        has_inline = has_inline && i >= 1;
        if (const otel::Function* f = At(dict_.proto().function_table(), line.function_index());
            f != nullptr && line.function_index() > 0) {
          has_filenames = has_filenames && f->filename_strindex() > 0;
        }
      }
    }
    std::string_view filename, build_id;
    EMBERS_RETURN_IF_ERROR(dict_.String(om.filename_strindex(), "mapping filename", &filename));
    // Upstream ignores a broken build-id attribute; so do we.
    if (!dict_.Attribute(om.attribute_indices(), "process.executable.build_id.gnu", &build_id)
             .ok()) {
      build_id = {};
    }
    pprof::Mapping m;
    m.memory_start = om.memory_start();
    m.memory_limit = om.memory_limit();
    m.file_offset = om.file_offset();
    m.filename = b_.String(filename);
    m.build_id = b_.String(build_id);
    m.has_functions = has_functions;
    m.has_filenames = has_filenames;
    m.has_line_numbers = has_lines;
    m.has_inline_frames = has_inline;
    mapping_ids_[index] = b_.AddMapping(m);
    return absl::OkStatus();
  }

  // Kernel frames get their own copy of the mapping named "[kernel] <file>", leaving the
  // original to the user-space frames that may share it.
  uint64_t KernelMapping(uint64_t mapping_id) {
    auto it = kernel_mapping_ids_.find(mapping_id);
    if (it != kernel_mapping_ids_.end()) return it->second;
    pprof::Mapping copy = b_.mapping(mapping_id);
    const std::string_view file = b_.string(copy.filename);
    uint64_t id = mapping_id;
    if (!file.starts_with("[kernel]")) {
      copy.filename = b_.String(file.empty() ? std::string("[kernel]") : StrCat("[kernel] ", file));
      id = b_.AddMapping(copy);
    }
    kernel_mapping_ids_[mapping_id] = id;
    return id;
  }

  absl::Status ConvertLocation(int32_t index, uint64_t* id) {
    if (auto it = location_ids_.find(index); it != location_ids_.end()) {
      *id = it->second;
      return absl::OkStatus();
    }
    const otel::Location& ol = dict_.proto().location_table(index);
    uint64_t mapping_id = mapping_ids_.at(ol.mapping_index());
    std::string_view frame_type;
    if (dict_.Attribute(ol.attribute_indices(), "profile.frame.type", &frame_type).ok() &&
        frame_type == "kernel") {
      mapping_id = KernelMapping(mapping_id);
    }
    lines_.clear();
    for (const otel::Line& line : ol.lines()) {
      pprof::Line l;
      EMBERS_RETURN_IF_ERROR(ConvertFunction(line.function_index(), &l.function_id));
      l.line = line.line();
      l.column = line.column();
      lines_.push_back(l);
    }
    *id = b_.AddLocation(mapping_id, ol.address(), lines_);
    location_ids_[index] = *id;
    return absl::OkStatus();
  }

  absl::Status ConvertFunction(int32_t index, uint64_t* id) {
    if (auto it = function_ids_.find(index); it != function_ids_.end()) {
      *id = it->second;
      return absl::OkStatus();
    }
    const otel::Function* f = At(dict_.proto().function_table(), index);
    if (f == nullptr) return Invalid(StrCat("function index ", index, " out of range"));
    std::string_view name, system_name, filename;
    EMBERS_RETURN_IF_ERROR(dict_.String(f->name_strindex(), "function name", &name));
    EMBERS_RETURN_IF_ERROR(
        dict_.String(f->system_name_strindex(), "function system name", &system_name));
    EMBERS_RETURN_IF_ERROR(dict_.String(f->filename_strindex(), "function filename", &filename));
    *id = b_.AddFunction(name, system_name, filename, f->start_line());
    function_ids_[index] = *id;
    return absl::OkStatus();
  }

  const otel::Profile& src_;
  const Dictionary& dict_;
  PprofBuilder b_;
  std::string name_;
  Conversion conversion_ = Conversion::kNone;
  absl::flat_hash_map<int32_t, uint64_t> mapping_ids_;
  absl::flat_hash_map<uint64_t, uint64_t> kernel_mapping_ids_;
  absl::flat_hash_map<int32_t, uint64_t> location_ids_;
  absl::flat_hash_map<int32_t, uint64_t> function_ids_;
  // Scratch buffers reused across samples.
  std::vector<pprof::Label> labels_;
  std::vector<uint64_t> stack_;
  std::vector<pprof::Line> lines_;
};

// The resource's service: service.name, else unknown_service[:<process.executable.name>].
std::string ResourceServiceName(
    const Dictionary& dict,
    const google::protobuf::RepeatedPtrField<otel_common::KeyValue>& attrs) {
  std::string fallback(model::kServiceNameFallback);
  for (const otel_common::KeyValue& kv : attrs) {
    const std::string_view key = dict.Key(kv);
    const std::string_view v = dict.ValueString(kv.value());
    if (v.empty()) continue;
    if (key == kServiceNameAttr) return std::string(v);
    if (key == "process.executable.name") fallback = StrCat(fallback, ":", v);
  }
  return fallback;
}

void AppendAttributes(const Dictionary& dict,
                      const google::protobuf::RepeatedPtrField<otel_common::KeyValue>& attrs,
                      absl::flat_hash_set<std::string>* seen, std::vector<model::Label>* out) {
  for (const otel_common::KeyValue& kv : attrs) {
    const std::string key(dict.Key(kv));
    const std::string_view v = dict.ValueString(kv.value());
    if (key.empty() || v.empty() || seen->contains(key)) continue;
    seen->insert(key);
    out->push_back({key, std::string(v)});
  }
}

// Converts one OTel profile: one converter per service found on its samples.
absl::Status ConvertProfile(const otel::Profile& src, const Dictionary& dict,
                            const otel::ResourceProfiles& rp, const otel::ScopeProfiles& sp,
                            const std::string& resource_service, int64_t now_nanos,
                            std::vector<IngestProfile>* out) {
  std::vector<std::pair<std::string, std::unique_ptr<ProfileConverter>>> by_service;
  absl::flat_hash_map<std::string, size_t> index;
  for (const otel::Sample& s : src.samples()) {
    std::string_view svc;
    // Upstream drops the whole profile when a sample's attributes are broken.
    if (!dict.Attribute(s.attribute_indices(), kServiceNameAttr, &svc).ok())
      return absl::OkStatus();
    auto [it, inserted] = index.try_emplace(std::string(svc), by_service.size());
    if (inserted) {
      auto conv = std::make_unique<ProfileConverter>(src, dict);
      absl::Status st = conv->Init(now_nanos);
      if (!st.ok()) return st;
      by_service.emplace_back(std::string(svc), std::move(conv));
    }
    EMBERS_RETURN_IF_ERROR(by_service[it->second].second->AddSample(s));
  }
  int64_t received = static_cast<int64_t>(src.ByteSizeLong());
  for (auto& [svc, conv] : by_service) {
    IngestProfile p;
    EMBERS_ASSIGN_OR_RETURN(p.profile, conv->Finish());
    std::vector<model::Label> labels;
    labels.push_back({std::string(model::kLabelDelta), "false"});
    labels.push_back({"__otel__", "true"});
    labels.push_back({std::string(model::kLabelProfileName), conv->name()});
    absl::flat_hash_set<std::string> seen = {std::string(model::kLabelProfileName)};
    AppendAttributes(dict, rp.resource().attributes(), &seen, &labels);
    AppendAttributes(dict, sp.scope().attributes(), &seen, &labels);
    p.labels = model::Labels(std::move(labels));
    p.labels.Set(model::kLabelServiceName, svc.empty() ? resource_service : svc);
    // The rate limiter charges the OTel profile once, on its first output.
    p.received_bytes = received;
    received = 0;
    out->push_back(std::move(p));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<IngestProfile>> ConvertOtlp(const OtlpExportRequest& request,
                                                       const OtlpConvertOptions& options) {
  if (!request.has_dictionary()) return Invalid("missing profile metadata dictionary");
  if (request.resource_profiles_size() == 0) return Invalid("missing resource profiles");
  const int64_t now = options.now_nanos != 0 ? options.now_nanos : absl::GetCurrentTimeNanos();
  const Dictionary dict(request.dictionary());
  std::vector<IngestProfile> out;
  for (const otel::ResourceProfiles& rp : request.resource_profiles()) {
    const std::string resource_service = ResourceServiceName(dict, rp.resource().attributes());
    for (const otel::ScopeProfiles& sp : rp.scope_profiles()) {
      for (const otel::Profile& profile : sp.profiles()) {
        EMBERS_RETURN_IF_ERROR(ConvertProfile(profile, dict, rp, sp, resource_service, now, &out));
      }
    }
  }
  return out;
}

absl::StatusOr<OtlpExportRequest> ParseOtlpHttpBody(std::string_view content_type,
                                                    std::string_view body) {
  const size_t semi = content_type.find(';');
  const std::string media = AsciiLower(StripWhitespace(
      semi == std::string_view::npos ? content_type : content_type.substr(0, semi)));
  OtlpExportRequest request;
  if (media == "application/x-protobuf" || media == "application/protobuf") {
    if (body.size() > static_cast<size_t>(INT32_MAX) ||
        !request.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      return absl::InvalidArgumentError("failed to parse protobuf request");
    }
    return request;
  }
  if (media == "application/json") {
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;
    auto status = google::protobuf::util::JsonStringToMessage(std::string(body), &request, options);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          ToAbsl(StrCat("failed to parse JSON request: ", status.ToString())));
    }
    return request;
  }
  return UnsupportedMediaTypeError(
      StrCat("unsupported Content-Type \"", content_type.substr(0, 100),
             "\": want application/x-protobuf, application/protobuf or application/json"));
}

}  // namespace embers::ingest
