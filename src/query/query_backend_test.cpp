// The read path over real objects: profiles written with the block writer into a memory bucket,
// indexed in a BlockIndex, and queried through the QueryFrontend with a QueryBackend.
#include "query/query_backend.h"

#include <gtest/gtest.h>

#include <future>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "block/dataset_builder.h"
#include "block/object_writer.h"
#include "metastore/index/block_index.h"
#include "metastore/index/test_blocks.h"
#include "metastore/index_service.h"
#include "objstore/memory_bucket.h"
#include "query/flame_graph.h"
#include "query/query_frontend.h"

namespace embers::query {
namespace {

constexpr char kCpu[] = "process_cpu:cpu:nanoseconds:cpu:nanoseconds";
constexpr char kAlloc[] = "memory:alloc_space:bytes:space:bytes";

// A profile of stacks given root first, one location per function name.
pprof::Profile MakeProfile(
    const std::vector<std::pair<std::vector<std::string>, int64_t>>& stacks) {
  pprof::Profile p;
  p.AddString("");
  p.sample_types.push_back({p.AddString("cpu"), p.AddString("nanoseconds")});
  std::map<std::string, uint64_t> loc_of;
  for (const auto& [frames, v] : stacks) {
    pprof::Sample s;
    s.location_begin = static_cast<uint32_t>(p.location_ids.size());
    for (auto it = frames.rbegin(); it != frames.rend(); ++it) {  // pprof stacks are leaf first
      auto [pos, added] = loc_of.try_emplace(*it, loc_of.size() + 1);
      if (added) {
        uint64_t id = pos->second;
        p.functions.push_back({.id = id, .name = p.AddString(*it)});
        p.lines.push_back({.function_id = id, .line = 1});
        p.locations.push_back({.id = id,
                               .address = 0x1000 * id,
                               .line_begin = static_cast<uint32_t>(p.lines.size() - 1),
                               .line_count = 1});
      }
      p.location_ids.push_back(pos->second);
    }
    s.location_count = static_cast<uint32_t>(frames.size());
    s.value_begin = static_cast<uint32_t>(p.values.size());
    s.value_count = 1;
    p.values.push_back(v);
    p.samples.push_back(s);
  }
  return p;
}

model::Labels SeriesLabels(std::string type, std::string service, std::string env) {
  std::string name = type.substr(0, type.find(':'));
  return model::Labels({{"__profile_type__", type},
                        {"__name__", name},
                        {"service_name", service},
                        {"__service_name__", service},
                        {"env", std::move(env)}});
}

struct NodeValue {
  int64_t total = 0;
  int64_t self = 0;
  friend bool operator==(const NodeValue&, const NodeValue&) = default;
};

// Per function name (all occurrences summed): total and self, decoded from a flame graph.
std::map<std::string, NodeValue> PerFunction(const querier::v1::FlameGraph& fg) {
  std::map<std::string, NodeValue> out;
  for (int d = 1; d < fg.levels_size(); ++d) {
    const auto& l = fg.levels(d);
    for (int i = 0; i + 3 < l.values_size(); i += 4) {
      NodeValue& v = out[fg.names(static_cast<int>(l.values(i + 3)))];
      v.total += l.values(i + 1);
      v.self += l.values(i + 2);
    }
  }
  return out;
}

class QueryTest : public ::testing::Test {
 protected:
  QueryTest()
      : index_service_(&index_),
        backend_(std::make_shared<QueryBackend>(QueryBackendOptions{.threads = 2}, &bucket_)),
        frontend_({.max_query_lookback = absl::ZeroDuration()}, &index_service_) {
    frontend_.SetBackend(backend_);
  }

  // Writes one level-0 object of the given datasets and registers it in the index.
  void AddObject(std::vector<block::DatasetBuilder*> builders) {
    std::vector<block::EncodedDataset> datasets;
    for (auto* b : builders) datasets.push_back(b->Finish());
    block::BuiltObject obj = block::BuildObject(
        {.id = metastore::testing::TestId(1000, ++seq_), .shard = 1}, std::move(datasets));
    ASSERT_TRUE(bucket_.Put(block::ObjectKey(obj.meta), obj.bytes).ok());
    metastore::v1::AddBlockRequest req;
    *req.mutable_block() = obj.meta;
    metastore::v1::AddBlockResponse resp;
    absl::Status st = absl::UnknownError("not called");
    index_service_.AddBlock({}, req, &resp, [&st](absl::Status s) { st = s; });
    ASSERT_TRUE(st.ok()) << st;
  }

  absl::StatusOr<querier::v1::SelectMergeStacktracesResponse> Merge(std::string type,
                                                                    std::string selector,
                                                                    int64_t start, int64_t end,
                                                                    int64_t max_nodes = 0,
                                                                    std::string tenant = "t1") {
    querier::v1::SelectMergeStacktracesRequest req;
    req.set_profile_typeid(type);
    req.set_label_selector(selector);
    req.set_start(start);
    req.set_end(end);
    if (max_nodes != 0) req.set_max_nodes(max_nodes);
    querier::v1::SelectMergeStacktracesResponse resp;
    std::promise<absl::Status> done;
    frontend_.SelectMergeStacktraces({.tenant = tenant}, req, &resp,
                                     [&done](absl::Status st) { done.set_value(st); });
    absl::Status st = done.get_future().get();
    if (!st.ok()) return st;
    return resp;
  }

  absl::StatusOr<querier::v1::SelectSeriesResponse> Series(std::string type, std::string selector,
                                                           int64_t start, int64_t end, double step,
                                                           std::vector<std::string> group_by = {}) {
    querier::v1::SelectSeriesRequest req;
    req.set_profile_typeid(type);
    req.set_label_selector(selector);
    req.set_start(start);
    req.set_end(end);
    req.set_step(step);
    for (auto& g : group_by) req.add_group_by(g);
    querier::v1::SelectSeriesResponse resp;
    std::promise<absl::Status> done;
    frontend_.SelectSeries({.tenant = "t1"}, req, &resp,
                           [&done](absl::Status st) { done.set_value(st); });
    absl::Status st = done.get_future().get();
    if (!st.ok()) return st;
    return resp;
  }

  absl::StatusOr<querier::v1::SelectHeatmapResponse> Heatmap(
      querier::v1::SelectHeatmapRequest req) {
    req.set_profile_typeid(kCpu);
    querier::v1::SelectHeatmapResponse resp;
    std::promise<absl::Status> done;
    frontend_.SelectHeatmap({.tenant = "t1"}, req, &resp,
                            [&done](absl::Status st) { done.set_value(st); });
    absl::Status st = done.get_future().get();
    if (!st.ok()) return st;
    return resp;
  }

  objstore::MemoryBucket bucket_;
  metastore::BlockIndex index_;
  metastore::LocalIndexService index_service_;
  std::shared_ptr<QueryBackend> backend_;
  QueryFrontend frontend_;
  uint64_t seq_ = 0;
};

TEST_F(QueryTest, FlameGraphTotalsEqualWhatWasWritten) {
  // Two objects, two services, two envs, two profile types, three timestamps.
  block::DatasetBuilder api1("t1", "api"), db1("t1", "db"), other_tenant("t2", "api");
  api1.Append(SeriesLabels(kCpu, "api", "prod"), 10'000, 0,
              MakeProfile({{{"main", "a"}, 10}, {{"main", "b", "c"}, 5}}));
  api1.Append(SeriesLabels(kCpu, "api", "dev"), 11'000, 0, MakeProfile({{{"main", "a"}, 1}}));
  api1.Append(SeriesLabels(kAlloc, "api", "prod"), 11'000, 0, MakeProfile({{{"main", "a"}, 999}}));
  db1.Append(SeriesLabels(kCpu, "db", "prod"), 12'000, 0, MakeProfile({{{"main", "q"}, 7}}));
  other_tenant.Append(SeriesLabels(kCpu, "api", "prod"), 10'000, 0,
                      MakeProfile({{{"main", "secret"}, 1000}}));
  AddObject({&api1, &db1, &other_tenant});
  block::DatasetBuilder api2("t1", "api");
  api2.Append(SeriesLabels(kCpu, "api", "prod"), 20'000, 0,
              MakeProfile({{{"main", "b"}, 3}, {{"main", "a"}, 2}}));
  api2.Append(SeriesLabels(kCpu, "api", "prod"), 90'000, 0, MakeProfile({{{"late"}, 100}}));
  AddObject({&api2});

  auto r = Merge(kCpu, R"({service_name="api"})", 0, 60'000);
  ASSERT_TRUE(r.ok()) << r.status();
  std::map<std::string, NodeValue> f = PerFunction(r->flamegraph());
  EXPECT_EQ(r->flamegraph().total(), 21);
  EXPECT_EQ(f["main"], (NodeValue{21, 0}));
  EXPECT_EQ(f["a"], (NodeValue{13, 13}));
  EXPECT_EQ(f["b"], (NodeValue{8, 3}));
  EXPECT_EQ(f["c"], (NodeValue{5, 5}));
  EXPECT_EQ(f.count("secret"), 0u);  // another tenant's data
  EXPECT_EQ(f.count("late"), 0u);    // outside the range
  EXPECT_EQ(f.count("q"), 0u);       // another service

  // Matchers on labels the index does not know are applied to series.
  r = Merge(kCpu, R"({service_name="api",env="dev"})", 0, 60'000);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->flamegraph().total(), 1);
  r = Merge(kCpu, R"({env=~"pro.*"})", 0, 60'000);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->flamegraph().total(), 27);  // api prod 20 + db 7
  r = Merge(kAlloc, "{}", 0, 60'000);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->flamegraph().total(), 999);
  // The other tenant sees only its own data.
  r = Merge(kCpu, "", 0, 60'000, 0, "t2");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->flamegraph().total(), 1000);
  // Nothing matches: an empty flame graph.
  r = Merge(kCpu, R"({service_name="nope"})", 0, 60'000);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->flamegraph().total(), 0);
}

TEST_F(QueryTest, TruncatedFlameGraphKeepsTotals) {
  block::DatasetBuilder b("t1", "api");
  std::vector<std::pair<std::vector<std::string>, int64_t>> stacks;
  int64_t total = 0;
  for (int i = 0; i < 200; ++i) {
    stacks.push_back({{"main", "f" + std::to_string(i), "g" + std::to_string(i)}, i + 1});
    total += i + 1;
  }
  b.Append(SeriesLabels(kCpu, "api", "prod"), 10'000, 0, MakeProfile(stacks));
  AddObject({&b});
  auto r = Merge(kCpu, "", 0, 60'000, 16);
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& fg = r->flamegraph();
  EXPECT_EQ(fg.total(), total);
  std::map<std::string, NodeValue> f = PerFunction(fg);
  EXPECT_EQ(f["main"].total, total);
  // The largest functions are kept; the rest is one "other" node under main.
  EXPECT_EQ(f["f199"], (NodeValue{200, 0}));
  EXPECT_EQ(f["g199"], (NodeValue{200, 200}));
  EXPECT_EQ(f.count("f0"), 0u);
  int64_t kept = 0;
  for (const auto& [name, v] : f) {
    if (name[0] == 'f') kept += v.total;
  }
  EXPECT_EQ(f["other"].total, total - kept);
  EXPECT_EQ(f["other"].self, total - kept);
  EXPECT_LE(f.size(), 2u + 16);
}

TEST_F(QueryTest, SelectSeriesSumsPerStepAndGroup) {
  block::DatasetBuilder b("t1", "api");
  b.Append(SeriesLabels(kCpu, "api", "prod"), 10'000, 0, MakeProfile({{{"main"}, 1}}));
  b.Append(SeriesLabels(kCpu, "api", "prod"), 14'000, 0, MakeProfile({{{"main"}, 2}}));
  b.Append(SeriesLabels(kCpu, "api", "prod"), 25'000, 0, MakeProfile({{{"main"}, 4}}));
  b.Append(SeriesLabels(kCpu, "api", "dev"), 25'000, 0, MakeProfile({{{"main"}, 8}}));
  AddObject({&b});
  auto r = Series(kCpu, "", 0, 60'000, 15);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->series_size(), 1);
  const auto& s = r->series(0);
  EXPECT_EQ(s.labels_size(), 0);
  // Points at start - step + k*step cover (t - step, t].
  ASSERT_EQ(s.points_size(), 2);
  EXPECT_EQ(s.points(0).timestamp(), 15'000);
  EXPECT_EQ(s.points(0).value(), 3);
  EXPECT_EQ(s.points(1).timestamp(), 30'000);
  EXPECT_EQ(s.points(1).value(), 12);

  r = Series(kCpu, "", 0, 60'000, 60, {"env"});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->series_size(), 2);
  EXPECT_EQ(r->series(0).labels(0).value(), "dev");
  EXPECT_EQ(r->series(0).points(0).value(), 8);
  EXPECT_EQ(r->series(1).labels(0).value(), "prod");
  EXPECT_EQ(r->series(1).points(0).value(), 7);
}

// Per slot, the number of points counted (the sum of its buckets).
std::map<int64_t, int64_t> SlotCounts(const types::v1::HeatmapSeries& s) {
  std::map<int64_t, int64_t> out;
  for (const auto& slot : s.slots()) {
    for (int32_t c : slot.counts()) out[slot.timestamp()] += c;
  }
  return out;
}

TEST_F(QueryTest, SelectHeatmapCountsProfilesAndSpans) {
  block::DatasetBuilder b("t1", "api");
  const pprof::Profile one = MakeProfile({{{"main", "a"}, 10}, {{"main", "b"}, 20}});
  const std::vector<uint64_t> spans = {0xa1, 0xa1};  // one span, two samples
  const std::span<const uint64_t> none;
  // Profile 1 is split into two series (prod and dev): one point of value 30 + 30.
  b.Append(SeriesLabels(kCpu, "api", "prod"), 5'000, 0, one, spans, {0, 1});
  b.Append(SeriesLabels(kCpu, "api", "dev"), 5'000, 0, one, none, {0, 1});
  b.Append(SeriesLabels(kCpu, "api", "prod"), 12'000, 0, MakeProfile({{{"main"}, 7}}), none,
           {0, 2});
  // After the last whole step (end 25 s, step 10 s): in the slot at 30 s, as upstream.
  b.Append(SeriesLabels(kCpu, "api", "prod"), 24'000, 0, MakeProfile({{{"main"}, 9}}));
  b.Append(SeriesLabels(kCpu, "api", "prod"), 26'000, 0, MakeProfile({{{"main"}, 9}}));
  AddObject({&b});

  querier::v1::SelectHeatmapRequest req;
  req.set_start(0);
  req.set_end(25'000);
  req.set_step(10);
  req.set_query_type(querier::v1::HEATMAP_QUERY_TYPE_INDIVIDUAL);
  req.set_exemplar_type(types::v1::EXEMPLAR_TYPE_INDIVIDUAL);
  auto r = Heatmap(req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->series_size(), 1);
  EXPECT_EQ(SlotCounts(r->series(0)),
            (std::map<int64_t, int64_t>{{10'000, 1}, {20'000, 1}, {30'000, 1}}));
  const types::v1::HeatmapSlot& first = r->series(0).slots(0);
  EXPECT_EQ(first.y_min(0), 7);          // values 60, 7, 9: axis 7..60
  EXPECT_EQ(first.counts(19), 1);        // 60
  ASSERT_EQ(first.exemplars_size(), 1);  // profile 1, with the labels both series share
  EXPECT_EQ(first.exemplars(0).profile_id(), "00000000-0000-0000-0000-000000000001");
  EXPECT_EQ(first.exemplars(0).value(), 60);
  for (const auto& l : first.exemplars(0).labels()) EXPECT_NE(l.name(), "env");
  EXPECT_EQ(r->series(0).slots(2).exemplars_size(), 0);  // a profile without id has none

  req.set_query_type(querier::v1::HEATMAP_QUERY_TYPE_SPAN);
  req.set_exemplar_type(types::v1::EXEMPLAR_TYPE_SPAN);
  r = Heatmap(req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->series_size(), 1);
  EXPECT_EQ(SlotCounts(r->series(0)), (std::map<int64_t, int64_t>{{10'000, 1}}));
  ASSERT_EQ(r->series(0).slots(0).exemplars_size(), 1);
  EXPECT_EQ(r->series(0).slots(0).exemplars(0).span_id(), "00000000000000a1");
  EXPECT_EQ(r->series(0).slots(0).exemplars(0).value(), 30);

  // Bad requests.
  auto code = [&](auto change) {
    querier::v1::SelectHeatmapRequest bad = req;
    change(bad);
    return Heatmap(bad).status().code();
  };
  using R = querier::v1::SelectHeatmapRequest;
  EXPECT_EQ(code([](R& x) { x.set_step(0.0005); }), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code([](R& x) { x.set_limit(-1); }), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code([](R& x) { x.set_end(0); }), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code([](R& x) { x.set_query_type(querier::v1::HEATMAP_QUERY_TYPE_UNSPECIFIED); }),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code([](R& x) { x.set_exemplar_type(types::v1::EXEMPLAR_TYPE_INDIVIDUAL); }),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code([](R& x) { x.set_limit(1); }), absl::StatusCode::kOk);
}

TEST_F(QueryTest, BadRequestsAreInvalidArgument) {
  auto bad = [&](std::string type, std::string selector, int64_t start, int64_t end) {
    return Merge(type, selector, start, end).status();
  };
  EXPECT_EQ(bad(kCpu, "{service_name=}", 0, 1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad("cpu", "{}", 0, 1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad("", "{}", 0, 1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad(kCpu, "{}", 10, 1).code(), absl::StatusCode::kInvalidArgument);
  absl::Status too_long = bad(kCpu, "{}", 0, 25 * 3600 * 1000ll);
  EXPECT_EQ(too_long.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(too_long.message().find("exceeds the limit"), absl::string_view::npos) << too_long;
  // The widest range there is: its length overflows int64, and must still be over the limit.
  absl::Status widest =
      bad(kCpu, "{}", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(widest.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(widest.message().find("exceeds the limit"), absl::string_view::npos) << widest;
  EXPECT_EQ(Merge(kCpu, "{}", 0, 1, 2'000'000).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Series(kCpu, "{}", 0, 1, 0).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(QueryTest, MissingObjectsAreSkipped) {
  block::DatasetBuilder b("t1", "api");
  b.Append(SeriesLabels(kCpu, "api", "prod"), 10'000, 0, MakeProfile({{{"main"}, 1}}));
  AddObject({&b});
  std::vector<std::string> keys = *objstore::ListKeys(bucket_, "");
  for (const auto& k : keys) ASSERT_TRUE(bucket_.Delete(k).ok());
  auto r = Merge(kCpu, "", 0, 60'000);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->flamegraph().total(), 0);
}

TEST_F(QueryTest, NoBackendIsUnavailable) {
  frontend_.SetBackend(nullptr);
  EXPECT_EQ(Merge(kCpu, "", 0, 1).status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(QueryTest, StartsOlderThanTheLookbackAreClamped) {
  const int64_t now = absl::ToUnixMillis(absl::Now());
  block::DatasetBuilder b("t1", "api");
  b.Append(SeriesLabels(kCpu, "api", "prod"), now - 3 * 3'600'000, 0, MakeProfile({{{"old"}, 5}}));
  b.Append(SeriesLabels(kCpu, "api", "prod"), now - 60'000, 0, MakeProfile({{{"new"}, 7}}));
  AddObject({&b});
  QueryFrontend limited({.max_query_lookback = absl::Hours(1)}, &index_service_);
  limited.SetBackend(backend_);
  querier::v1::SelectMergeStacktracesRequest req;
  req.set_profile_typeid(kCpu);
  req.set_start(now - 4 * 3'600'000);
  req.set_end(now);
  querier::v1::SelectMergeStacktracesResponse resp;
  std::promise<absl::Status> done;
  limited.SelectMergeStacktraces({.tenant = "t1"}, req, &resp,
                                 [&done](absl::Status st) { done.set_value(st); });
  ASSERT_TRUE(done.get_future().get().ok());
  EXPECT_EQ(resp.flamegraph().total(), 7) << "the profile 3 h old is outside the 1 h lookback";
}

}  // namespace
}  // namespace embers::query

namespace embers::query {
namespace {

// A client that did not see its acknowledgement pushes the same profile again; both copies are
// stored (here in different objects, and twice in one). Every report counts it once, while a
// different profile of the same series at the same millisecond still counts.
TEST_F(QueryTest, ProfilesPushedTwiceCountOnce) {
  const model::ProfileId id{.hi = 7, .lo = 9};
  pprof::Profile pushed = MakeProfile({{{"main", "a"}, 10}, {{"main", "b"}, 5}});
  block::DatasetBuilder first("t1", "api"), retry("t1", "api");
  first.Append(SeriesLabels(kCpu, "api", "prod"), 10'000, 1'000'000, pushed, {}, id);
  retry.Append(SeriesLabels(kCpu, "api", "prod"), 10'000, 1'000'000, pushed, {}, id);
  // Within one object too (a retry landing in the same segment).
  retry.Append(SeriesLabels(kCpu, "api", "prod"), 10'000, 1'000'000, pushed, {}, id);
  // Not a retry: another profile id at the same time, and the same samples in another series.
  retry.Append(SeriesLabels(kCpu, "api", "prod"), 10'000, 1'000'000, pushed, {},
               model::ProfileId{.hi = 7, .lo = 10});
  retry.Append(SeriesLabels(kCpu, "api", "dev"), 10'000, 1'000'000, pushed, {}, id);
  AddObject({&first});
  AddObject({&retry});

  auto r = Merge(kCpu, R"({env="prod"})", 0, 60'000);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->flamegraph().total(), 30);  // the profile once, plus the one with another id
  std::map<std::string, NodeValue> f = PerFunction(r->flamegraph());
  EXPECT_EQ(f["a"], (NodeValue{20, 20}));
  r = Merge(kCpu, "", 0, 60'000);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->flamegraph().total(), 45);

  auto s = Series(kCpu, "", 0, 60'000, 60, {"env"});
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->series_size(), 2);
  EXPECT_EQ(s->series(0).points(0).value(), 15);  // dev
  EXPECT_EQ(s->series(1).points(0).value(), 30);  // prod
}

// A compacted block holds a service's hours in one dataset of many chunks, which the backend's
// threads share: every row counts once whichever thread reads its chunk, retries included.
TEST_F(QueryTest, DatasetOfManyChunksCountsEveryRowOnce) {
  block::DatasetBuilder b("t1", "api", {.zstd_level = 1, .rows_per_chunk = 2});
  int64_t prod = 0, dev = 0, leaf3 = 0, late = 0;
  for (int i = 0; i < 301; ++i) {
    const std::string env = i % 3 == 0 ? "dev" : "prod";
    const int64_t t = 1'000 * i;
    const model::ProfileId id{.hi = 1, .lo = static_cast<uint64_t>(i)};
    pprof::Profile p = MakeProfile({{{"main", "leaf" + std::to_string(i % 5)}, i + 1}});
    b.Append(SeriesLabels(kCpu, "api", env), t, 1'000'000, p, {}, id);
    // Every seventh profile pushed again (a client retry): counted once.
    if (i % 7 == 0) b.Append(SeriesLabels(kCpu, "api", env), t, 1'000'000, p, {}, id);
    (env == "dev" ? dev : prod) += i + 1;
    if (i % 5 == 3) leaf3 += i + 1;
    if (t >= 200'000) late += i + 1;
  }
  AddObject({&b});
  // Each of backends with 1, 2 and 4 threads gives the same answers.
  for (int threads : {1, 2, 4}) {
    SCOPED_TRACE(threads);
    frontend_.SetBackend(
        std::make_shared<QueryBackend>(QueryBackendOptions{.threads = threads}, &bucket_));
    for (int round = 0; round < 5; ++round) {
      auto r = Merge(kCpu, "", 0, 400'000);
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(r->flamegraph().total(), prod + dev);
      EXPECT_EQ(PerFunction(r->flamegraph())["leaf3"], (NodeValue{leaf3, leaf3}));
      r = Merge(kCpu, "", 200'000, 400'000);
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(r->flamegraph().total(), late);
      auto s = Series(kCpu, "", 0, 400'000, 400, {"env"});
      ASSERT_TRUE(s.ok()) << s.status();
      ASSERT_EQ(s->series_size(), 2);
      auto sum = [](const auto& series) {
        double total = 0;
        for (const auto& point : series.points()) total += point.value();
        return static_cast<int64_t>(total);
      };
      EXPECT_EQ(sum(s->series(0)), dev);
      EXPECT_EQ(sum(s->series(1)), prod);
    }
  }
}

}  // namespace
}  // namespace embers::query
