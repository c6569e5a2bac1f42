#include "query/go_pgo.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace embers::query {
namespace {

// Functions 1..5 named f1..f5, each at its own location (id = function id, address 0x10 * id);
// location 5 holds f5 at line 50. Stacks are leaf first.
google::v1::Profile Build(const std::vector<std::pair<std::vector<uint64_t>, int64_t>>& samples) {
  google::v1::Profile p;
  p.add_string_table("");
  for (uint64_t id = 1; id <= 5; ++id) {
    p.add_string_table("f" + std::to_string(id));
    google::v1::Function* f = p.add_function();
    f->set_id(id);
    f->set_name(static_cast<int64_t>(id));
    google::v1::Location* l = p.add_location();
    l->set_id(id);
    l->set_address(0x10 * id);
    google::v1::Line* line = l->add_line();
    line->set_function_id(id);
    line->set_line(static_cast<int64_t>(id) * 10);
  }
  for (const auto& [stack, value] : samples) {
    google::v1::Sample* s = p.add_sample();
    for (uint64_t id : stack) s->add_location_id(id);
    s->add_value(value);
  }
  return p;
}

// "f<leaf>:<line>;…;f<root>" → value, resolving ids through the profile.
std::map<std::string, int64_t> Stacks(const google::v1::Profile& p) {
  std::map<std::string, int64_t> out;
  for (const google::v1::Sample& s : p.sample()) {
    std::string key;
    for (uint64_t id : s.location_id()) {
      const google::v1::Location& l = p.location(static_cast<int>(id - 1));
      EXPECT_EQ(l.id(), id);
      const google::v1::Function& f = p.function(static_cast<int>(l.line(0).function_id() - 1));
      EXPECT_EQ(f.id(), l.line(0).function_id());
      if (!key.empty()) key += ";";
      key += p.string_table(static_cast<int>(f.name())) + ":" + std::to_string(l.line(0).line());
    }
    out[key] += s.value(0);
  }
  return out;
}

TEST(GoPgo, KeepsTheLeafMostLocationsAndMergesWhatBecameEqual) {
  google::v1::Profile p = Build({{{1, 2, 3}, 5}, {{1, 2, 4}, 7}, {{2, 3}, 1}, {{5}, 2}});
  types::v1::GoPGO pgo;
  pgo.set_keep_locations(2);
  ApplyGoPgo(pgo, &p);
  EXPECT_EQ(Stacks(p), (std::map<std::string, int64_t>{
                           {"f1:10;f2:20", 12}, {"f2:20;f3:30", 1}, {"f5:50", 2}}));
  // f4 is referenced by no sample any more: its location and function are gone, ids are 1..N.
  EXPECT_EQ(p.location_size(), 4);
  EXPECT_EQ(p.function_size(), 4);
}

TEST(GoPgo, AggregateCalleesClearsOnlyTheLeafLine) {
  // f2 is a leaf in one sample and a caller in another: only the leaf use loses its line.
  google::v1::Profile p = Build({{{2, 3}, 4}, {{1, 2}, 6}, {{2}, 1}});
  types::v1::GoPGO pgo;
  pgo.set_aggregate_callees(true);
  ApplyGoPgo(pgo, &p);
  EXPECT_EQ(Stacks(p),
            (std::map<std::string, int64_t>{{"f2:0;f3:30", 4}, {"f1:0;f2:20", 6}, {"f2:0", 1}}));
  int64_t total = 0;
  for (const auto& s : p.sample()) total += s.value(0);
  EXPECT_EQ(total, 11);
}

TEST(GoPgo, NothingAskedChangesNothingButMergesEqualStacks) {
  google::v1::Profile p = Build({{{1, 2}, 1}, {{1, 2}, 2}, {{3}, 4}});
  ApplyGoPgo(types::v1::GoPGO(), &p);
  EXPECT_EQ(Stacks(p), (std::map<std::string, int64_t>{{"f1:10;f2:20", 3}, {"f3:30", 4}}));
}

}  // namespace
}  // namespace embers::query
