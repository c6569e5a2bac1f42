// DedupWindow against a plain FIFO model: lookups, eviction order, and captures that keep what
// the window held when they were taken while ids keep arriving (several chunks, sealed tails).
#include "metastore/raft/dedup_window.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "base/strings.h"

namespace embers::metastore::raft {
namespace {

using Model = std::deque<std::pair<std::string, absl::Status>>;

std::vector<std::string> Ids(const DedupWindow::Captured& c) {
  google::protobuf::RepeatedPtrField<v1::AppliedRequest> out;
  c.AppendTo(&out);
  std::vector<std::string> ids;
  for (const v1::AppliedRequest& r : out) {
    ids.push_back(StrCat(r.request_id(), "=", r.code(), ":", r.message()));
  }
  return ids;
}

std::vector<std::string> Ids(const Model& m) {
  std::vector<std::string> ids;
  for (const auto& [id, s] : m) {
    ids.push_back(StrCat(id, "=", static_cast<int>(s.code()), ":", ToStd(s.message())));
  }
  return ids;
}

TEST(DedupWindowTest, MatchesAFifoAndCapturesKeepTheirContents) {
  constexpr size_t kCapacity = 3000;
  DedupWindow window(kCapacity);
  Model model;
  std::mt19937 rng(11);
  std::vector<std::pair<DedupWindow::Captured, std::vector<std::string>>> captures;
  for (int i = 0; i < 20000; i++) {
    std::string id = StrCat("req-", i);
    absl::Status result =
        rng() % 7 == 0 ? absl::InvalidArgumentError(StrCat("bad ", i)) : absl::OkStatus();
    window.Remember(id, result);
    model.emplace_back(id, result);
    if (model.size() > kCapacity) model.pop_front();
    if (rng() % 500 == 0) captures.emplace_back(window.Capture(), Ids(model));
    ASSERT_EQ(window.size(), model.size());
  }
  for (const auto& [id, result] : model) {
    const absl::Status* found = window.Find(id);
    ASSERT_NE(found, nullptr) << id;
    EXPECT_EQ(*found, result);
  }
  EXPECT_EQ(window.Find("req-0"), nullptr);
  EXPECT_EQ(window.Find(StrCat("req-", 20000 - kCapacity - 1)), nullptr);
  ASSERT_FALSE(captures.empty());
  for (const auto& [capture, want] : captures) {
    EXPECT_EQ(capture.size(), want.size());
    EXPECT_EQ(Ids(capture), want);
  }

  // Restore from a capture's entries gives the same window back.
  google::protobuf::RepeatedPtrField<v1::AppliedRequest> entries;
  window.Capture().AppendTo(&entries);
  DedupWindow restored(kCapacity);
  restored.Restore(entries);
  EXPECT_EQ(Ids(restored.Capture()), Ids(model));
}

TEST(DedupWindowTest, ZeroCapacityRemembersNothing) {
  DedupWindow window(0);
  window.Remember("a", absl::OkStatus());
  EXPECT_EQ(window.size(), 0u);
  EXPECT_EQ(window.Find("a"), nullptr);
  EXPECT_EQ(window.Capture().size(), 0u);
}

}  // namespace
}  // namespace embers::metastore::raft
