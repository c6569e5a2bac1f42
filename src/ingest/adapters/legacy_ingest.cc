#include "ingest/adapters/legacy_ingest.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>

#include "absl/time/clock.h"
#include "base/compression.h"
#include "base/status.h"
#include "base/strings.h"
#include "ingest/adapters/pprof_builder.h"
#include "ingest/jfr/jfr_to_profiles.h"
#include "ingest/legacy/app_name.h"
#include "ingest/legacy/folded.h"
#include "ingest/legacy/multipart.h"
#include "ingest/legacy/og_binary.h"
#include "ingest/legacy/profile_kind.h"
#include "ingest/legacy/sample_type_config.h"
#include "ingest/legacy/speedscope.h"
#include "ingest/legacy/time_param.h"
#include "pprof/decoder.h"

namespace embers::ingest {

namespace {

using IngestProfiles = std::vector<IngestProfile>;

enum class Format { kGroups, kLines, kTrie, kTree, kJfr, kPprof, kSpeedscope, kMultipartPprof };

// The query parameters, parsed. Errors here are the 400s of upstream's metadata parsing.
struct Metadata {
  AppName app;
  int64_t from = 0;
  int64_t until = 0;
  uint32_t sample_rate = 100;
  std::string spy_name;
};

absl::StatusOr<Metadata> ParseMetadata(const LegacyIngestRequest& r) {
  Metadata md;
  EMBERS_ASSIGN_OR_RETURN(md.app, ParseAppName(r.name));
  const int64_t now = r.now_nanos != 0 ? r.now_nanos : absl::GetCurrentTimeNanos();
  EMBERS_ASSIGN_OR_RETURN(md.from, ParseTimeParam(r.from, now, "from"));
  EMBERS_ASSIGN_OR_RETURN(md.until, ParseTimeParam(r.until, now, "until"));
  EMBERS_ASSIGN_OR_RETURN(md.sample_rate, ParseSampleRate(r.sample_rate));
  // Parsed for validation only: v2 stores every profile as a sum (upstream ignores it too).
  EMBERS_RETURN_IF_ERROR(ParseAggregationType(r.aggregation_type).status());
  md.spy_name = r.spy_name.empty() ? "unknown" : r.spy_name;
  return md;
}

// The media type of a Content-Type header: lower case, parameters and spaces removed.
std::string MediaType(std::string_view content_type) {
  const size_t semi = content_type.find(';');
  if (semi != std::string_view::npos) content_type = content_type.substr(0, semi);
  return AsciiLower(StripWhitespace(content_type));
}

absl::StatusOr<Format> SelectFormat(std::string_view format, std::string_view content_type) {
  const std::string media = MediaType(content_type);
  if (format == "trie" || media == "binary/octet-stream+trie") return Format::kTrie;
  if (format == "tree" || media == "binary/octet-stream+tree") return Format::kTree;
  if (format == "lines") return Format::kLines;
  if (format == "jfr") return Format::kJfr;
  if (format == "pprof") {
    return IsMultipartFormData(content_type) ? Format::kMultipartPprof : Format::kPprof;
  }
  if (format == "speedscope") return Format::kSpeedscope;
  if (IsMultipartFormData(content_type)) return Format::kMultipartPprof;
  if (format.empty() || format == "groups" || format == "folded") return Format::kGroups;
  return UnsupportedMediaTypeError(StrCat("unknown format \"", format.substr(0, 64),
                                          "\"; want groups, lines, trie, tree, pprof, jfr or "
                                          "speedscope"));
}

// A conversion failure is a 422 unless it already carries a status of its own (413).
absl::Status AsUnprocessable(const absl::Status& status, std::string_view what) {
  if (status.ok() || HttpStatusOverride(status).has_value()) return Annotate(status, what);
  if (status.code() != absl::StatusCode::kInvalidArgument) return Annotate(status, what);
  return UnprocessableError(StrCat(what, ": ", ToStd(status.message())));
}

// Tags a client may send through /ingest: no reserved "__" names except the session id.
bool AllowedTag(std::string_view key) {
  return !key.starts_with("__") || key == model::kLabelSessionId;
}

model::Labels ToLabels(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::vector<model::Label> labels;
  labels.reserve(pairs.size());
  for (const auto& [k, v] : pairs) labels.push_back({k, v});
  return model::Labels(std::move(labels));
}

// Adds service_name (the application name) unless the client set it, in which case the
// application name goes to app_name — the rule LegacySeriesLabels applies to text formats.
void AddServiceName(const AppName& app, std::vector<std::pair<std::string, std::string>>* out) {
  const bool has_service = app.FindTag("service_name") != nullptr;
  if (!has_service) {
    out->emplace_back("service_name", app.name);
  } else if (app.FindTag("app_name") == nullptr) {
    out->emplace_back("app_name", app.name);
  }
}

// --- Text and binary stack formats (groups, lines, trie, tree, speedscope).

absl::StatusOr<IngestProfile> StacksToProfile(const StackSamples& stacks, const AppName& app,
                                              const LegacyProfileType& type, const Metadata& md,
                                              int64_t received_bytes) {
  PprofBuilder b;
  b.AddSampleType(type.sample_type, type.sample_unit);
  if (!type.period_type.empty()) b.SetPeriod(type.period_type, type.period_unit, type.period);
  b.SetTime(md.from, std::max<int64_t>(0, md.until - md.from));
  EMBERS_RETURN_IF_ERROR(AddStackSamples(stacks, type.value_multiplier, &b));
  IngestProfile out;
  EMBERS_ASSIGN_OR_RETURN(out.profile, b.Finish());
  out.labels = ToLabels(LegacySeriesLabels(app, type, md.spy_name));
  out.received_bytes = received_bytes;
  return out;
}

absl::StatusOr<IngestProfiles> ConvertStacks(const StackSamples& stacks, const AppName& app,
                                             uint32_t sample_rate, const Metadata& md,
                                             int64_t received_bytes) {
  // Upstream's adapter drops profiles tagged with a profile_id (exemplar uploads of old agents).
  if (app.FindTag("profile_id") != nullptr) return IngestProfiles();
  EMBERS_ASSIGN_OR_RETURN(LegacyProfileType type, ResolveLegacyProfileType(app.name, sample_rate));
  if (stacks.num_samples() == 0) return IngestProfiles();
  IngestProfiles out;
  EMBERS_ASSIGN_OR_RETURN(IngestProfile p, StacksToProfile(stacks, app, type, md, received_bytes));
  out.push_back(std::move(p));
  return out;
}

absl::StatusOr<IngestProfiles> ConvertSpeedscope(std::string_view body, const Metadata& md,
                                                 const LegacyIngestLimits& limits) {
  absl::StatusOr<std::vector<SpeedscopeProfile>> parsed = ParseSpeedscope(body, limits.parse);
  if (!parsed.ok()) return AsUnprocessable(parsed.status(), "speedscope");
  IngestProfiles out;
  for (const SpeedscopeProfile& sp : *parsed) {
    // See speedscope.h: with several profiles the unit picks the profile type, and the
    // default sampleRate is replaced by the unit's own rate.
    AppName app = md.app;
    if (parsed->size() > 1) app.name = StrCat(app.name, ".", SpeedscopeUnitName(sp.unit));
    if (!sp.name.empty() && app.FindTag("profile_name") == nullptr) {
      app.tags.emplace_back("profile_name", sp.name);
    }
    const uint32_t rate =
        md.sample_rate == 100 ? SpeedscopeDefaultSampleRate(sp.unit) : md.sample_rate;
    EMBERS_ASSIGN_OR_RETURN(IngestProfiles one, ConvertStacks(sp.samples, app, rate, md,
                                                              static_cast<int64_t>(body.size())));
    for (IngestProfile& p : one) out.push_back(std::move(p));
  }
  return out;
}

// --- pprof.

// Pyroscope's guess of the profile name from the sample types (og/convert/pprof metricName):
// "wall" anywhere wins; otherwise the first type whose (display) name looks like a known kind.
std::string MetricName(const pprof::Profile& p, const SampleTypeConfigMap& config) {
  for (const pprof::ValueType& vt : p.sample_types) {
    if (p.String(vt.type) == "wall") return "wall";
  }
  std::string st;
  for (const pprof::ValueType& vt : p.sample_types) {
    st = std::string(p.String(vt.type));
    auto it = config.find(st);
    if (it != config.end() && !it->second.display_name.empty()) st = it->second.display_name;
    if (st.find("cpu") != std::string::npos) return "process_cpu";
    if (st.find("alloc_") != std::string::npos || st.find("inuse_") != std::string::npos ||
        st == "space" || st == "objects") {
      return "memory";
    }
    if (st.find("mutex_") != std::string::npos) return "mutex";
    if (st.find("block_") != std::string::npos) return "block";
    if (st.find("goroutines") != std::string::npos) return "goroutines";
  }
  return st;  // upstream's fallback: the last sample type's (display) name
}

// Replaces string `index` in place, as upstream's fix-ups edit the string table.
void ReplaceString(pprof::Profile* p, int64_t index, std::string value) {
  auto owned = std::make_shared<const std::string>(std::move(value));
  p->strings[index] = *owned;
  p->backing.push_back(std::move(owned));
}

bool ValidStringIndex(const pprof::Profile& p, int64_t i) {
  return i >= 0 && static_cast<uint64_t>(i) < p.strings.size();
}

// The repairs upstream applies to pprof received through /ingest (og/convert/pprof/profile.go).
// They run before validation: the .NET repair turns an invalid profile into a valid one.
void FixPprof(pprof::Profile* p, const Metadata& md, const SampleTypeConfigMap& config,
              bool has_config) {
  // Old py-spy, rbspy and pyroscope-rs wrote time_nanos in the wrong unit.
  if (p->time_nanos < 365LL * 24 * 3600 * 1000000000LL) p->time_nanos = md.from;

  // Scripting-language agents: function names get "<file>:<line> - " in front (line unknown,
  // -1), so frames of same-named functions in different files stay apart.
  const std::string& spy = md.spy_name;
  if (spy == "pyspy" || spy == "rbspy" || spy == "scripting") {
    absl::flat_hash_map<std::string, int64_t> renamed;
    for (pprof::Function& f : p->functions) {
      if (!ValidStringIndex(*p, f.name) || !ValidStringIndex(*p, f.filename)) continue;
      std::string name = StrCat(p->strings[f.filename], ":-1 - ", p->strings[f.name]);
      auto it = renamed.find(name);
      if (it == renamed.end()) {
        it = renamed.emplace(name, p->AddString(name)).first;
      }
      f.name = it->second;
    }
  }

  // Old .NET agents: every function id is 0 and functions parallel locations; sample types
  // are hyphenated ("alloc-samples"), which the distributor would reject.
  const bool dotnet =
      spy == "dotnetspy" || (spy == "unknown" && has_config && config.contains("inuse-space"));
  if (!dotnet) return;
  const bool all_zero = std::all_of(p->functions.begin(), p->functions.end(),
                                    [](const pprof::Function& f) { return f.id == 0; });
  if (all_zero && p->functions.size() == p->locations.size()) {
    for (size_t i = 0; i < p->functions.size(); ++i) p->functions[i].id = p->locations[i].id;
  }
  for (const pprof::ValueType& vt : p->sample_types) {
    if (!ValidStringIndex(*p, vt.type)) continue;
    std::string type(p->strings[vt.type]);
    if (type.find('-') == std::string::npos) continue;
    std::replace(type.begin(), type.end(), '-', '_');
    ReplaceString(p, vt.type, std::move(type));
  }
}

absl::StatusOr<IngestProfiles> ConvertPprof(std::string_view data,
                                            const SampleTypeConfigMap* config_part,
                                            const Metadata& md, const LegacyIngestLimits& limits) {
  if (data.empty()) return IngestProfiles();
  pprof::DecodeOptions options;
  options.max_decompressed_size = limits.max_profile_size;
  options.validate = false;
  absl::StatusOr<pprof::Profile> decoded = pprof::Decode(data, options);
  if (!decoded.ok()) return AsUnprocessable(decoded.status(), "pprof");
  pprof::Profile& p = *decoded;
  const SampleTypeConfigMap& config =
      config_part != nullptr ? *config_part : DefaultSampleTypeConfig();
  FixPprof(&p, md, config, config_part != nullptr);
  absl::Status valid = pprof::Validate(p);
  if (!valid.ok()) return AsUnprocessable(valid, "pprof");

  std::vector<std::pair<std::string, std::string>> labels;
  labels.emplace_back(model::kLabelProfileName, MetricName(p, config));
  labels.emplace_back(model::kLabelDelta, "false");
  labels.emplace_back("pyroscope_spy", md.spy_name);
  for (const auto& [k, v] : md.app.tags) {
    if (AllowedTag(k)) labels.emplace_back(k, v);
  }
  AddServiceName(md.app, &labels);

  IngestProfiles out(1);
  out[0].labels = ToLabels(labels);
  out[0].received_bytes =
      static_cast<int64_t>(p.backing.empty() ? data.size() : p.backing[0]->size());
  out[0].profile = std::move(p);
  return out;
}

absl::StatusOr<IngestProfiles> ConvertMultipartPprof(const LegacyIngestRequest& r,
                                                     const Metadata& md) {
  EMBERS_ASSIGN_OR_RETURN(MultipartForm form, ParseMultipart(r.content_type, r.body));
  if (form.Find("prev_profile") != nullptr) {
    return UnprocessableError(
        "unsupported client version: the prev_profile field (cumulative profiles) is no longer "
        "accepted; update the Pyroscope SDK");
  }
  const MultipartPart* profile = form.Find("profile");
  if (profile == nullptr) {
    return absl::InvalidArgumentError("multipart body: no \"profile\" field");
  }
  std::optional<SampleTypeConfigMap> config;
  if (const MultipartPart* part = form.Find("sample_type_config"); part != nullptr) {
    absl::StatusOr<std::string> json = MaybeDecompress(part->body, r.limits.max_body_size);
    if (!json.ok()) return AsUnprocessable(json.status(), "sample_type_config");
    absl::StatusOr<SampleTypeConfigMap> parsed = ParseSampleTypeConfig(*json);
    if (!parsed.ok()) return AsUnprocessable(parsed.status(), "sample_type_config");
    config = std::move(*parsed);
  }
  return ConvertPprof(profile->body, config ? &*config : nullptr, md, r.limits);
}

// --- JFR.

absl::StatusOr<IngestProfile> JfrSeriesToProfile(const jfr::JfrSeries& s,
                                                 const std::string& jfr_event, const Metadata& md,
                                                 int64_t received_bytes) {
  PprofBuilder b;
  b.AddSampleType(s.sample_type, s.sample_unit);
  if (!s.period_type.empty() || !s.period_unit.empty()) {
    b.SetPeriod(s.period_type, s.period_unit, s.period);
  }
  b.SetTime(md.from, std::max<int64_t>(0, md.until - md.from));
  std::vector<uint64_t> location_of_frame(s.frames_table.size(), 0);
  std::vector<uint64_t> leaf_first;
  const int64_t profile_id_key = b.String("profile_id");
  for (const jfr::JfrSeries::Sample& sample : s.samples) {
    leaf_first.clear();
    for (size_t j = sample.frames.size(); j-- > 0;) {
      const uint32_t frame = sample.frames[j];
      if (frame >= location_of_frame.size()) {
        return UnprocessableError("jfr: frame index out of range");
      }
      uint64_t& loc = location_of_frame[frame];
      if (loc == 0) {
        pprof::Line line;
        line.function_id = b.AddFunction(s.frames_table[frame], "", "", 0);
        loc = b.AddLocation(0, 0, {&line, 1});
      }
      leaf_first.push_back(loc);
    }
    int64_t value = 0;
    if (__builtin_mul_overflow(sample.value, s.value_scale, &value)) {
      return UnprocessableError("jfr: sample value overflows 64 bits");
    }
    if (sample.profile_id.empty()) {
      b.AddSample(leaf_first, {&value, 1});
    } else {
      // Kept per sample (not as a series label): the distributor's splitter reads a
      // `profile_id` sample label as the sample's span id.
      pprof::Label label;
      label.key = profile_id_key;
      label.str = b.String(sample.profile_id);
      b.AddSample(leaf_first, {&value, 1}, {&label, 1});
    }
  }
  IngestProfile out;
  EMBERS_ASSIGN_OR_RETURN(out.profile, b.Finish());

  std::vector<std::pair<std::string, std::string>> labels;
  labels.emplace_back(model::kLabelProfileName, s.name);
  labels.emplace_back(model::kLabelDelta, "false");
  labels.emplace_back("pyroscope_spy", md.spy_name);
  if (!jfr_event.empty()) labels.emplace_back("jfr_event", jfr_event);
  for (const auto& [k, v] : md.app.tags) {
    if (AllowedTag(k)) labels.emplace_back(k, v);
  }
  AddServiceName(md.app, &labels);
  // Context labels come last: request labels win on a name clash (model::Labels keeps the
  // first occurrence).
  for (const auto& [k, v] : s.labels) labels.emplace_back(k, v);
  out.labels = ToLabels(labels);
  out.received_bytes = received_bytes;
  return out;
}

absl::StatusOr<IngestProfiles> ConvertJfr(const LegacyIngestRequest& r, const Metadata& md) {
  std::string_view jfr_data = r.body;
  std::string_view labels_data;
  if (IsMultipartFormData(r.content_type)) {
    EMBERS_ASSIGN_OR_RETURN(MultipartForm form, ParseMultipart(r.content_type, r.body));
    const MultipartPart* jfr = form.Find("jfr");
    if (jfr == nullptr) return absl::InvalidArgumentError("multipart body: no \"jfr\" field");
    jfr_data = jfr->body;
    if (const MultipartPart* labels = form.Find("labels"); labels != nullptr) {
      labels_data = labels->body;
    }
  }
  jfr::JfrConvertOptions options;
  options.sample_rate = md.sample_rate != 0 ? md.sample_rate : 100;
  absl::StatusOr<jfr::JfrProfiles> converted =
      jfr::ConvertJfrBody(jfr_data, labels_data, r.limits.max_body_size, options);
  if (!converted.ok()) return AsUnprocessable(converted.status(), "jfr");
  IngestProfiles out;
  out.reserve(converted->series.size());
  // received_bytes feeds the rate limiter: charge the request once, on the first profile.
  int64_t received = static_cast<int64_t>(r.body.size());
  for (const jfr::JfrSeries& s : converted->series) {
    if (s.samples.empty()) continue;
    EMBERS_ASSIGN_OR_RETURN(IngestProfile p,
                            JfrSeriesToProfile(s, converted->jfr_event, md, received));
    received = 0;
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<IngestProfile>> ConvertLegacyIngest(const LegacyIngestRequest& r) {
  EMBERS_ASSIGN_OR_RETURN(Metadata md, ParseMetadata(r));
  EMBERS_ASSIGN_OR_RETURN(Format format, SelectFormat(r.format, r.content_type));
  switch (format) {
    case Format::kPprof:
      return ConvertPprof(r.body, nullptr, md, r.limits);
    case Format::kMultipartPprof:
      return ConvertMultipartPprof(r, md);
    case Format::kJfr:
      return ConvertJfr(r, md);
    default:
      break;
  }
  // The remaining formats are text or og binary; the body may be gzip without a header.
  absl::StatusOr<std::string> body = MaybeDecompress(r.body, r.limits.max_body_size);
  if (!body.ok()) return AsUnprocessable(body.status(), "decompressing the body");
  const int64_t received = static_cast<int64_t>(body->size());
  absl::StatusOr<StackSamples> stacks;
  switch (format) {
    case Format::kGroups:
      stacks = ParseFolded(*body, r.limits.parse);
      break;
    case Format::kLines:
      stacks = ParseLines(*body, r.limits.parse);
      break;
    case Format::kTrie:
      stacks = ParseTrie(*body, r.limits.parse);
      break;
    case Format::kTree:
      stacks = ParseTree(*body, r.limits.parse);
      break;
    case Format::kSpeedscope:
      return ConvertSpeedscope(*body, md, r.limits);
    default:
      return absl::InternalError("unhandled format");
  }
  if (!stacks.ok()) return AsUnprocessable(stacks.status(), "parsing the body");
  return ConvertStacks(*stacks, md.app, md.sample_rate, md, received);
}

}  // namespace embers::ingest
