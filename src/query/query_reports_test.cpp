// Unit tests of the report renderers and helpers added for the full query API: the query plan,
// tree bytes, the diff flame graph, merged pprof profiles (with truncation) and sample filters.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "block/symbols.h"
#include "block/symbols_merger.h"
#include "query/dot_graph.h"
#include "query/flame_graph.h"
#include "query/merged_profile.h"
#include "query/query_plan.h"
#include "query/report_codec.h"
#include "query/stack_filter.h"
#include "query/tree_format.h"

namespace embers::query {
namespace {

FunctionTree SampleTree() {
  FunctionTree t;
  t.InsertStack(std::vector<std::string_view>{"main", "a", "b"}, 5);
  t.InsertStack(std::vector<std::string_view>{"main", "a"}, 2);
  t.InsertStack(std::vector<std::string_view>{"main", "c"}, 3);
  t.InsertStack(std::vector<std::string_view>{"main", "c", "c"}, 1);  // recursion
  return t;
}

// "root;...;leaf" → self, for comparing trees regardless of node numbering.
std::map<std::string, int64_t> Paths(const FunctionTree& t) {
  std::vector<std::string> path(t.size());
  std::map<std::string, int64_t> out;
  for (uint32_t n = 1; n < t.size(); ++n) {
    const uint32_t p = t.parent(n);
    path[n] = (p == FunctionTree::kRoot ? "" : path[p] + ";") + std::string(t.name(n));
    if (t.self(n) != 0) out[path[n]] += t.self(n);
  }
  return out;
}

TEST(QueryPlan, BoundsReadsAndMergeFanIn) {
  for (size_t blocks : {1, 3, 4, 5, 80, 81, 1000}) {
    QueryPlan plan = QueryPlan::Build(blocks, 4, 20);
    std::set<uint32_t> seen;
    for (size_t n = 0; n < plan.nodes.size(); ++n) {
      const QueryPlan::Node& node = plan.nodes[n];
      if (node.read) {
        EXPECT_LE(node.children.size(), 4u);
        seen.insert(node.children.begin(), node.children.end());
      } else {
        EXPECT_LE(node.children.size(), 20u);
        for (uint32_t c : node.children) EXPECT_EQ(plan.nodes[c].parent, static_cast<int32_t>(n));
      }
      EXPECT_EQ(node.parent < 0, n == plan.root()) << blocks << " node " << n;
    }
    EXPECT_EQ(seen.size(), blocks) << "every block read exactly once";
  }
}

TEST(TreeFormat, RoundTripsAndKeepsTotalsWhenTruncated) {
  const FunctionTree t = SampleTree();
  absl::StatusOr<FunctionTree> back = UnmarshalTree(MarshalTree(t, 0));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(Paths(*back), Paths(t));

  absl::StatusOr<FunctionTree> cut = UnmarshalTree(MarshalTree(t, 2));
  ASSERT_TRUE(cut.ok()) << cut.status();
  EXPECT_EQ(cut->Total(), t.Total());
  std::map<std::string, int64_t> paths = Paths(*cut);
  // Totals: main 11, a 7, b 5, c 4; the 2 largest stay, b and c fold into "other" nodes.
  EXPECT_EQ(paths["main;a"], 2);
  EXPECT_EQ(paths.count("main;a;b"), 0u);
  EXPECT_EQ(paths["main;a;other"], 5);
  EXPECT_EQ(paths["main;other"], 4);
}

TEST(TreeFormat, RejectsTruncatedInput) {
  const std::string bytes = MarshalTree(SampleTree(), 0);
  for (size_t cut : {size_t{1}, bytes.size() / 2, bytes.size() - 1}) {
    EXPECT_FALSE(UnmarshalTree(std::string_view(bytes).substr(0, cut)).ok()) << cut;
  }
}

TEST(FlameGraphDiff, AlignsBothTreesOnOneShape) {
  FunctionTree left, right;
  left.InsertStack(std::vector<std::string_view>{"main", "a"}, 4);
  right.InsertStack(std::vector<std::string_view>{"main", "b"}, 6);
  right.InsertStack(std::vector<std::string_view>{"main", "a"}, 1);
  const querier::v1::FlameGraphDiff fg = BuildFlameGraphDiff(left, right, 0);
  EXPECT_EQ(fg.leftticks(), 4);
  EXPECT_EQ(fg.rightticks(), 7);
  EXPECT_EQ(fg.total(), 11);
  ASSERT_EQ(fg.levels_size(), 3);
  EXPECT_EQ(std::vector<int64_t>(fg.levels(0).values().begin(), fg.levels(0).values().end()),
            (std::vector<int64_t>{0, 4, 0, 0, 7, 0, 0}));
  // Level 2: a (left 4, right 1), then b (left 0, right 6), offsets delta-encoded per side.
  std::vector<int64_t> l2(fg.levels(2).values().begin(), fg.levels(2).values().end());
  ASSERT_EQ(l2.size(), 14u);
  EXPECT_EQ(fg.names(l2[6]), "a");
  EXPECT_EQ((std::vector<int64_t>(l2.begin(), l2.begin() + 6)),
            (std::vector<int64_t>{0, 4, 4, 0, 1, 1}));
  EXPECT_EQ(fg.names(l2[13]), "b");
  EXPECT_EQ((std::vector<int64_t>(l2.begin() + 7, l2.begin() + 13)),
            (std::vector<int64_t>{0, 0, 0, 0, 6, 6}));
}

TEST(DotGraph, CountsRecursionOnceAndNamesTopFunctions) {
  const std::string dot = RenderDot(
      SampleTree(), model::ProfileType{.sample_type = "cpu", .sample_unit = "nanoseconds"}, 0);
  EXPECT_NE(dot.find("digraph"), std::string::npos);
  // c: flat 1 + 3 = 4, cum 4 (the recursive c counts once).
  EXPECT_NE(dot.find("c\\n4 nanoseconds (36.36%)\\nof 4 nanoseconds"), std::string::npos) << dot;
  EXPECT_NE(dot.find("main\\n0 nanoseconds (0.00%)\\nof 11 nanoseconds"), std::string::npos) << dot;
}

// Symbols with two stacks main→a and main→b; returns the leaf nodes.
std::pair<uint32_t, uint32_t> BuildSymbols(block::SymbolsBuilder& b, std::string_view prefix) {
  auto loc = [&](std::string_view name) {
    const uint32_t f = b.InternFunction(
        {.name = b.InternString(std::string(prefix) + std::string(name)), .filename = 0});
    block::SymbolLine line{.function = f, .line = 1};
    return b.InternLocation(-1, 0x1000 + name[0], std::span<const block::SymbolLine>(&line, 1));
  };
  const uint32_t main = loc("main"), a = loc("a"), bb = loc("b");
  const uint32_t stack_a[] = {main, a};
  const uint32_t stack_b[] = {main, bb};
  return {b.AddStack(stack_a), b.AddStack(stack_b)};
}

TEST(MergedProfile, MergesDatasetsAndRendersPprofWithTotals) {
  block::SymbolsBuilder d1, d2;
  auto [a1, b1] = BuildSymbols(d1, "");
  auto [a2, b2] = BuildSymbols(d2, "");
  const block::Symbols s1 = d1.View(), s2 = d2.View();
  MergedProfile p, q;
  block::SymbolsMerger m1(s1, p.symbols());
  p.Add(m1, a1, 10);
  p.Add(m1, b1, 1);
  block::SymbolsMerger m2(s2, q.symbols());
  q.Add(m2, a2, 5);
  p.Merge(q);
  EXPECT_EQ(p.Total(), 16);
  EXPECT_EQ(p.symbols()->location_count(), 3u) << "identical symbols are shared";

  const model::ProfileType type{.name = "process_cpu",
                                .sample_type = "cpu",
                                .sample_unit = "nanoseconds",
                                .period_type = "cpu",
                                .period_unit = "nanoseconds"};
  google::v1::Profile out = p.ToPprof(type, 1000, 2000, 0);
  ASSERT_EQ(out.sample_size(), 2);
  int64_t total = 0;
  for (const auto& s : out.sample()) {
    ASSERT_EQ(s.location_id_size(), 2);  // leaf first, then main
    total += s.value(0);
  }
  EXPECT_EQ(total, 16);
  EXPECT_EQ(out.string_table(out.sample_type(0).type()), "cpu");
  EXPECT_EQ(out.time_nanos(), 1000 * 1'000'000);

  // With one node allowed, both leaves are cut below main into one "other" frame.
  google::v1::Profile cut = p.ToPprof(type, 1000, 2000, 1);
  ASSERT_EQ(cut.sample_size(), 1);
  EXPECT_EQ(cut.sample(0).value(0), 16);
  const uint64_t leaf = cut.sample(0).location_id(0);
  const auto& fn = cut.function(
      static_cast<int>(cut.location(static_cast<int>(leaf - 1)).line(0).function_id() - 1));
  EXPECT_EQ(cut.string_table(fn.name()), "other");
}

TEST(SampleFilter, CallSiteMatchesStackPrefixes) {
  block::SymbolsBuilder b;
  auto [a, bb] = BuildSymbols(b, "");
  const block::Symbols s = b.View();
  SampleFilter f{.call_site = {"main", "a"}};
  std::vector<bool> m = f.MatchStacks(s);
  EXPECT_TRUE(m[a]);
  EXPECT_FALSE(m[bb]);
  EXPECT_FALSE(m[s.node_parent[a]]) << "main alone is shorter than the call site";
  f.call_site = {"main"};
  m = f.MatchStacks(s);
  EXPECT_TRUE(m[a] && m[bb]);
}

TEST(SampleFilter, SpanSelectorParsesHexIds) {
  absl::StatusOr<std::vector<uint64_t>> ids =
      ParseSpanSelector({"00000000000000ff", "0000000000000001", "00000000000000ff"});
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<uint64_t>{1, 255}));
  EXPECT_FALSE(ParseSpanSelector({"239"}).ok());
  EXPECT_FALSE(ParseSpanSelector({"zz00000000000000"}).ok());
}

TEST(ReportCodec, RoundTripsEveryReportPart) {
  QueryReport r;
  r.tree = SampleTree();
  block::SymbolsBuilder d;
  auto [a, b] = BuildSymbols(d, "x.");
  const block::Symbols view = d.View();
  block::SymbolsMerger merger(view, r.profile.symbols());
  r.profile.Add(merger, a, 3);
  r.profile.Add(merger, b, 4);
  GroupLabels env, service;
  env.emplace_back("env", "prod");
  service.emplace_back("service_name", "api");
  r.time_series.series[env][1000] = SeriesPoint{.sum = 5, .count = 2};
  SeriesPoint& with_exemplar = r.time_series.series[env][2000];
  with_exemplar.sum = 3;
  with_exemplar.exemplar = {.profile_id = {7, 8}, .timestamp_ms = 1999, .value = 3};
  with_exemplar.exemplar.labels.emplace_back("pod", "a");
  r.label_sets.insert(service);
  r.objects = 2;
  r.rows = 7;
  r.samples = 9;
  r.section_bytes = {1, 2, 3};
  r.series_fingerprints = {42, 43};

  querybackend::v1::InvokeResponse wire;
  EncodeReport(r, &wire);
  absl::StatusOr<QueryReport> back = DecodeReport(wire);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(Paths(back->tree), Paths(r.tree));
  EXPECT_EQ(back->profile.Total(), 7);
  const model::ProfileType type{.sample_type = "cpu", .sample_unit = "nanoseconds"};
  EXPECT_EQ(back->profile.ToPprof(type, 0, 1, 0).DebugString(),
            r.profile.ToPprof(type, 0, 1, 0).DebugString());
  EXPECT_EQ(back->time_series.series.at(env).at(1000).count, 2);
  EXPECT_TRUE(back->time_series.series.at(env).at(1000).exemplar.profile_id.empty());
  const SeriesExemplar& ex = back->time_series.series.at(env).at(2000).exemplar;
  EXPECT_EQ(ex.profile_id, (model::ProfileId{7, 8}));
  EXPECT_EQ(ex.timestamp_ms, 1999);
  EXPECT_EQ(ex.value, 3);
  EXPECT_EQ(ex.labels, with_exemplar.exemplar.labels);
  EXPECT_EQ(back->label_sets, r.label_sets);
  EXPECT_EQ(back->rows, 7);
  EXPECT_EQ(back->section_bytes, r.section_bytes);
  EXPECT_EQ(back->series_fingerprints, r.series_fingerprints);

  // Heatmap values, with their shared label sets sent once.
  QueryReport h;
  auto pod = std::make_shared<const GroupLabels>(GroupLabels{{"pod", "a"}});
  h.time_series.heatmap[env] = {
      {.timestamp_ms = 1, .value = 2, .profile_id = {3, 4}, .span_id = 5, .labels = pod},
      {.timestamp_ms = 6, .value = 7, .labels = pod},
      {.timestamp_ms = 8, .value = 9}};
  querybackend::v1::InvokeResponse hwire;
  EncodeReport(h, &hwire);
  ASSERT_EQ(hwire.heatmap_size(), 1);
  EXPECT_EQ(hwire.heatmap(0).label_sets_size(), 1);
  absl::StatusOr<QueryReport> hback = DecodeReport(hwire);
  ASSERT_TRUE(hback.ok()) << hback.status();
  const std::vector<HeatmapPoint>& points = hback->time_series.heatmap.at(env);
  ASSERT_EQ(points.size(), 3u);
  EXPECT_EQ(points[0].profile_id, (model::ProfileId{3, 4}));
  EXPECT_EQ(points[0].span_id, 5u);
  EXPECT_EQ(*points[0].labels, *pod);
  EXPECT_EQ(points[0].labels, points[1].labels);  // still shared
  EXPECT_EQ(points[2].labels, nullptr);
  EXPECT_EQ(points[2].value, 9);
  hwire.mutable_heatmap(0)->add_value(1);  // columns of different lengths
  EXPECT_EQ(DecodeReport(hwire).status().code(), absl::StatusCode::kDataLoss);

  wire.set_tree_parent(0, 99);  // a node whose parent comes after it
  EXPECT_EQ(DecodeReport(wire).status().code(), absl::StatusCode::kDataLoss);
}

// Merging keeps the larger profile as a point's exemplar, the smaller id on a tie, whatever the
// order the reports arrive in.
TEST(TimeSeriesReport, MergeKeepsTheLargestExemplarInAnyOrder) {
  GroupLabels g;
  auto report = [&](uint64_t id, int64_t value) {
    TimeSeriesReport r;
    SeriesPoint& p = r.series[g][1000];
    p.sum = static_cast<double>(value);
    p.count = 1;
    if (id != 0) p.exemplar = {.profile_id = {0, id}, .timestamp_ms = 999, .value = value};
    return r;
  };
  for (const auto& order : std::vector<std::vector<std::pair<uint64_t, int64_t>>>{
           {{1, 5}, {2, 9}, {3, 9}, {0, 50}}, {{0, 50}, {3, 9}, {2, 9}, {1, 5}}}) {
    TimeSeriesReport merged;
    for (auto [id, value] : order) merged.Merge(report(id, value));
    const SeriesPoint& p = merged.series.at(g).at(1000);
    EXPECT_EQ(p.sum, 73);  // a profile without an id counts, but is no exemplar
    EXPECT_EQ(p.count, 4);
    EXPECT_EQ(p.exemplar.profile_id, (model::ProfileId{0, 2}));
    EXPECT_EQ(p.exemplar.value, 9);
  }
}

TEST(ReportCodec, ReadQueryRoundTripsAndRejectsBadInput) {
  ReadQuery q;
  q.tenant = "t";
  q.start_ms = 1;
  q.end_ms = 2;
  q.selector = *model::Selector::Parse("{service_name=\"a\"}");
  q.kind = ReportKind::kTimeSeries;
  q.step_ms = 10;
  q.filter.call_site = {"main"};
  q.group_by = {"env"};
  q.exemplars = true;
  q.heatmap = ReadQuery::Heatmap::kSpans;
  querybackend::v1::InvokeRequest wire;
  EncodeReadQuery(q, &wire);
  absl::StatusOr<ReadQuery> back = DecodeReadQuery(wire);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->selector.ToString(), q.selector.ToString());
  EXPECT_EQ(back->kind, ReportKind::kTimeSeries);
  EXPECT_EQ(back->filter.call_site, q.filter.call_site);
  EXPECT_TRUE(back->exemplars);
  EXPECT_EQ(back->heatmap, ReadQuery::Heatmap::kSpans);
  wire.set_heatmap(3);
  EXPECT_EQ(DecodeReadQuery(wire).status().code(), absl::StatusCode::kInvalidArgument);
  wire.set_heatmap(0);
  wire.set_selector("{a=");
  EXPECT_EQ(DecodeReadQuery(wire).status().code(), absl::StatusCode::kInvalidArgument);
  wire.set_selector("{}");
  wire.set_step_ms(0);
  EXPECT_EQ(DecodeReadQuery(wire).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace embers::query
