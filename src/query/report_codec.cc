#include "query/report_codec.h"

#include <algorithm>
#include <map>
#include <memory>
#include <string>

#include "base/status.h"
#include "base/strings.h"
#include "block/symbols_merger.h"

namespace embers::query {
namespace qb = querybackend::v1;

void EncodeReadQuery(const ReadQuery& query, qb::InvokeRequest* out) {
  out->set_tenant(query.tenant);
  out->set_start_ms(query.start_ms);
  out->set_end_ms(query.end_ms);
  out->set_selector(query.selector.ToString());
  for (const model::Selector& s : query.any_of) out->add_any_of(s.ToString());
  out->set_kind(static_cast<qb::ReportKind>(query.kind));
  for (const std::string& c : query.filter.call_site) out->add_call_site(c);
  for (uint64_t id : query.filter.span_ids) out->add_span_ids(id);
  out->set_by_span(query.filter.by_span);
  for (const model::TraceId& id : query.filter.trace_ids) {
    out->add_trace_id_hi(id.hi);
    out->add_trace_id_lo(id.lo);
  }
  out->set_by_trace(query.filter.by_trace);
  for (const model::ProfileId& id : query.filter.profile_ids) {
    out->add_profile_id_hi(id.hi);
    out->add_profile_id_lo(id.lo);
  }
  out->set_step_ms(query.step_ms);
  for (const std::string& g : query.group_by) out->add_group_by(g);
  for (const std::string& n : query.label_names) out->add_label_names(n);
  out->set_count_series(query.count_series);
  out->set_exemplars(query.exemplars);
  out->set_heatmap(static_cast<int32_t>(query.heatmap));
  out->set_max_memory_bytes(query.max_memory_bytes);
}

absl::StatusOr<ReadQuery> DecodeReadQuery(const qb::InvokeRequest& in) {
  ReadQuery q;
  if (in.tenant().empty()) return absl::InvalidArgumentError("tenant is required");
  q.tenant = in.tenant();
  q.start_ms = in.start_ms();
  q.end_ms = in.end_ms();
  absl::StatusOr<model::Selector> selector = model::Selector::Parse(in.selector());
  if (!selector.ok()) return Annotate(selector.status(), "selector");
  q.selector = std::move(*selector);
  for (const std::string& s : in.any_of()) {
    absl::StatusOr<model::Selector> one = model::Selector::Parse(s);
    if (!one.ok()) return Annotate(one.status(), "any_of");
    q.any_of.push_back(std::move(*one));
  }
  switch (in.kind()) {
    case qb::REPORT_KIND_TREE:
    case qb::REPORT_KIND_PPROF:
    case qb::REPORT_KIND_TIME_SERIES:
    case qb::REPORT_KIND_LABEL_SETS:
      q.kind = static_cast<ReportKind>(in.kind());
      break;
    default:
      return absl::InvalidArgumentError(
          StrCat("unknown report kind ", static_cast<int>(in.kind())));
  }
  if (q.kind == ReportKind::kTimeSeries && in.step_ms() <= 0) {
    return absl::InvalidArgumentError("step_ms must be positive for a time-series report");
  }
  q.filter.call_site.assign(in.call_site().begin(), in.call_site().end());
  q.filter.span_ids.assign(in.span_ids().begin(), in.span_ids().end());
  std::sort(q.filter.span_ids.begin(), q.filter.span_ids.end());
  q.filter.by_span = in.by_span();
  if (in.trace_id_hi_size() != in.trace_id_lo_size()) {
    return absl::InvalidArgumentError("trace id halves of different counts");
  }
  for (int i = 0; i < in.trace_id_hi_size(); ++i) {
    q.filter.trace_ids.push_back({in.trace_id_hi(i), in.trace_id_lo(i)});
  }
  std::sort(q.filter.trace_ids.begin(), q.filter.trace_ids.end());
  q.filter.by_trace = in.by_trace();
  if (in.profile_id_hi_size() != in.profile_id_lo_size()) {
    return absl::InvalidArgumentError("profile id halves of different counts");
  }
  for (int i = 0; i < in.profile_id_hi_size(); ++i) {
    q.filter.profile_ids.push_back({in.profile_id_hi(i), in.profile_id_lo(i)});
  }
  std::sort(q.filter.profile_ids.begin(), q.filter.profile_ids.end());
  q.step_ms = in.step_ms();
  q.group_by.assign(in.group_by().begin(), in.group_by().end());
  q.label_names.assign(in.label_names().begin(), in.label_names().end());
  q.count_series = in.count_series();
  q.exemplars = in.exemplars();
  if (in.heatmap() < 0 || in.heatmap() > static_cast<int32_t>(ReadQuery::Heatmap::kSpans)) {
    return absl::InvalidArgumentError(StrCat("unknown heatmap kind ", in.heatmap()));
  }
  q.heatmap = static_cast<ReadQuery::Heatmap>(in.heatmap());
  q.max_memory_bytes = in.max_memory_bytes();
  return q;
}

namespace {

void EncodeLabels(const GroupLabels& labels,
                  google::protobuf::RepeatedPtrField<qb::LabelPair>* out) {
  for (const auto& [name, value] : labels) {
    qb::LabelPair* p = out->Add();
    p->set_name(name);
    p->set_value(value);
  }
}

GroupLabels DecodeLabels(const google::protobuf::RepeatedPtrField<qb::LabelPair>& in) {
  GroupLabels out;
  for (const qb::LabelPair& p : in) out.emplace_back(p.name(), p.value());
  return out;
}

}  // namespace

void EncodeReport(const QueryReport& r, qb::InvokeResponse* out) {
  const FunctionTree& t = r.tree;
  for (uint32_t i = 0; i < t.name_count(); ++i) out->add_tree_names(std::string(t.NameOf(i)));
  out->mutable_tree_self()->Reserve(static_cast<int>(t.size()));
  out->add_tree_self(t.self(FunctionTree::kRoot));
  for (uint32_t n = 1; n < t.size(); ++n) {
    out->add_tree_parent(t.parent(n));
    out->add_tree_name(t.name_id(n));
    out->add_tree_self(t.self(n));
  }
  if (!r.profile.empty()) {
    out->set_profile_symbols(r.profile.symbols_builder().Encode());
    const std::vector<int64_t>& values = r.profile.values();
    for (uint32_t n = 0; n < values.size(); ++n) {
      if (values[n] == 0) continue;
      out->add_profile_nodes(n);
      out->add_profile_values(values[n]);
    }
  }
  for (const auto& [labels, points] : r.time_series.series) {
    qb::TimeSeries* s = out->add_time_series();
    EncodeLabels(labels, s->mutable_labels());
    for (const auto& [t_ms, p] : points) {
      qb::SeriesPoint* sp = s->add_points();
      sp->set_timestamp_ms(t_ms);
      sp->set_sum(p.sum);
      sp->set_count(p.count);
      if (!p.exemplar.profile_id.empty()) {
        sp->set_exemplar_id_hi(p.exemplar.profile_id.hi);
        sp->set_exemplar_id_lo(p.exemplar.profile_id.lo);
        sp->set_exemplar_timestamp_ms(p.exemplar.timestamp_ms);
        sp->set_exemplar_value(p.exemplar.value);
        EncodeLabels(p.exemplar.labels, sp->mutable_exemplar_labels());
      }
    }
  }
  for (const auto& [labels, points] : r.time_series.heatmap) {
    qb::HeatmapSeries* h = out->add_heatmap();
    EncodeLabels(labels, h->mutable_labels());
    std::map<const GroupLabels*, int32_t> label_set;  // shared label sets, sent once
    const bool traces = std::any_of(points.begin(), points.end(),
                                    [](const HeatmapPoint& p) { return !p.trace_id.empty(); });
    for (const HeatmapPoint& p : points) {
      if (traces) {
        h->add_trace_id_hi(p.trace_id.hi);
        h->add_trace_id_lo(p.trace_id.lo);
      }
      h->add_timestamp_ms(p.timestamp_ms);
      h->add_value(p.value);
      h->add_profile_id_hi(p.profile_id.hi);
      h->add_profile_id_lo(p.profile_id.lo);
      h->add_span_id(p.span_id);
      if (p.labels == nullptr) {
        h->add_label_set(-1);
        continue;
      }
      auto [it, added] = label_set.emplace(p.labels.get(), h->label_sets_size());
      if (added) EncodeLabels(*p.labels, h->add_label_sets()->mutable_labels());
      h->add_label_set(it->second);
    }
  }
  for (const GroupLabels& set : r.label_sets)
    EncodeLabels(set, out->add_label_sets()->mutable_labels());
  out->set_objects(r.objects);
  out->set_datasets(r.datasets);
  out->set_rows(r.rows);
  out->set_samples(r.samples);
  for (int64_t b : r.section_bytes) out->add_section_bytes(b);
  for (uint64_t fp : r.series_fingerprints) out->add_series_fingerprints(fp);
}

absl::StatusOr<QueryReport> DecodeReport(const qb::InvokeResponse& in) {
  QueryReport r;
  // Tree: nodes in order, parents first.
  const int nodes = in.tree_parent_size();
  if (in.tree_name_size() != nodes ||
      (in.tree_self_size() != nodes + 1 && in.tree_self_size() != 0)) {
    return absl::DataLossError("report: tree arrays of different lengths");
  }
  std::vector<uint32_t> names(static_cast<size_t>(in.tree_names_size()));
  for (int i = 0; i < in.tree_names_size(); ++i) {
    names[static_cast<size_t>(i)] = r.tree.InternName(in.tree_names(i));
  }
  std::vector<uint32_t> node_of(static_cast<size_t>(nodes) + 1, FunctionTree::kRoot);
  for (int i = 0; i < nodes; ++i) {
    const uint32_t parent = in.tree_parent(i), name = in.tree_name(i);
    if (parent > static_cast<uint32_t>(i) || name >= names.size()) {
      return absl::DataLossError(StrCat("report: tree node ", i + 1, " refers past its table"));
    }
    node_of[static_cast<size_t>(i) + 1] = r.tree.Child(node_of[parent], names[name]);
  }
  for (int i = 0; i < in.tree_self_size(); ++i) {
    if (in.tree_self(i) != 0) r.tree.AddSelf(node_of[static_cast<size_t>(i)], in.tree_self(i));
  }
  // Profile: decode the symbols and merge its stacks into the report's own.
  if (!in.profile_symbols().empty()) {
    absl::StatusOr<block::Symbols> symbols =
        block::Symbols::Decode(std::make_shared<const std::string>(in.profile_symbols()));
    if (!symbols.ok()) return Annotate(symbols.status(), "report: profile symbols");
    if (in.profile_nodes_size() != in.profile_values_size()) {
      return absl::DataLossError("report: profile arrays of different lengths");
    }
    block::SymbolsMerger merger(*symbols, r.profile.symbols());
    for (int i = 0; i < in.profile_nodes_size(); ++i) {
      if (in.profile_nodes(i) >= symbols->node_parent.size()) {
        return absl::DataLossError("report: profile node out of range");
      }
      r.profile.Add(merger, in.profile_nodes(i), in.profile_values(i));
    }
  }
  for (const qb::TimeSeries& s : in.time_series()) {
    auto& points = r.time_series.series[DecodeLabels(s.labels())];
    for (const qb::SeriesPoint& p : s.points()) {
      SeriesPoint in_point{.sum = p.sum(), .count = p.count()};
      in_point.exemplar.profile_id = {p.exemplar_id_hi(), p.exemplar_id_lo()};
      if (!in_point.exemplar.profile_id.empty()) {
        in_point.exemplar.timestamp_ms = p.exemplar_timestamp_ms();
        in_point.exemplar.value = p.exemplar_value();
        in_point.exemplar.labels = DecodeLabels(p.exemplar_labels());
      }
      points[p.timestamp_ms()].Merge(in_point);
    }
  }
  for (const qb::HeatmapSeries& h : in.heatmap()) {
    const int n = h.timestamp_ms_size();
    if (h.value_size() != n || h.profile_id_hi_size() != n || h.profile_id_lo_size() != n ||
        h.span_id_size() != n || h.label_set_size() != n ||
        h.trace_id_hi_size() != h.trace_id_lo_size() ||
        (h.trace_id_hi_size() != 0 && h.trace_id_hi_size() != n)) {
      return absl::DataLossError("report: heatmap columns of different lengths");
    }
    const bool traces = h.trace_id_hi_size() == n;
    std::vector<std::shared_ptr<const GroupLabels>> sets;
    for (const qb::LabelSet& set : h.label_sets()) {
      sets.push_back(std::make_shared<const GroupLabels>(DecodeLabels(set.labels())));
    }
    std::vector<HeatmapPoint>& points = r.time_series.heatmap[DecodeLabels(h.labels())];
    for (int i = 0; i < n; ++i) {
      const int32_t set = h.label_set(i);
      if (set >= static_cast<int32_t>(sets.size())) {
        return absl::DataLossError("report: heatmap label set out of range");
      }
      points.push_back({.timestamp_ms = h.timestamp_ms(i),
                        .value = h.value(i),
                        .profile_id = {h.profile_id_hi(i), h.profile_id_lo(i)},
                        .span_id = h.span_id(i),
                        .trace_id = traces ? model::TraceId{h.trace_id_hi(i), h.trace_id_lo(i)}
                                           : model::TraceId{},
                        .labels = set < 0 ? nullptr : sets[static_cast<size_t>(set)]});
    }
  }
  for (const qb::LabelSet& set : in.label_sets()) r.label_sets.insert(DecodeLabels(set.labels()));
  r.objects = in.objects();
  r.datasets = in.datasets();
  r.rows = in.rows();
  r.samples = in.samples();
  for (int i = 0; i < in.section_bytes_size() && i < static_cast<int>(r.section_bytes.size());
       ++i) {
    r.section_bytes[static_cast<size_t>(i)] = in.section_bytes(i);
  }
  r.series_fingerprints.insert(in.series_fingerprints().begin(), in.series_fingerprints().end());
  return r;
}

}  // namespace embers::query
