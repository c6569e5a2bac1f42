#include "pprof/split.h"

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include <algorithm>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "base/strings.h"
#include "pprof/sample_arrays_cache.h"

namespace embers::pprof {

namespace {

// Index of `s` in the string table, or -1.
int64_t FindString(const Profile& p, std::string_view s) {
  for (size_t i = 0; i < p.strings.size(); ++i) {
    if (p.strings[i] == s) return static_cast<int64_t>(i);
  }
  return -1;
}

struct PairHash {
  size_t operator()(const std::vector<std::pair<int64_t, int64_t>>& v) const {
    return XXH3_64bits(v.data(), v.size() * sizeof(v[0]));
  }
};

// Samples of one output series (before the per-type split).
struct SeriesGroup {
  model::Labels labels;
  std::vector<uint32_t> samples;  // indexes into the source profile
};

}  // namespace

uint64_t ParseSpanId(std::string_view s) {
  if (s.size() != 16) return 0;
  uint64_t v = 0;
  for (char c : s) {
    const int d = HexDigitValue(c);
    if (d < 0) return 0;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  return v;
}

std::string FormatSpanId(uint64_t id) {
  std::string out;
  AppendHex16(id, &out);
  return out;
}

Profile SeriesProfile::ToPprof() const {
  Profile out = samples;
  out.strings = symbols->strings;
  out.locations = symbols->locations;
  out.lines = symbols->lines;
  out.functions = symbols->functions;
  out.mappings = symbols->mappings;
  out.backing.insert(out.backing.end(), symbols->backing.begin(), symbols->backing.end());
  out.RebuildIndexes();
  return out;
}

absl::StatusOr<std::vector<SeriesProfile>> SplitBySeries(Profile p,
                                                         const model::Labels& series_labels) {
  // Without sample labels (most profiles) there is nothing to rename, keep on the samples or
  // group by, and the string table need not be searched for the label names.
  const bool has_labels = !p.labels.empty();
  // profile_id is what some SDKs call the span id.
  const int64_t profile_id_key = has_labels ? FindString(p, kProfileIdLabel) : -1;
  if (profile_id_key > 0) {
    int64_t span_key = FindString(p, kSpanIdLabel);
    if (span_key < 0) span_key = p.AddString(kSpanIdLabel);
    for (Label& l : p.labels) {
      if (l.key == profile_id_key) l.key = span_key;
    }
  }
  const int64_t span_key = has_labels ? FindString(p, kSpanIdLabel) : -1;
  const int64_t trace_key = has_labels ? FindString(p, kTraceIdLabel) : -1;
  auto is_sample_only = [&](int64_t key) {
    return (span_key > 0 && key == span_key) || (trace_key > 0 && key == trace_key);
  };

  // 1. Group samples by their series-making labels: string labels other than span/trace ids.
  absl::flat_hash_map<std::vector<std::pair<int64_t, int64_t>>, uint32_t, PairHash> group_of;
  std::vector<std::vector<std::pair<int64_t, int64_t>>> group_keys;
  std::vector<std::vector<uint32_t>> group_samples;
  std::vector<std::pair<int64_t, int64_t>> key;
  if (!has_labels && !p.samples.empty()) {  // one group: every sample, no labels
    group_keys.emplace_back();
    group_samples.emplace_back(p.samples.size());
    for (uint32_t i = 0; i < p.samples.size(); ++i) group_samples[0][i] = i;
  }
  for (uint32_t i = 0; has_labels && i < p.samples.size(); ++i) {
    key.clear();
    for (const Label& l : p.SampleLabels(p.samples[i])) {
      if (l.str != 0 && !is_sample_only(l.key)) key.emplace_back(l.key, l.str);
    }
    std::sort(key.begin(), key.end());
    auto [it, inserted] = group_of.try_emplace(key, static_cast<uint32_t>(group_keys.size()));
    if (inserted) {
      group_keys.push_back(key);
      group_samples.emplace_back();
    }
    group_samples[it->second].push_back(i);
  }

  // 2. Series labels of each group; groups with equal label sets become one series.
  model::Labels base = series_labels;
  if (base.Get(model::kLabelServiceName).empty()) {
    base.Set(model::kLabelServiceName, model::kServiceNameFallback);
  }
  std::vector<SeriesGroup> series;
  absl::flat_hash_map<uint64_t, std::vector<uint32_t>> series_by_fp;
  for (size_t g = 0; g < group_keys.size(); ++g) {
    model::Labels ls = base;
    for (const auto& [k, v] : group_keys[g]) {
      std::string_view name = p.String(k);
      if (ls.Has(name)) continue;  // series labels win over sample labels
      ls.Set(name, p.String(v));   // an empty value is ignored by Set
    }
    uint64_t fp = ls.Fingerprint();
    uint32_t target = UINT32_MAX;
    for (uint32_t s : series_by_fp[fp]) {
      if (series[s].labels == ls) target = s;
    }
    if (target == UINT32_MAX) {
      target = static_cast<uint32_t>(series.size());
      series_by_fp[fp].push_back(target);
      series.push_back(SeriesGroup{std::move(ls), {}});
    }
    auto& dst = series[target].samples;
    dst.insert(dst.end(), group_samples[g].begin(), group_samples[g].end());
  }

  // 3. One SeriesProfile per (series, sample type).
  auto symbols = std::make_shared<Profile>(std::move(p));
  const Profile& src = *symbols;
  std::vector<SeriesProfile> out;
  for (SeriesGroup& sg : series) {
    model::Labels ls = std::move(sg.labels);
    ls.Delete(model::kLabelDelta);
    ls.Delete(model::kLabelOrder);
    ls.Set(model::kLabelServiceNamePrivate, ls.Get(model::kLabelServiceName));
    std::string_view period_type, period_unit;
    if (src.has_period_type) {
      period_type = src.String(src.period_type.type);
      period_unit = src.String(src.period_type.unit);
      ls.Set(model::kLabelPeriodType, period_type);
      ls.Set(model::kLabelPeriodUnit, period_unit);
    }
    const std::string name(ls.Get(model::kLabelProfileName));

    // Samples of this series that share stack and span/trace labels are summed: with several
    // groups merged into one series they can repeat. canonical[j] is the first sample of the
    // series with sample j's key. Keys are found by a 64-bit hash, each hash heading a chain of
    // the first samples of distinct keys (next_same_hash) so that a collision is no match.
    std::vector<uint32_t> canonical(sg.samples.size());
    for (size_t j = 0; j < sg.samples.size(); ++j) canonical[j] = static_cast<uint32_t>(j);
    if (sg.samples.size() > 1) {
      auto key_hash = [&](const Sample& s) {
        uint64_t h = XXH3_64bits(src.location_ids.data() + s.location_begin,
                                 s.location_count * sizeof(uint64_t));
        for (const Label& l : src.SampleLabels(s)) {
          if (!is_sample_only(l.key)) continue;
          const int64_t pair[2] = {l.key, l.str};
          h = XXH3_64bits_withSeed(pair, sizeof(pair), h);
        }
        return h;
      };
      auto same_key = [&](const Sample& a, const Sample& b) {
        const auto la = src.SampleLocations(a), lb = src.SampleLocations(b);
        if (!std::equal(la.begin(), la.end(), lb.begin(), lb.end())) return false;
        auto next_label = [&](std::span<const Label> ls, size_t i) {
          while (i < ls.size() && !is_sample_only(ls[i].key)) ++i;
          return i;
        };
        const auto xa = src.SampleLabels(a), xb = src.SampleLabels(b);
        size_t i = next_label(xa, 0), k = next_label(xb, 0);
        for (; i < xa.size() && k < xb.size();
             i = next_label(xa, i + 1), k = next_label(xb, k + 1)) {
          if (xa[i].key != xb[k].key || xa[i].str != xb[k].str) return false;
        }
        return i == xa.size() && k == xb.size();
      };
      absl::flat_hash_map<uint64_t, uint32_t> first_by_hash;
      first_by_hash.reserve(sg.samples.size());
      std::vector<uint32_t> next_same_hash(sg.samples.size(), UINT32_MAX);
      for (uint32_t j = 0; j < sg.samples.size(); ++j) {
        const Sample& s = src.samples[sg.samples[j]];
        auto [it, inserted] = first_by_hash.try_emplace(key_hash(s), j);
        if (inserted) continue;
        for (uint32_t k = it->second;; k = next_same_hash[k]) {
          if (same_key(src.samples[sg.samples[k]], s)) {
            canonical[j] = k;
            break;
          }
          if (next_same_hash[k] == UINT32_MAX) {
            next_same_hash[k] = j;
            break;
          }
        }
      }
    }

    // The span and trace id of each sample, parsed once for all sample types; left empty when
    // no sample of the group has one (most profiles), so that rows store no id columns.
    std::vector<uint64_t> spans;
    std::vector<model::TraceId> traces;
    if (span_key > 0 || trace_key > 0) {
      bool any_span = false, any_trace = false;
      spans.assign(sg.samples.size(), 0);
      traces.assign(sg.samples.size(), {});
      for (size_t j = 0; j < sg.samples.size(); ++j) {
        for (const Label& l : src.SampleLabels(src.samples[sg.samples[j]])) {
          if (l.key == span_key) {
            spans[j] = ParseSpanId(src.String(l.str));
            any_span |= spans[j] != 0;
          } else if (l.key == trace_key) {
            traces[j] = model::ParseTraceId(src.String(l.str)).value_or(model::TraceId{});
            any_trace |= !traces[j].empty();
          }
        }
      }
      if (!any_span) spans.clear();
      if (!any_trace) traces.clear();
    }

    std::vector<int64_t> sums;
    for (size_t t = 0; t < src.sample_types.size(); ++t) {
      sums.assign(sg.samples.size(), 0);
      size_t kept = 0, kept_locations = 0;
      for (size_t j = 0; j < sg.samples.size(); ++j) {
        const Sample& s = src.samples[sg.samples[j]];
        sums[canonical[j]] += src.values[s.value_begin + t];
      }
      for (size_t j = 0; j < sg.samples.size(); ++j) {
        if (canonical[j] != j || sums[j] <= 0) continue;
        ++kept;
        kept_locations += src.samples[sg.samples[j]].location_count;
      }
      if (kept == 0) continue;
      SeriesProfile sp;
      Profile& o = sp.samples;
      o.sample_types = {src.sample_types[t]};
      o.drop_frames = src.drop_frames;
      o.keep_frames = src.keep_frames;
      o.time_nanos = src.time_nanos;
      o.duration_nanos = src.duration_nanos;
      o.period_type = src.period_type;
      o.has_period_type = src.has_period_type;
      o.period = src.period;
      o.comments = src.comments;
      o.default_sample_type = src.default_sample_type;
      o.doc_url = src.doc_url;
      o.samples.reserve(kept);
      o.location_ids.reserve(kept_locations);
      o.values.reserve(kept);
      if (!spans.empty()) sp.span_ids.reserve(kept);
      if (!traces.empty()) sp.trace_ids.reserve(kept);
      for (size_t j = 0; j < sg.samples.size(); ++j) {
        if (canonical[j] != j || sums[j] <= 0) continue;
        const Sample& s = src.samples[sg.samples[j]];
        Sample ns;
        ns.location_begin = static_cast<uint32_t>(o.location_ids.size());
        ns.location_count = s.location_count;
        auto locs = src.SampleLocations(s);
        o.location_ids.insert(o.location_ids.end(), locs.begin(), locs.end());
        ns.value_begin = static_cast<uint32_t>(o.values.size());
        ns.value_count = 1;
        o.values.push_back(sums[j]);
        ns.label_begin = static_cast<uint32_t>(o.labels.size());
        for (const Label& l : src.SampleLabels(s)) {
          if (is_sample_only(l.key)) o.labels.push_back(l);
        }
        ns.label_count = static_cast<uint32_t>(o.labels.size() - ns.label_begin);
        o.samples.push_back(ns);
        if (!spans.empty()) sp.span_ids.push_back(spans[j]);
        if (!traces.empty()) sp.trace_ids.push_back(traces[j]);
      }

      sp.type = model::ProfileType{name, std::string(src.String(src.sample_types[t].type)),
                                   std::string(src.String(src.sample_types[t].unit)),
                                   std::string(period_type), std::string(period_unit)};
      sp.labels = ls;
      sp.labels.Set(model::kLabelType, sp.type.sample_type);
      sp.labels.Set(model::kLabelUnit, sp.type.sample_unit);
      sp.labels.Set(model::kLabelProfileType, sp.type.ID());
      sp.fingerprint = sp.labels.Fingerprint();
      sp.symbols = symbols;
      out.push_back(std::move(sp));
    }
  }
  // Every series has its own samples now; `symbols` keeps only the symbol tables alive, and the
  // sample arrays go back to this thread's decoder.
  RecycleSampleArrays(*symbols);
  return out;
}

}  // namespace embers::pprof
