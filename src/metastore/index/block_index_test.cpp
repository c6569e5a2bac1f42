#include "metastore/index/block_index.h"

#include <gtest/gtest.h>

#include "base/varint.h"
#include "metastore/index/test_blocks.h"
#include "metastore/v1/index_snapshot.pb.h"

namespace embers::metastore {
namespace {

using testing::BlockBuilder;
using testing::DatasetSpec;
using testing::TestId;

constexpr int64_t kHour = 3600 * 1000;
constexpr int64_t kT0 = 1'700'000'000'000;  // some ms timestamp

const std::string kCpu = "process_cpu:cpu:nanoseconds:cpu:nanoseconds";
const std::string kAlloc = "memory:alloc_space:bytes:space:bytes";

DatasetSpec Ds(std::string tenant, std::string service, int64_t min, int64_t max,
               std::vector<std::string> types = {kCpu}, std::string env = "") {
  DatasetSpec d;
  d.tenant = std::move(tenant);
  d.service = service;
  d.min_time = min;
  d.max_time = max;
  for (const std::string& t : types) {
    testing::LabelSet set = {{"__profile_type__", t}, {"service_name", service}};
    if (!env.empty()) set.push_back({"env", env});
    d.label_sets.push_back(set);
  }
  return d;
}

v1::QueryMetadataRequest Query(std::vector<std::string> tenants, int64_t start, int64_t end,
                               std::string query, std::vector<std::string> labels = {}) {
  v1::QueryMetadataRequest r;
  for (auto& t : tenants) r.add_tenant_id(t);
  r.set_start_time(start);
  r.set_end_time(end);
  r.set_query(query);
  for (auto& l : labels) r.add_labels(l);
  return r;
}

v1::QueryMetadataLabelsRequest LabelsQuery(std::vector<std::string> tenants, int64_t start,
                                           int64_t end, std::string query,
                                           std::vector<std::string> labels) {
  v1::QueryMetadataLabelsRequest r;
  for (auto& t : tenants) r.add_tenant_id(t);
  r.set_start_time(start);
  r.set_end_time(end);
  r.set_query(query);
  for (auto& l : labels) r.add_labels(l);
  return r;
}

// "id:service,service;id:..." summary of a response, for compact assertions.
std::string Summary(const v1::QueryMetadataResponse& r) {
  std::string out;
  for (const v1::BlockMeta& b : r.blocks()) {
    if (!out.empty()) out += ";";
    out += b.id().substr(16) + ":";
    for (int i = 0; i < b.datasets_size(); ++i) {
      if (i > 0) out += ",";
      out += b.string_table(b.datasets(i).name());
    }
  }
  return out;
}

// "tenant/service [k=v k=v] [k=v]" of a dataset, with strings resolved.
std::string Decode(const v1::BlockMeta& b, const v1::Dataset& d) {
  std::string out = b.string_table(d.tenant()) + "/" + b.string_table(d.name());
  for (int i = 0; i < d.labels_size();) {
    int n = d.labels(i);
    out += " [";
    for (int k = 0; k < n; ++k) {
      out += b.string_table(d.labels(i + 1 + 2 * k)) + "=" +
             b.string_table(d.labels(i + 2 + 2 * k)) + " ";
    }
    out += "]";
    i += 1 + 2 * n;
  }
  return out;
}

class BlockIndexTest : public ::testing::Test {
 protected:
  void Add(const v1::BlockMeta& b, BlockIndex::AddResult want = BlockIndex::AddResult::kAdded) {
    auto r = index_.AddBlock(b);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(*r, want) << b.id();
  }

  std::string Q(std::vector<std::string> tenants, int64_t start, int64_t end, std::string query) {
    auto r = index_.QueryMetadata(Query(std::move(tenants), start, end, std::move(query)));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? Summary(*r) : "error";
  }

  // A segment (tenant "") on shard 1 with two tenants and three services, and a compacted block
  // of tenant-a on shard 2.
  void AddFixture() {
    Add(BlockBuilder(TestId(kT0, 1), "", 1)
            .Add(Ds("tenant-a", "api", kT0, kT0 + 1000, {kCpu, kAlloc}, "prod"))
            .Add(Ds("tenant-a", "db", kT0, kT0 + 2000, {kCpu}, "dev"))
            .Add(Ds("tenant-b", "api", kT0 + 500, kT0 + 900, {kCpu}))
            .Build());
    Add(BlockBuilder(TestId(kT0 + 10 * kHour, 2), "tenant-a", 2, 1)
            .Add(Ds("tenant-a", "api", kT0 + 10 * kHour, kT0 + 11 * kHour, {kAlloc}, "prod-eu"))
            .Build());
  }

  BlockIndex index_;
};

TEST_F(BlockIndexTest, QueryFiltersByTenantTimeAndSelector) {
  AddFixture();
  EXPECT_EQ(index_.BlockCount(), 2u);
  EXPECT_EQ(index_.PartitionCount(), 2u);
  // All datasets of tenant-a over the whole range.
  EXPECT_EQ(Q({"tenant-a"}, kT0, kT0 + 12 * kHour, "{}"), "0000000001:api,db;0000000002:api");
  // Tenant filter inside a segment.
  EXPECT_EQ(Q({"tenant-b"}, kT0, kT0 + 12 * kHour, ""), "0000000001:api");
  EXPECT_EQ(Q({"tenant-a", "tenant-b"}, kT0, kT0 + kHour, "{service_name=\"api\"}"),
            "0000000001:api,api");
  EXPECT_EQ(Q({"nobody"}, kT0, kT0 + 12 * kHour, "{}"), "");
  // Time: the dataset range must overlap, ends inclusive.
  EXPECT_EQ(Q({"tenant-a"}, kT0 + 1500, kT0 + 1600, "{}"), "0000000001:db");
  EXPECT_EQ(Q({"tenant-a"}, kT0 + 2000, kT0 + 2000, "{}"), "0000000001:db");
  EXPECT_EQ(Q({"tenant-a"}, kT0 + 2001, kT0 + 10 * kHour - 1, "{}"), "");
  EXPECT_EQ(Q({"tenant-a"}, kT0 + 11 * kHour, kT0 + 20 * kHour, "{}"), "0000000002:api");
  // Operators.
  EXPECT_EQ(Q({"tenant-a"}, kT0, kT0 + 12 * kHour, "{env=~\"prod.*\"}"),
            "0000000001:api;0000000002:api");
  EXPECT_EQ(Q({"tenant-a"}, kT0, kT0 + 12 * kHour, "{env=~\"prod\"}"), "0000000001:api");
  EXPECT_EQ(Q({"tenant-a"}, kT0, kT0 + 12 * kHour, "{env!=\"prod\"}"),
            "0000000001:db;0000000002:api");
  EXPECT_EQ(Q({"tenant-a"}, kT0, kT0 + 12 * kHour, "{env!~\"prod|dev\"}"), "0000000002:api");
  EXPECT_EQ(Q({"tenant-a", "tenant-b"}, kT0, kT0 + 12 * kHour, "{env=\"\"}"), "0000000001:api");
  EXPECT_EQ(Q({"tenant-a"}, kT0, kT0 + 12 * kHour, "{__profile_type__=\"" + kAlloc + "\"}"),
            "0000000001:api;0000000002:api");
  // A dataset matches when any of its label sets matches; all matchers apply to one set.
  EXPECT_EQ(Q({"tenant-a"}, kT0, kT0 + 12 * kHour,
              "{__profile_type__=\"" + kAlloc + "\", service_name=\"db\"}"),
            "");
  EXPECT_EQ(Q({"tenant-a"}, kT0, kT0 + 12 * kHour, "{missing=\"x\"}"), "");
  EXPECT_EQ(Q({"tenant-a"}, kT0, kT0 + 12 * kHour, "{service_name=\"nope\"}"), "");
}

TEST_F(BlockIndexTest, QueryOutputIsCompactAndProjected) {
  AddFixture();
  auto r = index_.QueryMetadata(
      Query({"tenant-a"}, kT0, kT0 + kHour, "{service_name=\"api\"}", {"__profile_type__"}));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->blocks_size(), 1);
  const v1::BlockMeta& b = r->blocks(0);
  EXPECT_EQ(b.id(), TestId(kT0, 1));
  EXPECT_EQ(b.shard(), 1u);
  EXPECT_EQ(b.string_table(0), "");
  EXPECT_EQ(b.string_table(b.tenant()), "");
  EXPECT_EQ(b.string_table(b.created_by()), "writer-1");
  ASSERT_EQ(b.datasets_size(), 1);
  const v1::Dataset& d = b.datasets(0);
  EXPECT_EQ(b.string_table(d.tenant()), "tenant-a");
  EXPECT_EQ(b.string_table(d.name()), "api");
  EXPECT_EQ(d.table_of_contents_size(), 2);
  // Both matching sets projected onto __profile_type__: [1, k, cpu, 1, k, alloc].
  ASSERT_EQ(d.labels_size(), 6);
  EXPECT_EQ(d.labels(0), 1);
  EXPECT_EQ(b.string_table(d.labels(1)), "__profile_type__");
  EXPECT_EQ(b.string_table(d.labels(2)), kCpu);
  EXPECT_EQ(b.string_table(d.labels(5)), kAlloc);
  // Only the strings used: "", writer-1, tenant-a, api, __profile_type__, cpu, alloc.
  EXPECT_EQ(b.string_table_size(), 7);
  // Without requested labels, datasets carry none.
  auto plain = index_.QueryMetadata(Query({"tenant-a"}, kT0, kT0 + kHour, "{}"));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->blocks(0).datasets(0).labels_size(), 0);
}

TEST_F(BlockIndexTest, QueryMetadataLabels) {
  AddFixture();
  auto r = index_.QueryMetadataLabels(
      LabelsQuery({"tenant-a"}, kT0, kT0 + 12 * kHour, "{}", {"__profile_type__"}));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->labels_size(), 2);
  EXPECT_EQ(r->labels(0).labels(0).value(), kAlloc);  // sorted
  EXPECT_EQ(r->labels(1).labels(0).value(), kCpu);

  r = index_.QueryMetadataLabels(LabelsQuery({"tenant-a", "tenant-b"}, kT0, kT0 + 12 * kHour,
                                             "{__profile_type__=\"" + kCpu + "\"}",
                                             {"service_name", "env"}));
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<std::string> got;
  for (const auto& set : r->labels()) {
    std::string s;
    for (const auto& p : set.labels()) s += p.name() + "=" + p.value() + " ";
    got.push_back(s);
  }
  EXPECT_EQ(got, (std::vector<std::string>{"service_name=api ", "service_name=api env=prod ",
                                           "service_name=db env=dev "}));
  // No names to project: nothing.
  r = index_.QueryMetadataLabels(LabelsQuery({"tenant-a"}, kT0, kT0 + 12 * kHour, "{}", {}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->labels_size(), 0);
}

TEST_F(BlockIndexTest, MalformedRequestsAreInvalidArgument) {
  AddFixture();
  auto no_tenant = index_.QueryMetadata(Query({}, 0, 1, "{}"));
  EXPECT_EQ(no_tenant.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(no_tenant.status().message().find("tenant"), std::string_view::npos);
  auto reversed = index_.QueryMetadata(Query({"t"}, 10, 5, "{}"));
  EXPECT_EQ(reversed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(reversed.status().message().find("before"), std::string_view::npos);
  auto bad = index_.QueryMetadata(Query({"t"}, 0, 5, "{a=}"));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("position 4"), std::string_view::npos);
  auto bad_labels = index_.QueryMetadataLabels(LabelsQuery({}, 0, 5, "{}", {"x"}));
  EXPECT_EQ(bad_labels.status().code(), absl::StatusCode::kInvalidArgument);
  auto bad_regex = index_.QueryMetadataLabels(LabelsQuery({"t"}, 0, 5, "{a=~\"[\"}", {"x"}));
  EXPECT_EQ(bad_regex.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(BlockIndexTest, AddBlockValidates) {
  v1::BlockMeta good = BlockBuilder(TestId(kT0, 9), "", 0).Add(Ds("t", "s", kT0, kT0)).Build();
  auto expect_invalid = [&](v1::BlockMeta b, std::string_view what) {
    auto r = index_.AddBlock(b);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << what;
    EXPECT_NE(std::string(r.status().message()).find(what), std::string::npos) << r.status();
  };
  v1::BlockMeta b = good;
  b.set_id("not-a-ulid");
  expect_invalid(b, "not a ULID");
  b = good;
  b.mutable_datasets(0)->set_name(99);
  expect_invalid(b, "string ref out of range");
  b = good;
  b.mutable_datasets(0)->add_labels(3);  // says 3 pairs follow, none do
  expect_invalid(b, "malformed label encoding");
  b = good;
  b.set_min_time(b.max_time() + 1);
  expect_invalid(b, "min_time is after max_time");
  b = BlockBuilder(TestId(kT0, 9), "t", 0).Add(Ds("other", "s", kT0, kT0)).Build();
  expect_invalid(b, "in a block of tenant");
  // Tenant ids name object keys: the public rule applies to blocks too.
  b = BlockBuilder(TestId(kT0, 9), "", 0).Add(Ds("../x", "s", kT0, kT0)).Build();
  expect_invalid(b, "dataset 0: tenant id contains an unsupported character '/'");
  b = BlockBuilder(TestId(kT0, 9), "..", 0).Add(Ds("..", "s", kT0, kT0)).Build();
  expect_invalid(b, "tenant id \"..\" is not allowed");
  EXPECT_EQ(index_.BlockCount(), 0u);
  Add(good);
  // A block with an empty string table is legal (every ref is 0, "").
  v1::BlockMeta bare;
  bare.set_id(TestId(kT0, 10));
  Add(bare);
}

TEST_F(BlockIndexTest, AddIsIdempotentAndTombstonesWin) {
  v1::BlockMeta a = BlockBuilder(TestId(kT0, 1), "", 3).Add(Ds("t", "s", kT0, kT0 + 10)).Build();
  v1::BlockMeta b = BlockBuilder(TestId(kT0, 2), "", 3).Add(Ds("t", "s", kT0, kT0 + 20)).Build();
  v1::BlockMeta c =
      BlockBuilder(TestId(kT0, 3), "t", 3, 1).Add(Ds("t", "s", kT0, kT0 + 20)).Build();
  Add(a);
  Add(a, BlockIndex::AddResult::kDuplicate);
  Add(b);
  EXPECT_EQ(Q({"t"}, kT0, kT0 + 100, "{}"), "0000000001:s;0000000002:s");

  // Compaction replaces a and b (segments, tenant "") with c.
  v1::ReplaceBlocksRequest replace;
  replace.mutable_tombstones()->set_name("job-1");
  replace.mutable_tombstones()->set_shard(3);
  replace.mutable_tombstones()->add_blocks(a.id());
  replace.mutable_tombstones()->add_blocks(b.id());
  replace.mutable_tombstones()->set_created_at(kT0 + 5);
  *replace.add_blocks() = c;
  ASSERT_TRUE(index_.ReplaceBlocks(replace).ok());
  EXPECT_EQ(Q({"t"}, kT0, kT0 + 100, "{}"), "0000000003:s");
  EXPECT_EQ(index_.BlockCount(), 1u);
  EXPECT_EQ(index_.BlockCountsByLevel(), (std::vector<uint64_t>{0, 1}));
  // A late retry of a source is ignored; so is a retried replace command.
  Add(a, BlockIndex::AddResult::kTombstoned);
  ASSERT_TRUE(index_.ReplaceBlocks(replace).ok());
  EXPECT_EQ(index_.BlockCount(), 1u);
  ASSERT_EQ(index_.Tombstones().size(), 1u);
  EXPECT_EQ(index_.Tombstones()[0].name(), "job-1");
  EXPECT_EQ(index_.Tombstones()[0].created_at(), kT0 + 5);

  // Once the tombstone is consumed the id is no longer protected.
  index_.DeleteTombstones({"job-1"});
  EXPECT_TRUE(index_.Tombstones().empty());
  Add(a);
  EXPECT_EQ(index_.BlockCountsByLevel(), (std::vector<uint64_t>{1, 1}));

  // Delete-only (no outputs) with a malformed id is rejected without any effect.
  v1::ReplaceBlocksRequest del;
  del.mutable_tombstones()->set_name("del-1");
  del.mutable_tombstones()->set_tenant("t");
  del.mutable_tombstones()->set_shard(3);
  del.mutable_tombstones()->add_blocks(c.id());
  del.mutable_tombstones()->add_blocks("junk");
  EXPECT_EQ(index_.ReplaceBlocks(del).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(index_.BlockCount(), 2u);
  del.mutable_tombstones()->mutable_blocks()->RemoveLast();
  ASSERT_TRUE(index_.ReplaceBlocks(del).ok());
  EXPECT_EQ(Q({"t"}, kT0, kT0 + 100, "{}"), "0000000001:s");
  EXPECT_EQ(index_.BlockCountsByLevel(), (std::vector<uint64_t>{1}));
  // A level a writer made up does not size anything: it counts in the last slot.
  Add(BlockBuilder(TestId(kT0, 4), "t", 3, 4000000000u).Add(Ds("t", "s", kT0, kT0 + 20)).Build());
  std::vector<uint64_t> want(16, 0);
  want[0] = 1;
  want[15] = 1;
  EXPECT_EQ(index_.BlockCountsByLevel(), want);
  v1::ReplaceBlocksRequest no_name;
  EXPECT_EQ(index_.ReplaceBlocks(no_name).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(BlockIndexTest, EmptyPartitionsAreDropped) {
  v1::BlockMeta a = BlockBuilder(TestId(kT0, 1), "", 0).Add(Ds("t", "s", kT0, kT0)).Build();
  Add(a);
  EXPECT_EQ(index_.PartitionCount(), 1u);
  v1::ReplaceBlocksRequest del;
  del.mutable_tombstones()->set_name("d");
  del.mutable_tombstones()->add_blocks(a.id());
  ASSERT_TRUE(index_.ReplaceBlocks(del).ok());
  EXPECT_EQ(index_.PartitionCount(), 0u);
  EXPECT_EQ(index_.BlockCount(), 0u);
}

TEST_F(BlockIndexTest, BlocksSpanningPartitionsAreFound) {
  // Partitions are keyed by min_time; a block reaching into later windows (back-filled or long
  // compacted data) must still be found from a query of the later window only.
  v1::BlockMeta a = BlockBuilder(TestId(kT0 + 100 * kHour, 1), "t", 0, 2)
                        .Add(Ds("t", "s", kT0, kT0 + 30 * kHour))
                        .Build();
  Add(a);
  EXPECT_EQ(Q({"t"}, kT0 + 29 * kHour, kT0 + 29 * kHour, "{}"), "0000000001:s");
  // Negative times partition with floor division.
  Add(BlockBuilder(TestId(5, 2), "t", 0).Add(Ds("t", "s", -kHour, -1)).Build());
  EXPECT_EQ(Q({"t"}, -10, -5, "{}"), "0000000002:s");
  EXPECT_EQ(Q({"t"}, 0, 5, "{}"), "");
}

TEST_F(BlockIndexTest, GetBlockMetadataReturnsFullBlocks) {
  AddFixture();
  v1::GetBlockMetadataRequest req;
  req.mutable_blocks()->set_tenant("");
  req.mutable_blocks()->set_shard(1);
  req.mutable_blocks()->add_blocks(TestId(kT0, 7));  // unknown
  req.mutable_blocks()->add_blocks(TestId(kT0, 1));
  req.mutable_blocks()->add_blocks(TestId(kT0 + 10 * kHour, 2));  // other tenant shard
  auto r = index_.GetBlockMetadata(req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->blocks_size(), 1);
  // Same content as what was added (string refs may differ; compare resolved).
  v1::BlockMeta want = BlockBuilder(TestId(kT0, 1), "", 1)
                           .Add(Ds("tenant-a", "api", kT0, kT0 + 1000, {kCpu, kAlloc}, "prod"))
                           .Add(Ds("tenant-a", "db", kT0, kT0 + 2000, {kCpu}, "dev"))
                           .Add(Ds("tenant-b", "api", kT0 + 500, kT0 + 900, {kCpu}))
                           .Build();
  const v1::BlockMeta& got = r->blocks(0);
  EXPECT_EQ(got.size(), want.size());
  EXPECT_EQ(got.min_time(), want.min_time());
  EXPECT_EQ(got.max_time(), want.max_time());
  ASSERT_EQ(got.datasets_size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Decode(got, got.datasets(i)), Decode(want, want.datasets(i)));
    EXPECT_EQ(got.datasets(i).table_of_contents_size(), want.datasets(i).table_of_contents_size());
  }
  req.mutable_blocks()->add_blocks("bad");
  EXPECT_EQ(index_.GetBlockMetadata(req).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(BlockIndexTest, TenantsAndStats) {
  AddFixture();
  v1::GetTenantsResponse tenants = index_.GetTenants();
  ASSERT_EQ(tenants.tenant_ids_size(), 2);
  EXPECT_EQ(tenants.tenant_ids(0), "tenant-a");
  EXPECT_EQ(tenants.tenant_ids(1), "tenant-b");
  v1::GetTenantRequest req;
  req.set_tenant_id("tenant-a");
  v1::TenantStats a = index_.GetTenant(req).stats();
  EXPECT_TRUE(a.data_ingested());
  EXPECT_EQ(a.block_count(), 2u);
  EXPECT_EQ(a.dataset_count(), 3u);
  EXPECT_EQ(a.data_bytes(), 300u);
  EXPECT_EQ(a.oldest_profile_time(), kT0);
  EXPECT_EQ(a.newest_profile_time(), kT0 + 11 * kHour);
  req.set_tenant_id("nobody");
  EXPECT_FALSE(index_.GetTenant(req).stats().data_ingested());
}

TEST_F(BlockIndexTest, SnapshotRoundTrip) {
  AddFixture();
  v1::ReplaceBlocksRequest del;
  del.mutable_tombstones()->set_name("d");
  del.mutable_tombstones()->add_blocks(TestId(kT0, 42));
  ASSERT_TRUE(index_.ReplaceBlocks(del).ok());
  std::string snap = index_.EncodeSnapshot();

  // Every record is exactly what protobuf writes for it (the writer frames the parts itself).
  {
    ByteReader in(std::string_view(snap).substr(8, snap.size() - 16));
    int records = 0;
    for (uint64_t length = 0; in.ReadVarint64(&length) && length > 0; ++records) {
      std::string_view raw;
      ASSERT_TRUE(in.ReadBytes(length, &raw));
      v1::IndexSnapshotRecord record;
      ASSERT_TRUE(record.ParseFromArray(raw.data(), static_cast<int>(raw.size())));
      EXPECT_EQ(record.SerializeAsString(), raw) << "record " << records;
    }
    EXPECT_TRUE(in.empty());
    EXPECT_GE(records, 4);  // shard headers, block chunks, the tombstone
  }

  BlockIndex restored;
  ASSERT_TRUE(restored.RestoreSnapshot(snap).ok());
  EXPECT_EQ(restored.EncodeSnapshot(), snap);  // identical state, byte for byte
  EXPECT_EQ(restored.BlockCount(), 2u);
  EXPECT_EQ(restored.BlockCountsByLevel(), (std::vector<uint64_t>{1, 1}));
  auto q = Query({"tenant-a", "tenant-b"}, kT0, kT0 + 12 * kHour, "{env=~\"prod.*\"}", {"env"});
  EXPECT_EQ(restored.QueryMetadata(q)->SerializeAsString(),
            index_.QueryMetadata(q)->SerializeAsString());
  ASSERT_EQ(restored.Tombstones().size(), 1u);
  EXPECT_EQ(restored.AddBlock(BlockBuilder(TestId(kT0, 42), "", 0).Build()).value(),
            BlockIndex::AddResult::kTombstoned);

  // Corruption is detected and leaves the index untouched.
  for (size_t pos : {size_t{0}, size_t{20}, snap.size() / 2, snap.size() - 1}) {
    std::string bad = snap;
    bad[pos] ^= 0x40;
    EXPECT_EQ(restored.RestoreSnapshot(bad).code(), absl::StatusCode::kDataLoss) << pos;
  }
  EXPECT_FALSE(restored.RestoreSnapshot(snap.substr(0, snap.size() - 3)).ok());
  EXPECT_EQ(restored.BlockCount(), 2u);
  // Restoring an empty index's snapshot empties it.
  ASSERT_TRUE(restored.RestoreSnapshot(BlockIndex().EncodeSnapshot()).ok());
  EXPECT_EQ(restored.BlockCount(), 0u);
  EXPECT_TRUE(restored.BlockCountsByLevel().empty());
}

TEST_F(BlockIndexTest, SnapshotChunksLargeShards) {
  for (uint64_t i = 0; i < BlockIndex::kSnapshotChunkBlocks + 10; ++i) {
    Add(BlockBuilder(TestId(kT0, i + 1), "", 0)
            .Add(Ds("t", "svc-" + std::to_string(i % 7), kT0 + i, kT0 + i + 1))
            .Build());
  }
  BlockIndex restored;
  ASSERT_TRUE(restored.RestoreSnapshot(index_.EncodeSnapshot()).ok());
  EXPECT_EQ(restored.BlockCount(), BlockIndex::kSnapshotChunkBlocks + 10);
  auto q = Query({"t"}, kT0, kT0 + 100000, "{service_name=\"svc-3\"}");
  EXPECT_EQ(restored.QueryMetadata(q)->SerializeAsString(),
            index_.QueryMetadata(q)->SerializeAsString());
}

// A capture serialised after many later writes (new blocks and strings in the same shard,
// removals, new tombstones) gives the bytes a synchronous encode gave when it was taken, and
// the live index is unaffected by the capture. One shard with thousands of blocks and strings
// spans many block chunks and string-table segments.
TEST_F(BlockIndexTest, CaptureSerialisesTheStateItWasTakenIn) {
  BlockIndex twin;
  auto block = [](uint64_t i) {
    return BlockBuilder(TestId(kT0, i + 1), "", 0)
        .Add(Ds("t", "svc-" + std::to_string(i), kT0 + static_cast<int64_t>(i), kT0 + 1000000))
        .Build();
  };
  auto replace = [](const std::string& name, uint64_t from, uint64_t to) {
    v1::ReplaceBlocksRequest req;
    req.mutable_tombstones()->set_name(name);
    for (uint64_t i = from; i < to; ++i) req.mutable_tombstones()->add_blocks(TestId(kT0, i + 1));
    return req;
  };
  for (uint64_t i = 0; i < 3000; ++i) {
    Add(block(i));
    ASSERT_TRUE(twin.AddBlock(block(i)).ok());
  }
  ASSERT_TRUE(index_.ReplaceBlocks(replace("first", 100, 200)).ok());
  ASSERT_TRUE(twin.ReplaceBlocks(replace("first", 100, 200)).ok());
  const std::string want = twin.EncodeSnapshot();
  std::unique_ptr<IndexCapture> capture = index_.Capture();
  EXPECT_EQ(capture->block_count(), 2900u);
  EXPECT_EQ(capture->shard_count(), 1u);

  for (uint64_t i = 3000; i < 6000; ++i) Add(block(i));
  ASSERT_TRUE(index_.ReplaceBlocks(replace("second", 0, 2500)).ok());
  index_.DeleteTombstones({"first"});
  std::unique_ptr<IndexCapture> second = index_.Capture();
  ASSERT_TRUE(index_.ReplaceBlocks(replace("third", 2500, 6000)).ok());  // empties the shard
  EXPECT_EQ(index_.BlockCount(), 0u);

  std::string got;
  size_t pieces = 0;
  capture->SerializeTo([&](std::string_view piece) {
    got.append(piece);
    ++pieces;
  });
  EXPECT_TRUE(got == want) << "capture differs from the state it was taken in";
  BlockIndex restored;
  ASSERT_TRUE(restored.RestoreSnapshot(got).ok());
  EXPECT_EQ(restored.BlockCount(), 2900u);
  std::string second_bytes;
  second->SerializeTo([&](std::string_view piece) { second_bytes.append(piece); });
  ASSERT_TRUE(restored.RestoreSnapshot(second_bytes).ok());
  EXPECT_EQ(restored.BlockCount(), 3500u);
  ASSERT_EQ(restored.Tombstones().size(), 1u);
  EXPECT_EQ(restored.Tombstones()[0].name(), "second");
  // A snapshot this small comes in one piece; large ones in pieces (below).
  EXPECT_EQ(pieces, 1u);
}

// A large index is passed on in pieces of about kPieceBytes, never as one buffer, and the pieces
// join to exactly the snapshot.
TEST_F(BlockIndexTest, CaptureIsSerialisedInPieces) {
  for (uint64_t i = 0; i < 40000; ++i) {
    Add(BlockBuilder(TestId(kT0, i + 1), "", static_cast<uint32_t>(i % 4))
            .Add(Ds("t", "svc-" + std::to_string(i % 100), kT0 + static_cast<int64_t>(i),
                    kT0 + 1000000))
            .Build());
  }
  const std::string want = index_.EncodeSnapshot();
  ASSERT_GT(want.size(), 3 * IndexCapture::kPieceBytes);
  std::string got;
  std::vector<size_t> sizes;
  index_.Capture()->SerializeTo([&](std::string_view piece) {
    got.append(piece);
    sizes.push_back(piece.size());
  });
  EXPECT_TRUE(got == want);
  ASSERT_GE(sizes.size(), 3u);
  for (size_t i = 0; i + 1 < sizes.size(); ++i) {
    EXPECT_GE(sizes[i], IndexCapture::kPieceBytes) << "piece " << i;
    EXPECT_LT(sizes[i], 2 * IndexCapture::kPieceBytes) << "piece " << i;
  }
  BlockIndex restored;
  ASSERT_TRUE(restored.RestoreSnapshot(got).ok());
  EXPECT_EQ(restored.BlockCount(), 40000u);
}

}  // namespace
}  // namespace embers::metastore
