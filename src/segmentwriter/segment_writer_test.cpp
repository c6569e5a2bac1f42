#include "segmentwriter/segment_writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <set>

#include "block/object_reader.h"
#include "block/object_writer.h"
#include "objstore/fault_injecting_bucket.h"
#include "objstore/memory_bucket.h"

namespace embers::segmentwriter {
namespace {

// The metastore as a recording fake that can be made unavailable.
class FakeIndex : public metastore::IndexService {
 public:
  std::atomic<bool> down{false};
  std::mutex mu;
  std::vector<metastore::v1::BlockMeta> blocks;

  void AddBlock(const CallContext&, const metastore::v1::AddBlockRequest& req,
                metastore::v1::AddBlockResponse*, UnaryDone done) override {
    if (down) return done(absl::UnavailableError("injected: metastore down"));
    std::lock_guard<std::mutex> lock(mu);
    blocks.push_back(req.block());
    done(absl::OkStatus());
  }
  void QueryMetadata(const CallContext&, const metastore::v1::QueryMetadataRequest&,
                     metastore::v1::QueryMetadataResponse*, UnaryDone done) override {
    done(absl::UnimplementedError("fake"));
  }
  void QueryMetadataLabels(const CallContext&, const metastore::v1::QueryMetadataLabelsRequest&,
                           metastore::v1::QueryMetadataLabelsResponse*, UnaryDone done) override {
    done(absl::UnimplementedError("fake"));
  }
  void GetTenant(const CallContext&, const metastore::v1::GetTenantRequest&,
                 metastore::v1::GetTenantResponse*, UnaryDone done) override {
    done(absl::UnimplementedError("fake"));
  }
  void GetTenantSettings(const CallContext&, const metastore::v1::GetTenantSettingsRequest&,
                         metastore::v1::GetTenantSettingsResponse*, UnaryDone done) override {
    done(absl::UnimplementedError("fake"));
  }
  void SetTenantSetting(const CallContext&, const metastore::v1::SetTenantSettingRequest&,
                        metastore::v1::SetTenantSettingResponse*, UnaryDone done) override {
    done(absl::UnimplementedError("fake"));
  }
};

// One-sample profile whose single stack is main;<leaf>.
pprof::Profile OneStack(std::string leaf, int64_t value) {
  pprof::Profile p;
  p.backing.push_back(std::make_shared<const std::string>(leaf));
  p.strings = {"", "main", *p.backing.back()};
  p.sample_types.push_back({0, 0});
  for (uint64_t f = 1; f <= 2; ++f) {
    p.functions.push_back({.id = f, .name = static_cast<int64_t>(f)});
    p.lines.push_back({.function_id = f});
    p.locations.push_back({.id = f, .line_begin = static_cast<uint32_t>(f - 1), .line_count = 1});
  }
  p.location_ids = {2, 1};
  p.values = {value};
  p.samples.push_back(
      {.location_begin = 0, .location_count = 2, .value_begin = 0, .value_count = 1});
  return p;
}

ProfileToWrite Item(std::string service, std::string leaf, int64_t value, int64_t ts) {
  ProfileToWrite p;
  p.service = service;
  p.series = model::Labels({{"__profile_type__", "process_cpu:cpu:nanoseconds:cpu:nanoseconds"},
                            {"service_name", service}});
  p.timestamp_ms = ts;
  p.profile = OneStack(std::move(leaf), value);
  return p;
}

absl::Status PushAndWait(SegmentWriter& w, std::string tenant, uint32_t shard,
                         std::vector<ProfileToWrite> items) {
  std::promise<absl::Status> p;
  auto f = p.get_future();
  w.Push(tenant, shard, std::move(items), [&p](absl::Status st) { p.set_value(st); });
  return f.get();
}

SegmentWriterOptions FastOptions() {
  SegmentWriterOptions o;
  o.segment_duration = absl::Milliseconds(50);
  o.upload_max_retries = 1;
  o.upload_retry_min_period = absl::Milliseconds(1);
  return o;
}

TEST(SegmentWriter, AcknowledgedPushesAreInTheBucketAndTheIndex) {
  objstore::FaultInjectingBucket bucket(std::make_unique<objstore::MemoryBucket>());
  FakeIndex index;
  SegmentWriter writer(FastOptions(), &bucket, &index);
  writer.Start();
  // 40 concurrent pushes over 2 shards, 2 tenants and 2 services each.
  std::vector<std::future<absl::Status>> results;
  std::map<std::string, int64_t> expected;  // "tenant/service/leaf" → total
  for (int i = 0; i < 40; ++i) {
    std::string tenant = i % 2 ? "t1" : "t2";
    std::string service = i % 4 < 2 ? "api" : "db";
    std::string leaf = "f" + std::to_string(i % 5);
    expected[tenant + "/" + service + "/" + leaf] += i + 1;
    results.push_back(std::async(std::launch::async, [&, tenant, service, leaf, i] {
      return PushAndWait(writer, tenant, i % 2, {Item(service, leaf, i + 1, 1000 + i)});
    }));
  }
  for (auto& r : results) EXPECT_TRUE(r.get().ok());
  writer.Stop(absl::Now() + absl::Seconds(5));

  // Every indexed block is an object in the bucket; together they hold every sample.
  std::map<std::string, int64_t> found;
  std::set<uint32_t> shards;
  bool saw_multi_dataset_object = false;
  for (const auto& meta : index.blocks) {
    shards.insert(meta.shard());
    auto reader = block::ObjectReader::Open(&bucket, block::ObjectKey(meta));
    ASSERT_TRUE(reader.ok()) << reader.status();
    if (reader->meta().datasets_size() > 1) saw_multi_dataset_object = true;
    for (int d = 0; d < reader->meta().datasets_size(); ++d) {
      std::string tenant(reader->String(reader->meta().datasets(d).tenant()));
      std::string service(reader->String(reader->meta().datasets(d).name()));
      auto symbols = reader->ReadSymbols(d);
      auto rows = reader->ReadProfiles(d);
      ASSERT_TRUE(symbols.ok() && rows.ok());
      for (size_t k = 0; k < rows->stack_ids.size(); ++k) {
        std::vector<uint32_t> locs;
        ASSERT_TRUE(symbols->Stack(rows->stack_ids[k], &locs));
        const auto& leaf_loc = symbols->locations[locs.front()];
        std::string leaf(
            symbols
                ->strings[symbols->functions[symbols->lines[leaf_loc.line_begin].function].name]);
        found[tenant + "/" + service + "/" + leaf] += rows->values[k];
      }
    }
  }
  EXPECT_EQ(found, expected);
  EXPECT_EQ(shards, (std::set<uint32_t>{0, 1}));
  EXPECT_TRUE(saw_multi_dataset_object);
  // One object per shard per flush: no two blocks of a shard share a key.
  EXPECT_EQ(static_cast<size_t>(bucket.puts.load()), index.blocks.size());
}

TEST(SegmentWriter, BucketDownFailsThePushesWithUnavailable) {
  objstore::FaultInjectingBucket bucket(std::make_unique<objstore::MemoryBucket>());
  FakeIndex index;
  bucket.fail_puts = true;
  SegmentWriter writer(FastOptions(), &bucket, &index);
  writer.Start();
  absl::Status st = PushAndWait(writer, "t", 0, {Item("api", "x", 1, 1000)});
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_TRUE(index.blocks.empty());
  writer.Stop(absl::Now() + absl::Seconds(5));
}

TEST(SegmentWriter, MetastoreDownParksMetadataInTheDlqAndAcknowledges) {
  objstore::FaultInjectingBucket bucket(std::make_unique<objstore::MemoryBucket>());
  FakeIndex index;
  index.down = true;
  SegmentWriter writer(FastOptions(), &bucket, &index);
  writer.Start();
  EXPECT_TRUE(PushAndWait(writer, "t", 7, {Item("api", "x", 1, 1000)}).ok());
  writer.Stop(absl::Now() + absl::Seconds(5));
  auto dlq = objstore::ListKeys(bucket, "dlq/7/anonymous/");
  ASSERT_TRUE(dlq.ok());
  ASSERT_EQ(dlq->size(), 1u);
  auto meta_bytes = bucket.Get((*dlq)[0]);
  ASSERT_TRUE(meta_bytes.ok());
  metastore::v1::BlockMeta meta;
  ASSERT_TRUE(meta.ParseFromString(*meta_bytes));
  // The parked metadata names an object that exists.
  EXPECT_TRUE(*bucket.Exists(block::ObjectKey(meta)));
  EXPECT_EQ((*dlq)[0], "dlq/7/anonymous/" + meta.id() + "/meta.pb");
}

TEST(SegmentWriter, PushAfterStopIsUnavailable) {
  objstore::FaultInjectingBucket bucket(std::make_unique<objstore::MemoryBucket>());
  FakeIndex index;
  SegmentWriter writer(FastOptions(), &bucket, &index);
  writer.Start();
  writer.Stop(absl::Now() + absl::Seconds(1));
  EXPECT_EQ(PushAndWait(writer, "t", 0, {Item("api", "x", 1, 1000)}).code(),
            absl::StatusCode::kUnavailable);
}

TEST(SegmentWriter, ShardsBeyondTheBoundAreRefusedAndCreateNothing) {
  objstore::FaultInjectingBucket bucket(std::make_unique<objstore::MemoryBucket>());
  FakeIndex index;
  SegmentWriterOptions options = FastOptions();
  options.max_shards = 8;
  SegmentWriter writer(options, &bucket, &index);
  writer.Start();
  absl::Status st = PushAndWait(writer, "t", 8, {Item("api", "x", 1, 1000)});
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_EQ(PushAndWait(writer, "t", UINT32_MAX, {Item("api", "x", 1, 1000)}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(PushAndWait(writer, "t", 7, {Item("api", "x", 1, 1000)}).ok());
  writer.Stop(absl::Now() + absl::Seconds(5));
  ASSERT_EQ(index.blocks.size(), 1u);
  EXPECT_EQ(index.blocks[0].shard(), 7u);
}

}  // namespace
}  // namespace embers::segmentwriter
