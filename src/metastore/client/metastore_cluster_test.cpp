// The metastore as a cluster of real processes: three `embers -target=metastore` nodes on
// loopback, driven over gRPC by MetastoreClient (issue 5's "must show").
//  - 10,000 blocks added concurrently through every node (followers redirect to the leader);
//    the leader is killed with SIGKILL in the middle; a new leader within 5 s; every
//    acknowledged block is returned by QueryMetadata asked at every live node and is in every
//    replica's index.
//  - The killed node restarts after the leader's log was truncated past it and catches up by
//    snapshot (small -metastore.raft.snapshot-threshold / -trailing-logs).
//  - Malformed requests answer InvalidArgument over gRPC; a query-frontend process started with
//    -metastore.address answers ProfileTypes from the cluster.
// The only timed assertion is the 5 s failover bound the issue asks for; every wait is bounded.
#include <atomic>
#include <future>
#include <set>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "base/strings.h"
#include "metastore/client/local_cluster.h"
#include "metastore/client/metastore_client.h"
#include "metastore/index/test_blocks.h"
#include "querier/v1/querier.grpc.pb.h"

namespace embers::metastore {
namespace {

using testing::BlockBuilder;
using testing::DatasetSpec;
using testing::TestId;

constexpr int kBlocks = 10000;
constexpr int kTrailing = 16;
constexpr char kProfileType[] = "process_cpu:cpu:nanoseconds:cpu:nanoseconds";

const int64_t kT0 = absl::ToUnixMillis(absl::Now()) - 3600 * 1000;

v1::BlockMeta Block(int i) {
  std::string service = StrCat("svc-", i % 5);
  int64_t t = kT0 + i * 100;
  return BlockBuilder(TestId(t, static_cast<uint64_t>(i) + 1), "anonymous",
                      static_cast<uint32_t>(i % 4))
      .Add(DatasetSpec{"anonymous",
                       service,
                       t,
                       t + 50,
                       {{{"__profile_type__", kProfileType}, {"service_name", service}}}})
      .Build();
}

template <class Fn>
absl::Status Sync(Fn call) {
  auto promise = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> f = promise->get_future();
  call([promise](absl::Status s) { promise->set_value(std::move(s)); });
  return f.get();  // every call has a deadline
}

std::unique_ptr<MetastoreClient> Client(std::vector<std::string> addresses) {
  MetastoreClientOptions o;
  o.addresses = std::move(addresses);
  o.call_timeout = absl::Seconds(15);
  absl::StatusOr<std::unique_ptr<MetastoreClient>> c = MetastoreClient::Create(std::move(o));
  EXPECT_TRUE(c.ok()) << c.status();
  return std::move(*c);
}

absl::Status AddBlock(MetastoreClient& client, const v1::BlockMeta& block) {
  v1::AddBlockRequest req;
  *req.mutable_block() = block;
  v1::AddBlockResponse resp;
  return Sync([&](UnaryDone done) { client.AddBlock(CallContext{}, req, &resp, std::move(done)); });
}

absl::StatusOr<v1::QueryMetadataResponse> Query(MetastoreClient& client,
                                                v1::QueryMetadataRequest req) {
  v1::QueryMetadataResponse resp;
  absl::Status s = Sync(
      [&](UnaryDone done) { client.QueryMetadata(CallContext{}, req, &resp, std::move(done)); });
  if (!s.ok()) return s;
  return resp;
}

v1::QueryMetadataRequest AllBlocks() {
  v1::QueryMetadataRequest req;
  req.add_tenant_id("anonymous");
  req.set_start_time(kT0 - 1);
  req.set_end_time(kT0 + 2 * kBlocks * 100);
  req.set_query("{}");
  return req;
}

// Polls `cond` every 20 ms for up to `timeout`.
bool WaitFor(const std::function<bool()>& cond, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (!cond()) {
    if (absl::Now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

TEST(MetastoreClusterProcessTest, FailoverCatchUpAndLeaderFollowingOverGrpc) {
  absl::StatusOr<std::unique_ptr<LocalCluster>> started =
      LocalCluster::Start({.embers_bin = EMBERS_BIN_PATH,
                           .nodes = 3,
                           .extra_args = {"-metastore.raft.snapshot-threshold=64",
                                          StrCat("-metastore.raft.trailing-logs=", kTrailing),
                                          "-metastore.raft.snapshot-interval=0"}});
  ASSERT_TRUE(started.ok()) << started.status();
  LocalCluster& cluster = **started;
  int leader = cluster.WaitLeader(absl::Seconds(20));
  ASSERT_GE(leader, 0) << cluster.LogTail(0);

  // Client i starts at node i (its first address) and knows the others for failover, so writes
  // arrive through the leader and both followers.
  std::vector<std::unique_ptr<MetastoreClient>> clients;
  for (int i = 0; i < 3; i++) {
    std::vector<std::string> addresses;
    for (int j = 0; j < 3; j++) addresses.push_back(cluster.grpc_address((i + j) % 3));
    clients.push_back(Client(addresses));
  }

  // A tenant setting written through a follower (redirected to the leader) must outlive the
  // leader it was written on.
  {
    v1::SetTenantSettingRequest set;
    set.set_tenant_id("tenant-a");
    set.mutable_setting()->set_name("theme");
    set.mutable_setting()->set_value("dark");
    v1::SetTenantSettingResponse stored;
    ASSERT_TRUE(Sync([&](UnaryDone done) {
                  clients[(leader + 1) % 3]->SetTenantSetting(CallContext{}, set, &stored,
                                                              std::move(done));
                }).ok());
    EXPECT_GT(stored.setting().modified_at_ms(), 0);
  }

  // 10,000 blocks from 3 clients x 16 threads. Acknowledgement times are recorded so the kill
  // splits them into before and after.
  std::vector<std::atomic<int64_t>> acked_at(kBlocks);
  std::vector<absl::Status> errors(kBlocks);
  std::atomic<int> next{0}, acked{0};
  std::vector<std::thread> writers;
  // Joined before the clients and the cluster go away, even when an assertion returns early.
  struct JoinAll {
    std::vector<std::thread>& threads;
    ~JoinAll() {
      for (std::thread& t : threads) {
        if (t.joinable()) t.join();
      }
    }
  } join_writers{writers};
  for (int c = 0; c < 3; c++) {
    for (int t = 0; t < 16; t++) {
      writers.emplace_back([&, c] {
        for (int i = next++; i < kBlocks; i = next++) {
          absl::Status s = AddBlock(*clients[c], Block(i));
          if (s.ok()) {
            acked_at[i] = absl::ToUnixNanos(absl::Now());
            acked++;
          } else {
            errors[i] = s;
          }
        }
      });
    }
  }
  ASSERT_TRUE(WaitFor([&] { return acked.load() >= kBlocks * 2 / 5; }, absl::Seconds(60)));
  absl::StatusOr<v1::NodeInfoResponse> before = cluster.NodeInfo(leader);
  ASSERT_TRUE(before.ok()) << before.status();
  absl::Time killed_at = absl::Now();
  cluster.Kill(leader);
  int64_t killed_ns = absl::ToUnixNanos(killed_at);
  int new_leader = cluster.WaitLeader(absl::Seconds(20));
  absl::Duration failover = absl::Now() - killed_at;
  ASSERT_GE(new_leader, 0);
  EXPECT_LT(failover, absl::Seconds(5));
  for (std::thread& w : writers) w.join();  // the writers retry through the failover

  {
    std::unique_ptr<MetastoreClient> c = Client({cluster.grpc_address(new_leader)});
    v1::GetTenantSettingsRequest get;
    get.set_tenant_id("tenant-a");
    v1::GetTenantSettingsResponse settings;
    ASSERT_TRUE(Sync([&](UnaryDone done) {
                  c->GetTenantSettings(CallContext{}, get, &settings, std::move(done));
                }).ok());
    ASSERT_EQ(settings.settings_size(), 1);
    EXPECT_EQ(settings.settings(0).value(), "dark");
  }

  int acked_before_kill = 0;
  for (int i = 0; i < kBlocks; i++) {
    ASSERT_TRUE(errors[i].ok()) << "block " << i << ": " << errors[i];
    if (acked_at[i] < killed_ns) acked_before_kill++;
  }
  EXPECT_EQ(acked.load(), kBlocks);
  std::printf("failover %s; %d of %d blocks acknowledged before the kill\n",
              absl::FormatDuration(failover).c_str(), acked_before_kill, kBlocks);

  // Every acknowledged block, asked at every live node (followers redirect to the leader, which
  // answers after a read barrier), and in every live replica's own index.
  std::set<std::string> expected;
  for (int i = 0; i < kBlocks; i++) expected.insert(Block(i).id());
  for (int i = 0; i < 3; i++) {
    if (!cluster.running(i)) continue;
    std::unique_ptr<MetastoreClient> c = Client({cluster.grpc_address(i)});
    absl::StatusOr<v1::QueryMetadataResponse> r = Query(*c, AllBlocks());
    ASSERT_TRUE(r.ok()) << "node " << i << ": " << r.status();
    std::set<std::string> got;
    for (const v1::BlockMeta& b : r->blocks()) got.insert(b.id());
    EXPECT_EQ(got, expected) << "asked at node " << i;
    EXPECT_TRUE(WaitFor(
        [&] {
          absl::StatusOr<v1::NodeInfoResponse> info = cluster.NodeInfo(i);
          return info.ok() && info->blocks() == static_cast<uint64_t>(kBlocks);
        },
        absl::Seconds(10)))
        << "replica " << i;
  }

  // Truncate the new leader's log past everything the killed node could hold: one entry per
  // sequential add until the leader's snapshot minus its trailing entries is beyond the old
  // leader's last log index (with a margin for entries appended after `before` was taken).
  uint64_t old_last = before->last_log_index() + 256;
  int extra = 0;
  for (;;) {
    absl::StatusOr<v1::NodeInfoResponse> info = cluster.NodeInfo(new_leader);
    ASSERT_TRUE(info.ok()) << info.status();
    if (info->snapshot_index() > old_last + kTrailing) break;
    ASSERT_LT(extra, 5000) << "the leader never snapshotted past index " << old_last;
    ASSERT_TRUE(AddBlock(*clients[new_leader], Block(kBlocks + extra)).ok());
    expected.insert(Block(kBlocks + extra).id());
    extra++;
  }
  uint64_t total = static_cast<uint64_t>(kBlocks + extra);

  ASSERT_TRUE(cluster.StartNode(leader).ok());
  EXPECT_TRUE(WaitFor(
      [&] {
        absl::StatusOr<v1::NodeInfoResponse> info = cluster.NodeInfo(leader);
        return info.ok() && info->blocks() == total && info->snapshot_index() > old_last;
      },
      absl::Seconds(20)))
      << cluster.LogTail(leader);
  // The leader's snapshot was installed after the restart (not only the node's own one loaded
  // while starting). The node logs that just after installing the state NodeInfo showed above,
  // so the line may still be on its way: wait for it.
  std::string log;
  size_t restarted = std::string::npos;
  EXPECT_TRUE(WaitFor(
      [&] {
        log = cluster.LogTail(leader, 1 << 20);
        restarted = log.rfind("metastore raft: started");
        return restarted != std::string::npos &&
               log.find("snapshot restored", restarted) != std::string::npos;
      },
      absl::Seconds(10)))
      << (restarted == std::string::npos ? log : log.substr(restarted));
  {
    std::unique_ptr<MetastoreClient> c = Client({cluster.grpc_address(leader)});
    absl::StatusOr<v1::QueryMetadataResponse> r = Query(*c, AllBlocks());
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(static_cast<uint64_t>(r->blocks_size()), total);
  }

  // Malformed requests: InvalidArgument over gRPC, with a message, wherever they are sent.
  for (int i = 0; i < 3; i++) {
    std::unique_ptr<MetastoreClient> c = Client({cluster.grpc_address(i)});
    v1::QueryMetadataRequest no_tenant = AllBlocks();
    no_tenant.clear_tenant_id();
    v1::QueryMetadataRequest bad_selector = AllBlocks();
    bad_selector.set_query("{service_name=~\"(\"}");
    v1::QueryMetadataRequest reversed = AllBlocks();
    reversed.set_end_time(reversed.start_time() - 1);
    for (const v1::QueryMetadataRequest& req : {no_tenant, bad_selector, reversed}) {
      absl::StatusOr<v1::QueryMetadataResponse> r = Query(*c, req);
      EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument)
          << req.ShortDebugString() << " → " << r.status();
      EXPECT_FALSE(r.status().message().empty());
    }
    v1::BlockMeta bad = Block(0);
    bad.set_id("not-a-ulid");
    EXPECT_EQ(AddBlock(*c, bad).code(), absl::StatusCode::kInvalidArgument);
  }

  // A query-frontend process with -metastore.address answers from the cluster.
  int fe_http = FreeLoopbackPort(), fe_grpc = FreeLoopbackPort();
  absl::StatusOr<pid_t> fe = cluster.Spawn(
      "frontend",
      {"-target=query-frontend", "-server.http-listen-address=127.0.0.1",
       StrCat("-server.http-listen-port=", fe_http), "-server.grpc-listen-address=127.0.0.1",
       StrCat("-server.grpc-listen-port=", fe_grpc),
       StrCat("-storage.filesystem.dir=", cluster.dir(), "/frontend-bucket"),
       StrCat("-metastore.address=", Join(cluster.grpc_addresses(), ","))});
  ASSERT_TRUE(fe.ok()) << fe.status();
  auto stub = querier::v1::QuerierService::NewStub(
      grpc::CreateChannel(StrCat("127.0.0.1:", fe_grpc), grpc::InsecureChannelCredentials()));
  querier::v1::ProfileTypesResponse types;
  grpc::Status last;
  EXPECT_TRUE(WaitFor(
      [&] {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        querier::v1::ProfileTypesRequest req;
        req.set_start(kT0 - 1);
        req.set_end(kT0 + 2 * kBlocks * 100);
        last = stub->ProfileTypes(&ctx, req, &types);
        return last.ok();
      },
      absl::Seconds(20)))
      << last.error_message();
  ASSERT_EQ(types.profile_types_size(), 1) << types.ShortDebugString();
  EXPECT_EQ(types.profile_types(0).id(), kProfileType);
}

}  // namespace
}  // namespace embers::metastore
