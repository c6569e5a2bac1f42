#include "pprof/normalize.h"

#include <gtest/gtest.h>

#include "google/v1/profile.pb.h"
#include "pprof/decoder.h"

namespace embers::pprof {
namespace {

// Strings: 0 "", 1 cpu, 2 nanoseconds, 3 f1, 4 f2, 5 thread, 6 a, 7 b, 8 count.
// Functions/locations 1..3 (location i → function i).
google::v1::Profile Base() {
  google::v1::Profile p;
  for (const char* s : {"", "cpu", "nanoseconds", "f1", "f2", "thread", "a", "b", "count"}) {
    p.add_string_table(s);
  }
  auto* st = p.add_sample_type();
  st->set_type(1);
  st->set_unit(2);
  st = p.add_sample_type();
  st->set_type(8);
  st->set_unit(8);
  for (int i = 1; i <= 3; ++i) {
    auto* f = p.add_function();
    f->set_id(i);
    f->set_name(i == 3 ? 3 : 2 + i);
    auto* loc = p.add_location();
    loc->set_id(i);
    loc->add_line()->set_function_id(i);
  }
  return p;
}

void AddSample(google::v1::Profile* p, std::vector<uint64_t> locs, std::vector<int64_t> values,
               std::vector<std::pair<int64_t, int64_t>> labels = {}, int64_t num_label_key = 0) {
  auto* s = p->add_sample();
  for (uint64_t l : locs) s->add_location_id(l);
  for (int64_t v : values) s->add_value(v);
  for (auto [k, v] : labels) {
    auto* l = s->add_label();
    l->set_key(k);
    l->set_str(v);
  }
  if (num_label_key != 0) {
    auto* l = s->add_label();
    l->set_key(num_label_key);
    l->set_num(123);
  }
}

Profile DecodeOk(const google::v1::Profile& ref) {
  auto p = Decode(ref.SerializeAsString());
  EXPECT_TRUE(p.ok()) << p.status();
  return *std::move(p);
}

TEST(Normalize, MergesDropsAndFillsTime) {
  auto ref = Base();
  AddSample(&ref, {1, 2}, {10, 1}, {{5, 6}});
  AddSample(&ref, {1, 2}, {5, 1}, {{5, 6}}, /*num_label_key=*/7);  // numeric label dropped → same
  AddSample(&ref, {1, 2}, {7, 1}, {{5, 7}});                       // other label: kept apart
  AddSample(&ref, {2}, {0, 0});                                    // all zero: dropped
  AddSample(&ref, {3}, {-5, 0});                                   // negative: dropped
  AddSample(&ref, {3, 1}, {0, 2});                                 // one positive value: kept
  AddSample(&ref, {2, 1}, {-1, -1});
  AddSample(&ref, {2, 1}, {3, 1});  // merged with the previous into (2, 0): kept
  Profile p = DecodeOk(ref);
  ASSERT_TRUE(Normalize(&p, NormalizeOptions{.now_nanos = 777}).ok());
  EXPECT_EQ(p.time_nanos, 777);
  ASSERT_EQ(p.samples.size(), 4u);
  EXPECT_EQ(p.SampleValues(p.samples[0])[0], 15);
  EXPECT_EQ(p.SampleValues(p.samples[0])[1], 2);
  EXPECT_EQ(p.SampleLabels(p.samples[0]).size(), 1u);  // numeric label gone
  EXPECT_EQ(p.SampleValues(p.samples[1])[0], 7);
  EXPECT_EQ(p.SampleValues(p.samples[2])[1], 2);
  EXPECT_EQ(p.SampleValues(p.samples[3])[0], 2);
  EXPECT_EQ(p.Total(0), 24);
}

TEST(Normalize, KeepsTimeWhenSet) {
  auto ref = Base();
  ref.set_time_nanos(5);
  AddSample(&ref, {1}, {1, 1});
  Profile p = DecodeOk(ref);
  ASSERT_TRUE(Normalize(&p).ok());
  EXPECT_EQ(p.time_nanos, 5);
}

TEST(Normalize, TruncatesDeepStacksKeepingRoot) {
  auto ref = Base();
  std::vector<uint64_t> stack;
  for (int i = 0; i < 1500; ++i) stack.push_back(i < 500 ? 1 : (i < 1499 ? 2 : 3));
  AddSample(&ref, stack, {1, 1});
  Profile p = DecodeOk(ref);
  ASSERT_TRUE(Normalize(&p).ok());
  auto locs = p.SampleLocations(p.samples[0]);
  ASSERT_EQ(locs.size(), 1000u);
  EXPECT_EQ(locs.back(), 3u);   // the root (last) frame survives
  EXPECT_EQ(locs.front(), 2u);  // the 500 leaf-most frames (id 1) are gone
}

TEST(Normalize, TruncatesLongSymbolsKeepingTheEnd) {
  auto ref = Base();
  std::string name = std::string(70000, 'x') + "\xc3\xa9" + "end";
  ref.set_string_table(3, name);
  AddSample(&ref, {1}, {1, 1});
  Profile p = DecodeOk(ref);
  ASSERT_TRUE(Normalize(&p, NormalizeOptions{.max_symbol_length = 4}).ok());
  // The last 4 bytes start inside "é"; the cut moves to the next character.
  EXPECT_EQ(p.strings[3], "end");
  ASSERT_TRUE(Normalize(&p).ok());
}

TEST(Normalize, Limits) {
  auto ref = Base();
  for (int i = 0; i < 5; ++i) AddSample(&ref, {1}, {1, 1});
  Profile p = DecodeOk(ref);
  auto st = Normalize(&p, NormalizeOptions{.max_samples = 4});
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("actual: 5, limit: 4"), std::string::npos) << st;

  ref = Base();
  AddSample(&ref, {1}, {1, 1}, {{5, 6}, {5, 7}, {6, 7}});
  p = DecodeOk(ref);
  st = Normalize(&p, NormalizeOptions{.max_labels_per_sample = 2});
  EXPECT_NE(st.message().find("sample labels limit"), std::string::npos) << st;

  ref = Base();
  ref.set_string_table(8, "alloc-samples");
  AddSample(&ref, {1}, {1, 1});
  p = DecodeOk(ref);
  st = Normalize(&p);
  EXPECT_NE(st.message().find("sample type contains -"), std::string::npos) << st;
}

}  // namespace
}  // namespace embers::pprof
