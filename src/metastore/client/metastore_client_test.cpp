// MetastoreClient against fake metastore nodes (in-process gRPC servers): it follows a
// follower's redirect to the leader and remembers it, retries Unavailable on the next address
// with backoff until the deadline, and returns other errors at once.
#include "metastore/client/metastore_client.h"

#include <atomic>
#include <future>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "base/strings.h"
#include "metastore/client/local_cluster.h"
#include "metastore/v1/index.grpc.pb.h"

namespace embers::metastore {
namespace {

// Answers AddBlock with a fixed status and counts the calls.
class FakeIndexService final : public v1::IndexService::CallbackService {
 public:
  explicit FakeIndexService(grpc::Status answer) : answer_(std::move(answer)) {}
  grpc::ServerUnaryReactor* AddBlock(grpc::CallbackServerContext* context,
                                     const v1::AddBlockRequest*, v1::AddBlockResponse*) override {
    calls++;
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(answer_);
    return reactor;
  }
  std::atomic<int> calls{0};

 private:
  grpc::Status answer_;
};

struct FakeNode {
  explicit FakeNode(grpc::Status answer) : service(std::move(answer)) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
  }
  ~FakeNode() { server->Shutdown(); }
  std::string address() const { return StrCat("127.0.0.1:", port); }

  FakeIndexService service;
  int port = 0;
  std::unique_ptr<grpc::Server> server;
};

std::unique_ptr<MetastoreClient> Client(std::vector<std::string> addresses) {
  MetastoreClientOptions o;
  o.addresses = std::move(addresses);
  absl::StatusOr<std::unique_ptr<MetastoreClient>> c = MetastoreClient::Create(std::move(o));
  EXPECT_TRUE(c.ok()) << c.status();
  return std::move(*c);
}

absl::Status AddBlock(MetastoreClient& client, absl::Duration timeout) {
  v1::AddBlockRequest req;
  v1::AddBlockResponse resp;
  auto promise = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> f = promise->get_future();
  CallContext ctx;
  ctx.deadline = absl::Now() + timeout;
  client.AddBlock(ctx, req, &resp, [promise](absl::Status s) { promise->set_value(s); });
  return f.get();
}

TEST(MetastoreClientTest, FollowsTheRedirectToTheLeaderAndRemembersIt) {
  FakeNode leader(grpc::Status::OK);
  FakeNode follower(
      grpc::Status(grpc::StatusCode::UNAVAILABLE,
                   StrCat("not the metastore leader; leader_id=2 leader_address=127.0.0.1:1 "
                          "leader_grpc_address=",
                          leader.address())));
  std::unique_ptr<MetastoreClient> client = Client({follower.address()});
  ASSERT_TRUE(AddBlock(*client, absl::Seconds(10)).ok());
  EXPECT_EQ(client->leader_hint(), leader.address());
  EXPECT_EQ(follower.service.calls.load(), 1);
  // The next call goes straight to the leader.
  ASSERT_TRUE(AddBlock(*client, absl::Seconds(10)).ok());
  EXPECT_EQ(follower.service.calls.load(), 1);
  EXPECT_EQ(leader.service.calls.load(), 2);
}

TEST(MetastoreClientTest, TriesTheNextAddressWhenANodeIsDownOrHasNoLeader) {
  FakeNode no_leader(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                  "not the metastore leader; leader_id=0 leader_address="));
  FakeNode ok(grpc::Status::OK);
  std::unique_ptr<MetastoreClient> client =
      Client({StrCat("127.0.0.1:", FreeLoopbackPort()), no_leader.address(), ok.address()});
  ASSERT_TRUE(AddBlock(*client, absl::Seconds(10)).ok());
  EXPECT_EQ(no_leader.service.calls.load(), 1);
  EXPECT_EQ(client->leader_hint(), ok.address());
}

TEST(MetastoreClientTest, GivesUpAtTheDeadlineAndDoesNotRetryOtherErrors) {
  FakeNode no_leader(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                  "not the metastore leader; leader_id=0 leader_address="));
  std::unique_ptr<MetastoreClient> client = Client({no_leader.address()});
  absl::Status s = AddBlock(*client, absl::Milliseconds(300));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("metastore attempts"), absl::string_view::npos) << s;
  EXPECT_GT(no_leader.service.calls.load(), 1);

  FakeNode invalid(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad block"));
  client = Client({invalid.address()});
  s = AddBlock(*client, absl::Seconds(10));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "bad block");
  EXPECT_EQ(invalid.service.calls.load(), 1);
}

TEST(MetastoreClientTest, RejectsBadAddresses) {
  EXPECT_EQ(MetastoreClient::ParseAddresses(" a:1, ,b:2 "),
            (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_FALSE(MetastoreClient::Create({}).ok());
  MetastoreClientOptions o;
  o.addresses = {"host-without-port"};
  EXPECT_FALSE(MetastoreClient::Create(o).ok());
  o.addresses = {"host:99999"};
  EXPECT_FALSE(MetastoreClient::Create(o).ok());
}

}  // namespace
}  // namespace embers::metastore
