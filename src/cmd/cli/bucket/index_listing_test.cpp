// ListIndex against a metastore node faked in process: gRPC services over a real BlockIndex, so
// the listing sees exactly what the index answers (segments once per tenant, only the queried
// tenant's datasets). A segment of two tenants is listed once with both; keys are the objects'
// keys; the level filter holds; answers too large for one message are split by time.
#include "cmd/cli/bucket/index_listing.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>

#include "base/strings.h"
#include "cmd/cli/bucket/bucket_testing.h"
#include "metastore/client/metastore_client.h"
#include "metastore/index/block_index.h"
#include "metastore/v1/compaction.grpc.pb.h"
#include "metastore/v1/query.grpc.pb.h"
#include "metastore/v1/tenant.grpc.pb.h"

namespace embers::cli {
namespace {

namespace v1 = ::metastore::v1;
using testing::MakeObject;
using testing::TestObject;

// The node's answers come from `index`; a QueryMetadata over more than `max_range_ms` answers
// RESOURCE_EXHAUSTED, as gRPC does for an answer larger than the client takes.
struct FakeNode {
  class Tenants final : public v1::TenantService::CallbackService {
   public:
    explicit Tenants(FakeNode* node) : node_(node) {}
    grpc::ServerUnaryReactor* GetTenants(grpc::CallbackServerContext* context,
                                         const v1::GetTenantsRequest*,
                                         v1::GetTenantsResponse* response) override {
      *response = node_->index.GetTenants();
      grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
      reactor->Finish(grpc::Status::OK);
      return reactor;
    }

   private:
    FakeNode* node_;
  };

  class Query final : public v1::MetadataQueryService::CallbackService {
   public:
    explicit Query(FakeNode* node) : node_(node) {}
    grpc::ServerUnaryReactor* QueryMetadata(grpc::CallbackServerContext* context,
                                            const v1::QueryMetadataRequest* request,
                                            v1::QueryMetadataResponse* response) override {
      grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
      node_->queries++;
      // Compared as unsigned: the whole range of int64 does not fit in one.
      const uint64_t width =
          static_cast<uint64_t>(request->end_time()) - static_cast<uint64_t>(request->start_time());
      if (width > node_->max_range_ms) {
        reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "too large"));
        return reactor;
      }
      absl::StatusOr<v1::QueryMetadataResponse> answer = node_->index.QueryMetadata(*request);
      if (!answer.ok()) {
        reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                     std::string(answer.status().message())));
        return reactor;
      }
      *response = *std::move(answer);
      reactor->Finish(grpc::Status::OK);
      return reactor;
    }

   private:
    FakeNode* node_;
  };

  // The tombstones, as the metastore's compaction service lists them when asked.
  class Compaction final : public v1::CompactionService::CallbackService {
   public:
    explicit Compaction(FakeNode* node) : node_(node) {}
    grpc::ServerUnaryReactor* GetCompactionStatus(
        grpc::CallbackServerContext* context, const v1::GetCompactionStatusRequest* request,
        v1::GetCompactionStatusResponse* response) override {
      if (request->include_tombstones()) {
        for (const v1::BlockTombstones& t : node_->index.Tombstones()) {
          *response->mutable_status()->add_tombstoned() = t;
        }
      }
      grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
      reactor->Finish(grpc::Status::OK);
      return reactor;
    }

   private:
    FakeNode* node_;
  };

  FakeNode() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&tenants);
    builder.RegisterService(&query);
    builder.RegisterService(&compaction);
    server = builder.BuildAndStart();
  }
  ~FakeNode() { server->Shutdown(); }

  std::unique_ptr<metastore::MetastoreClient> Client() {
    metastore::MetastoreClientOptions o;
    o.addresses = {StrCat("127.0.0.1:", port)};
    auto client = metastore::MetastoreClient::Create(std::move(o));
    EXPECT_TRUE(client.ok()) << client.status();
    return std::move(*client);
  }

  void Add(const TestObject& object) {
    auto added = index.AddBlock(object.meta);
    ASSERT_TRUE(added.ok()) << added.status();
  }

  metastore::BlockIndex index;
  uint64_t max_range_ms = UINT64_MAX;
  std::atomic<int> queries{0};
  Tenants tenants{this};
  Query query{this};
  Compaction compaction{this};
  int port = 0;
  std::unique_ptr<grpc::Server> server;
};

class IndexListingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const absl::Time t = absl::FromUnixMillis(1'750'000'000'000);  // whole ms, mid-2025
    objects_.push_back(MakeObject({.level = 0,
                                   .shard = 1,
                                   .tenants = {"tenant-a", "tenant-b"},
                                   .services = {"api", "web"},
                                   .created = t}));
    objects_.push_back(MakeObject(
        {.level = 1, .shard = 2, .tenants = {"tenant-a"}, .created = t + absl::Hours(30)}));
    objects_.push_back(MakeObject(
        {.level = 2, .shard = 1, .tenants = {"tenant-b"}, .created = t + absl::Hours(70)}));
    for (const TestObject& o : objects_) node_.Add(o);
    client_ = node_.Client();
  }

  // (key, tenants, datasets) of each listed block.
  static std::vector<std::tuple<std::string, std::vector<std::string>, uint32_t>> Summary(
      const IndexListing& listing) {
    std::vector<std::tuple<std::string, std::vector<std::string>, uint32_t>> out;
    for (const IndexedBlock& b : listing.blocks) out.emplace_back(b.key, b.tenants, b.datasets);
    return out;
  }

  FakeNode node_;
  std::vector<TestObject> objects_;
  std::unique_ptr<metastore::MetastoreClient> client_;
};

TEST_F(IndexListingTest, ListsEveryBlockOnceWithItsTenantsAndKey) {
  absl::StatusOr<IndexListing> listing = ListIndex(*client_, {});
  ASSERT_TRUE(listing.ok()) << listing.status();
  EXPECT_THAT(listing->tenants, ::testing::ElementsAre("tenant-a", "tenant-b"));
  using Row = std::tuple<std::string, std::vector<std::string>, uint32_t>;
  EXPECT_THAT(Summary(*listing),
              ::testing::ElementsAre(Row{objects_[2].key, {"tenant-b"}, 1},
                                     Row{objects_[1].key, {"tenant-a"}, 1},
                                     Row{objects_[0].key, {"tenant-a", "tenant-b"}, 4}));
  for (const IndexedBlock& b : listing->blocks) {
    const TestObject& o = *std::find_if(objects_.begin(), objects_.end(),
                                        [&](const TestObject& t) { return t.key == b.key; });
    EXPECT_EQ(b.id, o.meta.id());
    EXPECT_EQ(b.shard, o.meta.shard());
    EXPECT_EQ(b.level, o.meta.compaction_level());
    EXPECT_EQ(b.size, o.bytes.size());
    EXPECT_EQ(b.min_time_ms, o.meta.min_time());
    EXPECT_EQ(b.max_time_ms, o.meta.max_time());
    EXPECT_EQ(b.created_by, "test-host");
    EXPECT_EQ(b.format_version, 2u);
  }
}

TEST_F(IndexListingTest, ListsTheKeysOfTombstonedBlocksWhenAsked) {
  // Compaction replaced the level-1 block: it leaves the index, its object waits for deletion.
  v1::ReplaceBlocksRequest replace;
  v1::BlockTombstones* t = replace.mutable_tombstones();
  t->set_name("job-1");
  t->set_shard(objects_[1].meta.shard());
  t->set_tenant("tenant-a");
  t->set_compaction_level(1);
  t->add_blocks(objects_[1].meta.id());
  ASSERT_TRUE(node_.index.ReplaceBlocks(replace).ok());

  absl::StatusOr<IndexListing> plain = ListIndex(*client_, {});
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->blocks.size(), 2u);
  EXPECT_TRUE(plain->tombstoned_keys.empty());

  absl::StatusOr<IndexListing> listing = ListIndex(*client_, {.include_tombstones = true});
  ASSERT_TRUE(listing.ok()) << listing.status();
  EXPECT_EQ(listing->blocks.size(), 2u);
  EXPECT_THAT(listing->tombstoned_keys, ::testing::ElementsAre(objects_[1].key));
}

TEST_F(IndexListingTest, FiltersByTenantLevelAndTime) {
  absl::StatusOr<IndexListing> listing = ListIndex(*client_, {.tenants = {"tenant-a"}});
  ASSERT_TRUE(listing.ok()) << listing.status();
  using Row = std::tuple<std::string, std::vector<std::string>, uint32_t>;
  EXPECT_THAT(Summary(*listing), ::testing::ElementsAre(Row{objects_[1].key, {"tenant-a"}, 1},
                                                        Row{objects_[0].key, {"tenant-a"}, 2}));

  listing = ListIndex(*client_, {.level = 0});
  ASSERT_TRUE(listing.ok()) << listing.status();
  ASSERT_EQ(listing->blocks.size(), 1u);
  EXPECT_EQ(listing->blocks[0].key, objects_[0].key);

  listing = ListIndex(
      *client_, {.start_ms = objects_[1].meta.min_time(), .end_ms = objects_[1].meta.max_time()});
  ASSERT_TRUE(listing.ok()) << listing.status();
  ASSERT_EQ(listing->blocks.size(), 1u);
  EXPECT_EQ(listing->blocks[0].key, objects_[1].key);

  listing = ListIndex(*client_, {.query = "{service_name=\"web\"}"});
  ASSERT_TRUE(listing.ok()) << listing.status();
  using Row = std::tuple<std::string, std::vector<std::string>, uint32_t>;
  EXPECT_THAT(Summary(*listing),
              ::testing::ElementsAre(Row{objects_[0].key, {"tenant-a", "tenant-b"}, 2}));
}

TEST_F(IndexListingTest, SplitsQueriesWhoseAnswerIsTooLarge) {
  absl::StatusOr<IndexListing> whole = ListIndex(*client_, {});
  ASSERT_TRUE(whole.ok()) << whole.status();
  node_.max_range_ms = 3600 * 1000;  // an hour at most per query
  node_.queries = 0;
  absl::StatusOr<IndexListing> split =
      ListIndex(*client_, {.start_ms = objects_[0].meta.min_time() - 3'600'000,
                           .end_ms = objects_[2].meta.max_time() + 3'600'000});
  ASSERT_TRUE(split.ok()) << split.status();
  EXPECT_GT(node_.queries.load(), 2);
  EXPECT_EQ(Summary(*split), Summary(*whole));
}

TEST(IndexListingErrorTest, UnreachableMetastoreIsUnavailable) {
  metastore::MetastoreClientOptions o;
  o.addresses = {"127.0.0.1:1"};
  auto client = metastore::MetastoreClient::Create(std::move(o));
  ASSERT_TRUE(client.ok());
  absl::StatusOr<IndexListing> listing =
      ListIndex(**client, {.deadline = absl::Now() + absl::Milliseconds(300)});
  EXPECT_TRUE(absl::IsUnavailable(listing.status()) || absl::IsDeadlineExceeded(listing.status()))
      << listing.status();
  EXPECT_THAT(listing.status().message(), ::testing::HasSubstr("GetTenants"));
}

}  // namespace
}  // namespace embers::cli
