#include "distributor/distributor.h"

#include "base/metrics.h"

#include <gtest/gtest.h>

#include <future>

#include "block/object_reader.h"
#include "block/object_writer.h"
#include "metastore/index_service.h"
#include "objstore/memory_bucket.h"
#include "pprof/decoder.h"
#include "pprof/testdata.h"
#include "segmentwriter/segment_writer_client.h"

namespace embers::distributor {
namespace {

class DistributorTest : public testing::Test {
 protected:
  void SetUp() override {
    segmentwriter::SegmentWriterOptions wo;
    wo.segment_duration = absl::Milliseconds(20);
    writer_ = std::make_unique<segmentwriter::SegmentWriter>(wo, &bucket_, &index_service_);
    writer_->Start();
    client_ = std::make_unique<segmentwriter::LocalSegmentWriterClient>(writer_.get());
  }
  void TearDown() override { writer_->Stop(absl::Now() + absl::Seconds(5)); }

  absl::Status Push(Distributor& d, std::vector<IngestProfile> profiles,
                    std::string tenant = "t1") {
    std::promise<absl::Status> p;
    auto f = p.get_future();
    CallContext ctx;
    ctx.tenant = std::move(tenant);
    d.Push(ctx, std::move(profiles), [&p](absl::Status st) { p.set_value(st); });
    return f.get();
  }

  // A Go CPU profile (samples/count and cpu/nanoseconds, years old) as a push carries it: the
  // encoded bytes decoded, their size the received bytes.
  IngestProfile GoCpu(model::Labels labels) {
    const std::string raw = pprof::testing::SyntheticPprof();
    auto p = pprof::Decode(raw);
    EXPECT_TRUE(p.ok()) << p.status();
    return IngestProfile{std::move(labels), std::move(*p), static_cast<int64_t>(raw.size())};
  }

  DistributorOptions Options() {
    DistributorOptions o;
    o.reject_older_than = absl::ZeroDuration();  // GoCpu() profiles are years old
    return o;
  }

  objstore::MemoryBucket bucket_;
  metastore::BlockIndex index_;
  metastore::LocalIndexService index_service_{&index_};
  std::unique_ptr<segmentwriter::SegmentWriter> writer_;
  std::unique_ptr<segmentwriter::LocalSegmentWriterClient> client_;
};

TEST_F(DistributorTest, PushedProfilesAreStoredAndIndexedByProfileType) {
  Distributor d(Options(), client_.get());
  ASSERT_TRUE(
      Push(d, {GoCpu(model::Labels({{"__name__", "process_cpu"}, {"service_name", "api"}}))}).ok());
  metastore::v1::QueryMetadataLabelsRequest req;
  req.add_tenant_id("t1");
  req.set_start_time(0);
  req.set_end_time(INT64_MAX / 2);
  req.set_query("{}");
  req.add_labels("__profile_type__");
  auto labels = index_.QueryMetadataLabels(req);
  ASSERT_TRUE(labels.ok()) << labels.status();
  std::set<std::string> types;
  for (const auto& set : labels->labels()) {
    for (const auto& l : set.labels()) types.insert(l.value());
  }
  EXPECT_EQ(types, (std::set<std::string>{"process_cpu:samples:count:cpu:nanoseconds",
                                          "process_cpu:cpu:nanoseconds:cpu:nanoseconds"}));
}

TEST_F(DistributorTest, MissingServiceNameBecomesUnknownService) {
  Distributor d(Options(), client_.get());
  ASSERT_TRUE(Push(d, {GoCpu(model::Labels({{"__name__", "process_cpu"}}))}).ok());
  metastore::v1::QueryMetadataLabelsRequest req;
  req.add_tenant_id("t1");
  req.set_end_time(INT64_MAX / 2);
  req.set_query("{service_name=\"unknown_service\"}");
  req.add_labels("service_name");
  auto labels = index_.QueryMetadataLabels(req);
  ASSERT_TRUE(labels.ok()) << labels.status();
  EXPECT_EQ(labels->labels_size(), 1);
}

TEST_F(DistributorTest, IdleTenantsAreForgottenWithTheirMetricSeries) {
  absl::Time clock = absl::FromUnixSeconds(1'700'000'000);
  DistributorOptions o = Options();
  o.tenant_idle_timeout = absl::Minutes(1);
  o.now = [&clock] { return clock; };
  Distributor d(o, client_.get());
  // Empty pushes still count the tenant (and create its series): no test data needed.
  for (std::string t : {"idle-a", "idle-b", "idle-c"}) ASSERT_TRUE(Push(d, {}, t).ok());
  EXPECT_EQ(d.active_tenants(), 3u);
  std::string metrics = metrics::Registry::Global().Render();
  EXPECT_NE(metrics.find("tenant=\"idle-b\""), std::string::npos) << metrics;

  clock += absl::Seconds(30);  // not idle long enough yet
  ASSERT_TRUE(Push(d, {}, "idle-b").ok());
  EXPECT_EQ(d.active_tenants(), 3u);

  clock += absl::Seconds(45);  // a and c: 75 s idle; b: 45 s
  ASSERT_TRUE(Push(d, {}, "busy").ok());
  EXPECT_EQ(d.active_tenants(), 2u);  // b and busy
  metrics = metrics::Registry::Global().Render();
  EXPECT_EQ(metrics.find("tenant=\"idle-a\""), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("tenant=\"idle-c\""), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("tenant=\"idle-b\""), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("tenant=\"busy\""), std::string::npos) << metrics;
  // A forgotten tenant that comes back starts afresh.
  ASSERT_TRUE(Push(d, {}, "idle-a").ok());
  EXPECT_EQ(d.active_tenants(), 3u);
}

TEST_F(DistributorTest, AdmitRefusesATenantWithoutBudgetBeforeAnyDecoding) {
  absl::Time clock = absl::FromUnixSeconds(1'700'000'000);
  DistributorOptions o = Options();
  o.ingestion_rate_limit_mb = 0.001;  // 1 KB/s
  o.ingestion_burst_size_mb = 0.001;
  o.now = [&clock] { return clock; };
  Distributor d(o, client_.get());
  EXPECT_TRUE(d.Admit("t1").ok());
  // A 3 KB push empties the bucket (allowed whole from a full one); its content does not matter.
  IngestProfile big{model::Labels({{"service_name", "api"}}), pprof::Profile{}, 3000};
  (void)Push(d, {std::move(big)}, "t1");
  absl::Status st = d.Admit("t1");
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
  EXPECT_TRUE(d.Admit("t2").ok()) << "another tenant has its own budget";
  clock += absl::Seconds(3);  // refilled past zero
  EXPECT_TRUE(d.Admit("t1").ok());
}

TEST_F(DistributorTest, RateLimitAnswersResourceExhausted) {
  DistributorOptions o = Options();
  o.ingestion_rate_limit_mb = 0.001;  // 1 KB/s
  o.ingestion_burst_size_mb = 0.001;
  Distributor d(o, client_.get());
  model::Labels labels({{"__name__", "process_cpu"}, {"service_name", "api"}});
  ASSERT_TRUE(Push(d, {GoCpu(labels)}).ok());  // the burst
  absl::Status st = Push(d, {GoCpu(labels)});
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
  // Another tenant has its own bucket.
  EXPECT_TRUE(Push(d, {GoCpu(labels)}, "t2").ok());
}

TEST_F(DistributorTest, OverloadAnswersResourceExhaustedAndReleasesOnCompletion) {
  DistributorOptions o = Options();
  model::Labels labels({{"__name__", "process_cpu"}, {"service_name", "api"}});
  IngestProfile p = GoCpu(labels);
  o.max_inflight_bytes = p.received_bytes * 3 / 2;  // room for one push at a time
  Distributor d(o, client_.get());
  // Two concurrent pushes: the second finds the first still in flight.
  std::promise<absl::Status> first;
  CallContext ctx;
  ctx.tenant = "t1";
  d.Push(ctx, {std::move(p)}, [&first](absl::Status st) { first.set_value(st); });
  absl::Status second = Push(d, {GoCpu(labels)});
  EXPECT_EQ(second.code(), absl::StatusCode::kResourceExhausted) << second;
  EXPECT_TRUE(first.get_future().get().ok());
  // Once the first is stored its bytes are released.
  EXPECT_TRUE(Push(d, {GoCpu(labels)}).ok());
}

TEST_F(DistributorTest, InvalidInputIsRejectedWithInvalidArgument) {
  Distributor d(Options(), client_.get());
  // A label name that is not allowed.
  absl::Status bad_label =
      Push(d, {GoCpu(model::Labels(
                  {{"__name__", "process_cpu"}, {"service_name", "api"}, {"bad-name", "x"}}))});
  EXPECT_EQ(bad_label.code(), absl::StatusCode::kInvalidArgument) << bad_label;
  // Too old, with Pyroscope's default window.
  DistributorOptions strict;
  Distributor d2(strict, client_.get());
  absl::Status old =
      Push(d2, {GoCpu(model::Labels({{"__name__", "process_cpu"}, {"service_name", "api"}}))});
  EXPECT_EQ(old.code(), absl::StatusCode::kInvalidArgument) << old;
  EXPECT_NE(old.message().find("older"), absl::string_view::npos) << old;
}

}  // namespace
}  // namespace embers::distributor
