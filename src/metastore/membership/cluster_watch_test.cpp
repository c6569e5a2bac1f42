#include "metastore/membership/cluster_watch.h"

#include <gtest/gtest.h>

#include <vector>

namespace embers::metastore {
namespace {

TEST(ClusterWatchTest, AnswersAtOnceWhenTheViewIsAlreadyNewer) {
  ClusterWatch w;
  std::vector<absl::Status> got;
  w.Wait(3, 4, absl::Now() + absl::Seconds(10), [&](absl::Status s) { got.push_back(s); });
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].ok());
  EXPECT_EQ(w.waiting(), 0u);
}

TEST(ClusterWatchTest, ParkedUntilANewerVersionOrTheDeadline) {
  ClusterWatch w;
  int answered = 0;
  const absl::Time now = absl::Now();
  w.Wait(4, 4, now + absl::Seconds(10), [&](absl::Status s) { answered += s.ok(); });
  w.Wait(9, 4, now + absl::Seconds(1), [&](absl::Status s) { answered += s.ok(); });
  w.Notify(4);
  EXPECT_EQ(answered, 0);
  w.Notify(5);  // only the first wanted > 4
  EXPECT_EQ(answered, 1);
  w.ExpireDue(now + absl::Milliseconds(999));
  EXPECT_EQ(answered, 1);
  w.ExpireDue(now + absl::Seconds(1));
  EXPECT_EQ(answered, 2);
  EXPECT_EQ(w.waiting(), 0u);
}

TEST(ClusterWatchTest, BoundedAndCancelledOnStop) {
  ClusterWatch w(2);
  std::vector<absl::StatusCode> codes;
  auto record = [&](absl::Status s) { codes.push_back(s.code()); };
  const absl::Time later = absl::Now() + absl::Seconds(10);
  w.Wait(1, 1, later, record);
  w.Wait(1, 1, later, record);
  w.Wait(1, 1, later, record);
  ASSERT_EQ(codes.size(), 1u);
  EXPECT_EQ(codes[0], absl::StatusCode::kResourceExhausted);
  w.CancelAll();
  ASSERT_EQ(codes.size(), 3u);
  EXPECT_EQ(codes[1], absl::StatusCode::kUnavailable);
  w.Wait(1, 1, later, record);
  EXPECT_EQ(codes.back(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace embers::metastore
