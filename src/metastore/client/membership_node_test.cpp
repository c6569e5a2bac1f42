// Cluster membership end to end on one metastore node (in-process): members register through
// MemberRegistration, a ClusterWatcher sees every change, leases expire into UNHEALTHY and then
// out of the table, a graceful leave removes at once, and the table survives a restart.
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/strings.h"
#include "base/test_ports.h"
#include "metastore/client/cluster_watcher.h"
#include "metastore/client/member_registration.h"
#include "metastore/raft/metastore_node.h"

namespace embers::metastore {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "embers-members-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

bool WaitFor(const std::function<bool()>& cond, absl::Duration timeout = absl::Seconds(20)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!cond()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

std::unique_ptr<MetastoreNode> OpenNode(const std::string& dir, int port, MemberLeaseOptions l) {
  MetastoreNodeOptions o;
  o.data_dir = dir;
  o.bind_address = StrCat("127.0.0.1:", port);
  o.membership = l;
  absl::StatusOr<std::unique_ptr<MetastoreNode>> node = MetastoreNode::Open(std::move(o));
  EXPECT_TRUE(node.ok()) << node.status();
  if (!node.ok()) return nullptr;
  EXPECT_TRUE((*node)->WaitReady(absl::Seconds(20)).ok());
  EXPECT_TRUE(WaitFor([&] { return (*node)->IsReadyLeader(); }));
  return std::move(*node);
}

std::unique_ptr<MemberRegistration> Writer(MembershipService* service, const std::string& id) {
  MemberRegistrationOptions o;
  o.member.set_id(id);
  o.member.set_kind(v1::MEMBER_KIND_SEGMENT_WRITER);
  o.member.set_address(id + ":9096");
  o.member.set_tokens(4);
  o.interval = absl::Milliseconds(100);
  return std::make_unique<MemberRegistration>(service, std::move(o));
}

// The latest view a watcher reported, by member id → state ("" when absent).
class ViewRecorder {
 public:
  void operator()(const v1::ClusterView& view) {
    std::lock_guard<std::mutex> lock(mu_);
    view_ = view;
    views_++;
  }
  v1::MemberState State(const std::string& id) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const v1::Member& m : view_.members()) {
      if (m.id() == id) return m.state();
    }
    return v1::MEMBER_STATE_UNSPECIFIED;
  }
  uint32_t Slot(const std::string& id) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const v1::Member& m : view_.members()) {
      if (m.id() == id) return m.slot();
    }
    return UINT32_MAX;
  }

 private:
  mutable std::mutex mu_;
  v1::ClusterView view_;
  int views_ = 0;
};

TEST(MembershipNodeTest, RegisterWatchLeaveExpireAndRestart) {
  TempDir dir;
  const int port = embers::testing::FreeLoopbackPort();
  const MemberLeaseOptions leases{.lease = absl::Milliseconds(600),
                                  .forget_after = absl::Seconds(2)};
  std::unique_ptr<MetastoreNode> node = OpenNode(dir.path(), port, leases);
  ASSERT_NE(node, nullptr);

  auto recorder = std::make_shared<ViewRecorder>();
  ClusterWatcher watcher(node->membership_service(), absl::Seconds(2));
  watcher.AddListener([recorder](const v1::ClusterView& v) { (*recorder)(v); });
  watcher.Start();

  auto w1 = Writer(node->membership_service(), "w1");
  auto w2 = Writer(node->membership_service(), "w2");
  const absl::Time joined = absl::Now();
  w1->Start();
  ASSERT_TRUE(WaitFor([&] { return recorder->State("w1") == v1::MEMBER_STATE_ACTIVE; }));
  std::printf("join visible to the watcher after %lld ms\n",
              static_cast<long long>(absl::ToInt64Milliseconds(absl::Now() - joined)));
  w2->Start();
  ASSERT_TRUE(WaitFor([&] { return recorder->State("w2") == v1::MEMBER_STATE_ACTIVE; }));
  EXPECT_EQ(recorder->Slot("w1"), 0u);
  EXPECT_EQ(recorder->Slot("w2"), 1u);
  EXPECT_TRUE(w1->registered());
  EXPECT_EQ(w2->slot(), 1u);

  // Graceful leave: LEAVING first, then gone; the slot is free for the next writer.
  ASSERT_TRUE(w1->SetLeaving(absl::Now() + absl::Seconds(5)).ok());
  ASSERT_TRUE(WaitFor([&] { return recorder->State("w1") == v1::MEMBER_STATE_LEAVING; }));
  ASSERT_TRUE(w1->Leave(absl::Now() + absl::Seconds(5)).ok());
  ASSERT_TRUE(WaitFor([&] { return recorder->State("w1") == v1::MEMBER_STATE_UNSPECIFIED; }));
  auto w3 = Writer(node->membership_service(), "w3");
  w3->Start();
  ASSERT_TRUE(WaitFor([&] { return recorder->State("w3") == v1::MEMBER_STATE_ACTIVE; }));
  EXPECT_EQ(recorder->Slot("w3"), 0u);

  // A member that stops heartbeating (a crash): UNHEALTHY after the lease, keeping its slot,
  // then forgotten.
  w3.reset();
  ASSERT_TRUE(WaitFor([&] { return recorder->State("w3") == v1::MEMBER_STATE_UNHEALTHY; }));
  EXPECT_EQ(recorder->Slot("w3"), 0u);
  ASSERT_TRUE(WaitFor([&] { return recorder->State("w3") == v1::MEMBER_STATE_UNSPECIFIED; }));
  EXPECT_EQ(recorder->State("w2"), v1::MEMBER_STATE_ACTIVE);  // kept by its heartbeats

  // The table is replicated state: it survives a restart of the node.
  w2.reset();
  watcher.Stop();
  node.reset();
  node = OpenNode(dir.path(), port, {.lease = absl::Seconds(30), .forget_after = absl::Minutes(1)});
  ASSERT_NE(node, nullptr);
  v1::ClusterView after = node->replicated_membership()->ViewWithAges();
  ASSERT_EQ(after.members_size(), 1);
  EXPECT_EQ(after.members(0).id(), "w2");
  EXPECT_EQ(after.members(0).slot(), 1u);
}

TEST(MembershipNodeTest, BadHeartbeatsAreRefused) {
  TempDir dir;
  std::unique_ptr<MetastoreNode> node =
      OpenNode(dir.path(), embers::testing::FreeLoopbackPort(), MemberLeaseOptions{});
  ASSERT_NE(node, nullptr);
  v1::HeartbeatRequest req;
  req.mutable_member()->set_id("x");
  req.mutable_member()->set_kind(v1::MEMBER_KIND_SEGMENT_WRITER);
  req.mutable_member()->set_state(v1::MEMBER_STATE_ACTIVE);
  req.mutable_member()->set_address("no-port");
  v1::HeartbeatResponse resp;
  absl::Status got;
  node->membership_service()->Heartbeat(CallContext{}, req, &resp,
                                        [&](absl::Status s) { got = s; });
  EXPECT_EQ(got.code(), absl::StatusCode::kInvalidArgument);
  req.mutable_member()->set_address("x:1");
  req.mutable_member()->set_state(v1::MEMBER_STATE_UNHEALTHY);
  node->membership_service()->Heartbeat(CallContext{}, req, &resp,
                                        [&](absl::Status s) { got = s; });
  EXPECT_EQ(got.code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace embers::metastore
