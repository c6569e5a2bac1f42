#include "server/module_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "absl/synchronization/notification.h"

namespace embers::server {
namespace {

class RecordingModule : public Module {
 public:
  RecordingModule(std::string name, std::vector<std::string>* log, bool fail = false)
      : name_(std::move(name)), log_(log), fail_(fail) {}
  absl::Status Start() override {
    log_->push_back("start " + name_);
    return fail_ ? absl::UnavailableError("boom") : absl::OkStatus();
  }
  void Stop(absl::Time) override { log_->push_back("stop " + name_); }

 private:
  std::string name_;
  std::vector<std::string>* log_;
  bool fail_;
};

void RegisterGraph(ModuleManager& m, std::vector<std::string>* log, std::string failing = "") {
  auto add = [&](std::string name, std::vector<std::string> deps, bool visible = true) {
    bool fail = name == failing;
    m.Register(
        name, deps,
        [name, log, fail] { return std::make_unique<RecordingModule>(name, log, fail); }, visible);
  };
  add("server", {}, false);
  add("storage", {}, false);
  add("metastore", {"server", "storage"});
  add("segment-writer", {"server", "storage", "metastore"});
  add("distributor", {"server"});
  m.RegisterAlias("all", {"metastore", "distributor", "segment-writer"});
}

TEST(ModuleManager, StartsDependenciesFirstAndStopsInReverse) {
  std::vector<std::string> log;
  ModuleManager m;
  RegisterGraph(m, &log);
  ASSERT_TRUE(m.Start({"segment-writer"}).ok());
  EXPECT_TRUE(m.AllReady());
  m.Stop(absl::Now());
  EXPECT_THAT(log, testing::ElementsAre("start server", "start storage", "start metastore",
                                        "start segment-writer", "stop segment-writer",
                                        "stop metastore", "stop storage", "stop server"));
}

TEST(ModuleManager, AliasAndDeduplication) {
  std::vector<std::string> log;
  ModuleManager m;
  RegisterGraph(m, &log);
  auto order = m.Resolve({"all", "distributor"});
  ASSERT_TRUE(order.ok());
  EXPECT_THAT(*order, testing::ElementsAre("server", "storage", "metastore", "distributor",
                                           "segment-writer"));
}

TEST(ModuleManager, UnknownAndInternalTargetsAreRejected) {
  std::vector<std::string> log;
  ModuleManager m;
  RegisterGraph(m, &log);
  auto unknown = m.Resolve({"ingester"});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(unknown.status().message()), testing::HasSubstr("valid: all"));
  EXPECT_FALSE(m.Resolve({"server"}).ok());
  EXPECT_FALSE(m.Resolve({}).ok());
}

TEST(ModuleManager, FailedStartStopsWhatStarted) {
  std::vector<std::string> log;
  ModuleManager m;
  RegisterGraph(m, &log, "metastore");
  absl::Status st = m.Start({"metastore"});
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(log, testing::ElementsAre("start server", "start storage", "start metastore",
                                        "stop storage", "stop server"));
  EXPECT_FALSE(m.AllReady());
}

// A module that waits in Start() (as storage does for a bucket that does not open) is listed by
// States() as not ready, with its reason, so /ready can say why.
class WaitingModule : public Module {
 public:
  explicit WaitingModule(absl::Notification* release) : release_(release) {}
  absl::Status Start() override {
    release_->WaitForNotification();
    return absl::OkStatus();
  }
  void Stop(absl::Time) override {}
  std::string NotReadyReason() const override { return "cannot open the bucket: denied"; }

 private:
  absl::Notification* release_;
};

TEST(ModuleManager, TheModuleStartingNowIsReportedWithItsReason) {
  std::vector<std::string> log;
  absl::Notification release;
  ModuleManager m;
  m.Register("server", {}, [&] { return std::make_unique<RecordingModule>("server", &log); });
  m.Register("storage", {"server"}, [&] { return std::make_unique<WaitingModule>(&release); });
  absl::Status started;
  std::thread starter([&] { started = m.Start({"storage"}); });
  std::vector<ModuleState> states;
  while (states.size() < 2) states = m.States();  // until storage's Start() runs
  EXPECT_TRUE(states[0].ready);
  EXPECT_EQ(states[1].name, "storage");
  EXPECT_FALSE(states[1].ready);
  EXPECT_EQ(states[1].reason, "cannot open the bucket: denied");
  EXPECT_FALSE(m.AllReady());
  release.Notify();
  starter.join();
  EXPECT_TRUE(started.ok());
  EXPECT_TRUE(m.AllReady());
  m.Stop(absl::Now());
}

}  // namespace
}  // namespace embers::server
