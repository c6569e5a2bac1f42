// Unit tests of the distributor's side of remote segment-writers: the circuit breaker's states,
// the fallback order (same shard, next writers, at most 6), and the push encoding round trip.
#include <gtest/gtest.h>

#include "segmentwriter/circuit_breaker.h"
#include "segmentwriter/remote_segment_writers.h"

namespace embers::segmentwriter {
namespace {

TEST(CircuitBreaker, OpensAfterConsecutiveFailuresAndProbesWhenTheTimeIsUp) {
  absl::Time now = absl::FromUnixSeconds(1000);
  CircuitBreaker b(
      {.failure_threshold = 3, .open_for = absl::Seconds(1), .max_open_for = absl::Seconds(4)},
      [&now] { return now; });
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(b.Allow());
    b.RecordFailure();
  }
  b.RecordSuccess();  // a success resets the count
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(b.Allow());
    b.RecordFailure();
  }
  EXPECT_EQ(b.state(), CircuitBreaker::State::kOpen);
  EXPECT_FALSE(b.Allow());
  now += absl::Seconds(1);
  EXPECT_TRUE(b.Allow()) << "one probe after open_for";
  EXPECT_FALSE(b.Allow()) << "only one probe at a time";
  b.RecordFailure();
  now += absl::Seconds(1);
  EXPECT_FALSE(b.Allow()) << "a failed probe doubles the open time";
  now += absl::Seconds(1);
  EXPECT_TRUE(b.Allow());
  b.RecordSuccess();
  EXPECT_EQ(b.state(), CircuitBreaker::State::kClosed);
  EXPECT_TRUE(b.Allow());
}

TEST(RemoteSegmentWriters, FallbackKeepsTheShardAndTriesAtMostSixWriters) {
  std::vector<std::string> addresses;
  for (int i = 0; i < 8; ++i) addresses.push_back("127.0.0.1:" + std::to_string(10000 + i));
  auto writers = RemoteSegmentWriters::Create(addresses, {.tokens_per_writer = 4});
  ASSERT_TRUE(writers.ok());
  EXPECT_EQ((*writers)->shard_count(), 32u);
  // Shard 13 belongs to writer 3 (shards 12..15); then writers 4, 5, 6, 7, 0.
  EXPECT_EQ((*writers)->Candidates(13),
            (std::vector<std::string>{addresses[3], addresses[4], addresses[5], addresses[6],
                                      addresses[7], addresses[0]}));
  auto two = RemoteSegmentWriters::Create({"a:1", "b:2"}, {.tokens_per_writer = 4});
  ASSERT_TRUE(two.ok());
  EXPECT_EQ((*two)->Candidates(5), (std::vector<std::string>{"b:2", "a:1"}));
  EXPECT_FALSE(RemoteSegmentWriters::Create({}).ok());
}

TEST(RemoteSegmentWriters, DiscoveredWritersKeepTheirSlotsAndSkipThoseNotAccepting) {
  auto writers = RemoteSegmentWriters::CreateDiscovered({.tokens_per_writer = 4});
  ASSERT_TRUE(writers.ok());
  EXPECT_EQ((*writers)->shard_count(), 0u);
  EXPECT_TRUE((*writers)->Candidates(0).empty());
  // Slot 1 is a hole (its writer left), slot 2 is leaving: their shards go to the next writers
  // in slot order, under the same shard ids.
  ASSERT_TRUE((*writers)
                  ->SetWriters({{.address = "a:1", .slot = 0},
                                {.address = "c:3", .slot = 2, .accepting = false},
                                {.address = "d:4", .slot = 3}})
                  .ok());
  EXPECT_EQ((*writers)->shard_count(), 16u);
  EXPECT_EQ((*writers)->accepting_writers(), 2u);
  EXPECT_EQ((*writers)->Candidates(5), (std::vector<std::string>{"d:4", "a:1"}));
  EXPECT_EQ((*writers)->Candidates(9), (std::vector<std::string>{"d:4", "a:1"}));
  EXPECT_EQ((*writers)->Candidates(13), (std::vector<std::string>{"d:4", "a:1"}));
  EXPECT_EQ((*writers)->Candidates(1), (std::vector<std::string>{"a:1", "d:4"}));
  // A joining writer at the end grows the shard count; nothing else moves.
  ASSERT_TRUE((*writers)
                  ->SetWriters({{.address = "a:1", .slot = 0},
                                {.address = "c:3", .slot = 2},
                                {.address = "d:4", .slot = 3},
                                {.address = "e:5", .slot = 4}})
                  .ok());
  EXPECT_EQ((*writers)->shard_count(), 20u);
  EXPECT_EQ((*writers)->Candidates(9)[0], "c:3");
  EXPECT_EQ((*writers)->Candidates(17)[0], "e:5");
  // Bad sets change nothing.
  EXPECT_FALSE((*writers)->SetWriters({{.address = "a:1", .slot = 0}, {.address = "b:2"}}).ok());
  EXPECT_FALSE((*writers)->SetWriters({{.address = "", .slot = 0}}).ok());
  EXPECT_EQ((*writers)->shard_count(), 20u);
}

TEST(RemoteSegmentWriters, APushWithNoWriterFailsUnavailable) {
  auto writers = RemoteSegmentWriters::CreateDiscovered({.tokens_per_writer = 4});
  ASSERT_TRUE(writers.ok());
  absl::Status got = absl::OkStatus();
  (*writers)->Push("t", 0, {}, [&](absl::Status s) { got = s; });
  EXPECT_EQ(got.code(), absl::StatusCode::kUnavailable);
}

TEST(RemoteSegmentWriters, PushRequestRoundTrips) {
  pprof::Profile p;
  p.AddString("");
  p.sample_types.push_back({p.AddString("cpu"), p.AddString("nanoseconds")});
  p.functions.push_back({.id = 1, .name = p.AddString("main")});
  p.lines.push_back({.function_id = 1, .line = 3});
  p.locations.push_back({.id = 1, .address = 0x10, .line_begin = 0, .line_count = 1});
  p.location_ids.push_back(1);
  p.values.push_back(42);
  p.samples.push_back(
      {.location_begin = 0, .location_count = 1, .value_begin = 0, .value_count = 1});
  ProfileToWrite w;
  w.service = "api";
  w.series = model::Labels({{"service_name", "api"}, {"__profile_type__", "t"}});
  w.timestamp_ms = 1234;
  w.profile = p;
  w.span_ids = {7};
  w.trace_ids = {{.hi = 0x7c9e66797425440d, .lo = 0xe944be07fc1f90ae}};
  const swv1::PushRequest req = EncodePush("tenant", 5, {w});
  EXPECT_EQ(req.shard(), 5u);
  absl::StatusOr<std::vector<ProfileToWrite>> back = DecodePush(req);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0].series, w.series);
  EXPECT_EQ((*back)[0].timestamp_ms, 1234);
  EXPECT_EQ((*back)[0].profile.values, std::vector<int64_t>{42});
  EXPECT_EQ((*back)[0].span_ids, std::vector<uint64_t>{7});
  EXPECT_EQ((*back)[0].trace_ids, w.trace_ids);

  swv1::PushRequest bad = req;
  bad.mutable_profiles(0)->set_profile("\xff\xff");
  EXPECT_EQ(DecodePush(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = req;
  bad.mutable_profiles(0)->add_span_ids(8);
  EXPECT_EQ(DecodePush(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = req;
  bad.mutable_profiles(0)->add_trace_ids(8);
  EXPECT_EQ(DecodePush(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace embers::segmentwriter
