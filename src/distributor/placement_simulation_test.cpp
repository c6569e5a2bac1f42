// Placement simulation (no network): how evenly a skewed load spreads over segment-writers with
// and without adaptive placement, and how much of it moves to another writer when a writer joins
// or leaves. The numbers are printed (and recorded as test properties) for docs/performance.md;
// the assertions are only properties that must hold whatever the hash values.
//
// The model is the cluster's: 500 segment-writers × 4 tokens; the writer in slot k owns shards
// [k × 4, (k + 1) × 4); N = (highest occupied slot + 1) × 4; a joining writer takes the lowest
// free slot, a leaving one frees its slot — the last slot shrinks N, another leaves a hole whose
// shards the next occupied slot serves. 100,000 services of 100 tenants ingest 1 GiB/s with
// Zipf-skewed rates (exponent 1.1); each has 1–50 series (the 100 largest 10–500: large services
// run on many pods). Adaptive placement is the leader's: an hour of segments fed to
// AdaptivePlacement, rules rebuilt every minute, the last rules applied through
// PlacementRulesTable.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "distributor/placement.h"
#include "distributor/placement_rules_table.h"
#include "metastore/placement/adaptive_placement.h"

namespace embers::distributor {
namespace {

constexpr uint32_t kWriters = 500;
constexpr uint32_t kTokens = 4;
constexpr uint32_t kServices = 100'000;
constexpr uint32_t kTenants = 100;
constexpr double kZipfExponent = 1.1;
constexpr double kTotalBytesPerSecond = 1 << 30;
constexpr int64_t kStartMs = 1'700'000'000'000;
// Segments are summarised per minute and the rules rebuilt every minute (the leader rebuilds them
// every 15 s, which only makes the counts follow sooner; a minute keeps this test short).
constexpr int64_t kTickMs = 60'000;
constexpr int kTicks = 60;  // an hour

// SplitMix64: a fixed pseudo-random function, so every run sees the same workload.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

struct Service {
  std::string tenant;
  std::string name;
  double bytes_per_second = 0;
  uint32_t first_series = 0;  // its series are [first_series, first_series + series)
  uint32_t series = 0;
};

struct Workload {
  std::vector<Service> services;
  std::vector<uint32_t> series_service;  // per series: its service
  std::vector<uint64_t> series_fingerprint;
  std::vector<double> series_load;  // bytes/s
};

Workload MakeWorkload() {
  Workload w;
  w.services.resize(kServices);
  double harmonic = 0;
  for (uint32_t i = 0; i < kServices; ++i) harmonic += std::pow(i + 1.0, -kZipfExponent);
  for (uint32_t i = 0; i < kServices; ++i) {
    Service& s = w.services[i];
    s.tenant = "tenant-" + std::to_string(Mix(i) % kTenants);
    s.name = "service-" + std::to_string(i);
    s.bytes_per_second = kTotalBytesPerSecond * std::pow(i + 1.0, -kZipfExponent) / harmonic;
    s.series = static_cast<uint32_t>(1 + Mix(i + kServices) % 50) * (i < 100 ? 10 : 1);
    s.first_series = static_cast<uint32_t>(w.series_service.size());
    for (uint32_t j = 0; j < s.series; ++j) {
      w.series_service.push_back(i);
      w.series_fingerprint.push_back(Mix((uint64_t{i} << 32) | j));
      w.series_load.push_back(s.bytes_per_second / s.series);
    }
  }
  return w;
}

// Writer slots: which are occupied, and so which writer serves each shard.
struct Ring {
  std::vector<bool> occupied;  // by slot

  static Ring Full(uint32_t writers) { return Ring{std::vector<bool>(writers, true)}; }
  uint32_t slots() const {  // highest occupied slot + 1
    uint32_t n = static_cast<uint32_t>(occupied.size());
    while (n > 0 && !occupied[n - 1]) --n;
    return n;
  }
  uint32_t shards() const { return slots() * kTokens; }
  uint32_t writers() const {
    return static_cast<uint32_t>(std::count(occupied.begin(), occupied.end(), true));
  }
  // The writer (slot) serving each shard: its own, or for a hole the next occupied slot after
  // it, wrapping.
  std::vector<uint32_t> Owners() const {
    const uint32_t n = slots();
    std::vector<uint32_t> owners(n * kTokens);
    for (uint32_t shard = 0; shard < owners.size(); ++shard) {
      uint32_t slot = shard / kTokens;
      while (!occupied[slot]) slot = (slot + 1) % n;
      owners[shard] = slot;
    }
    return owners;
  }
  Ring Join() const {
    Ring r = *this;
    auto hole = std::find(r.occupied.begin(), r.occupied.end(), false);
    if (hole == r.occupied.end()) {
      r.occupied.push_back(true);
    } else {
      *hole = true;
    }
    return r;
  }
  Ring Leave(uint32_t slot) const {
    Ring r = *this;
    r.occupied[slot] = false;
    return r;
  }
};

// Where every series goes.
struct Assignment {
  std::vector<uint32_t> shard;   // per series
  std::vector<uint32_t> writer;  // per series (slot)
};

Assignment Assign(const Workload& w, const PlacementRulesTable& rules, const Ring& ring) {
  const Placement placement({.shards = ring.shards()});
  const std::vector<uint32_t> owners = ring.Owners();
  Assignment a;
  a.shard.resize(w.series_service.size());
  a.writer.resize(w.series_service.size());
  for (const Service& s : w.services) {
    const uint32_t dataset_shards = rules.DatasetShards(s.tenant, s.name);
    for (uint32_t i = s.first_series; i < s.first_series + s.series; ++i) {
      a.shard[i] =
          placement.Shard(s.tenant, s.name, w.series_fingerprint[i], dataset_shards, ring.shards());
      a.writer[i] = owners[a.shard[i]];
    }
  }
  return a;
}

struct Balance {
  double max_shard = 0, mean_shard = 0;
  double max_writer = 0, mean_writer = 0;
  size_t dataset_sections = 0;  // distinct (shard, service): dataset sections per flush round
};

Balance Measure(const Workload& w, const Assignment& a, const Ring& ring) {
  std::vector<double> shard_load(ring.shards()), writer_load(ring.occupied.size());
  std::vector<std::pair<uint32_t, uint32_t>> sections;
  sections.reserve(a.shard.size());
  for (size_t i = 0; i < a.shard.size(); ++i) {
    shard_load[a.shard[i]] += w.series_load[i];
    writer_load[a.writer[i]] += w.series_load[i];
    sections.emplace_back(a.shard[i], w.series_service[i]);
  }
  std::sort(sections.begin(), sections.end());
  Balance b;
  b.dataset_sections =
      static_cast<size_t>(std::unique(sections.begin(), sections.end()) - sections.begin());
  b.max_shard = *std::max_element(shard_load.begin(), shard_load.end());
  b.mean_shard = kTotalBytesPerSecond / ring.shards();
  b.max_writer = *std::max_element(writer_load.begin(), writer_load.end());
  b.mean_writer = kTotalBytesPerSecond / ring.writers();
  return b;
}

struct Moved {
  double series = 0;  // fraction of series on another writer
  double load = 0;    // fraction of the load
};

Moved Compare(const Workload& w, const Assignment& before, const Assignment& after) {
  size_t series = 0;
  double load = 0;
  for (size_t i = 0; i < before.writer.size(); ++i) {
    if (before.writer[i] != after.writer[i]) {
      ++series;
      load += w.series_load[i];
    }
  }
  return {static_cast<double>(series) / static_cast<double>(before.writer.size()),
          load / kTotalBytesPerSecond};
}

// An hour of level-0 segments through the leader's AdaptivePlacement: every tick, one segment
// per shard holding the bytes its services sent during the tick (placed with the default of one
// shard per service), and a rules update.
::metastore::v1::PlacementRules AdaptiveRules(const Workload& w, const Ring& ring) {
  const Assignment base = Assign(w, PlacementRulesTable(), ring);
  std::vector<::metastore::v1::BlockMeta> segments(ring.shards());
  for (uint32_t shard = 0; shard < segments.size(); ++shard) {
    segments[shard].set_format_version(1);
    segments[shard].set_shard(shard);
    segments[shard].add_string_table("");
  }
  for (uint32_t i = 0; i < kServices; ++i) {
    const Service& s = w.services[i];
    ::metastore::v1::BlockMeta& b = segments[base.shard[s.first_series]];
    ::metastore::v1::Dataset* d = b.add_datasets();
    d->set_tenant(b.string_table_size());
    b.add_string_table(s.tenant);
    d->set_name(b.string_table_size());
    b.add_string_table(s.name);
    d->set_size(static_cast<uint64_t>(s.bytes_per_second * kTickMs / 1000));
  }
  metastore::AdaptivePlacement adaptive;
  ::metastore::v1::PlacementRules rules;
  for (int tick = 1; tick <= kTicks; ++tick) {
    const int64_t now = kStartMs + tick * kTickMs;
    for (const auto& segment : segments) adaptive.RecordBlock(segment, now);
    rules = adaptive.BuildRules(now);
  }
  return rules;
}

void Report(const char* name, const Balance& b) {
  std::printf(
      "%-10s shard max/mean %7.2f (max %6.2f MiB/s)  writer max/mean %6.2f (max %6.2f MiB/s)"
      "  dataset sections %zu\n",
      name, b.max_shard / b.mean_shard, b.max_shard / (1 << 20), b.max_writer / b.mean_writer,
      b.max_writer / (1 << 20), b.dataset_sections);
}

void ReportMove(const char* name, const char* event, const Moved& m) {
  std::printf("%-10s %-26s moves %6.3f%% of series, %6.3f%% of load (1/W = %.3f%%)\n", name, event,
              100 * m.series, 100 * m.load, 100.0 / kWriters);
}

TEST(PlacementSimulation, AdaptivePlacementSpreadsHotServicesAndMembershipChangesMoveLittle) {
  const Workload w = MakeWorkload();
  const Ring ring = Ring::Full(kWriters);
  ASSERT_EQ(ring.shards(), kWriters * kTokens);

  const ::metastore::v1::PlacementRules rules = AdaptiveRules(w, ring);
  uint32_t widest = 0;
  for (const auto& d : rules.datasets()) widest = std::max(widest, d.dataset_shards());
  std::printf("%zu series; adaptive rules: %d services on more than one shard, at most %u shards\n",
              w.series_service.size(), rules.datasets_size(), widest);
  ASSERT_GT(rules.datasets_size(), 0);

  // Determinism: the same inputs give the same rules and the same placement.
  const ::metastore::v1::PlacementRules again = AdaptiveRules(w, ring);
  EXPECT_EQ(rules.SerializeAsString(), again.SerializeAsString());

  const PlacementRulesTable fixed;
  const PlacementRulesTable adaptive(rules);
  const uint32_t last = kWriters - 1, middle = kWriters / 2;
  const Ring joined = ring.Join(), left_middle = ring.Leave(middle), left_last = ring.Leave(last);
  ASSERT_EQ(joined.shards(), (kWriters + 1) * kTokens);
  ASSERT_EQ(left_middle.shards(), kWriters * kTokens);
  ASSERT_EQ(left_last.shards(), (kWriters - 1) * kTokens);
  // A writer joining after a middle one left takes its slot back: the ring is as it was.
  EXPECT_EQ(left_middle.Join().occupied, ring.occupied);

  std::map<std::string, Balance> balance;
  for (const auto& [name, table] :
       {std::pair<const char*, const PlacementRulesTable*>{"fixed", &fixed},
        std::pair<const char*, const PlacementRulesTable*>{"adaptive", &adaptive}}) {
    const Assignment base = Assign(w, *table, ring);
    EXPECT_EQ(base.writer, Assign(w, *table, ring).writer);
    const Balance b = Measure(w, base, ring);
    balance[name] = b;
    Report(name, b);
    RecordProperty(std::string(name) + "_shard_max_over_mean",
                   std::to_string(b.max_shard / b.mean_shard));
    RecordProperty(std::string(name) + "_writer_max_over_mean",
                   std::to_string(b.max_writer / b.mean_writer));

    const Assignment after_join = Assign(w, *table, joined);
    const Assignment after_middle = Assign(w, *table, left_middle);
    const Assignment after_last = Assign(w, *table, left_last);
    const Moved join = Compare(w, base, after_join);
    const Moved middle_leave = Compare(w, base, after_middle);
    const Moved last_leave = Compare(w, base, after_last);
    ReportMove(name, "writer joins (end)", join);
    ReportMove(name, "middle writer leaves", middle_leave);
    ReportMove(name, "last writer leaves", last_leave);
    RecordProperty(std::string(name) + "_join_moved_series", std::to_string(join.series));
    RecordProperty(std::string(name) + "_middle_leave_moved_series",
                   std::to_string(middle_leave.series));
    RecordProperty(std::string(name) + "_last_leave_moved_series",
                   std::to_string(last_leave.series));

    // Consistent hashing: one writer in 500 joining or leaving moves about 1/500 of the series.
    EXPECT_LE(join.series, 2.0 / kWriters) << name;
    EXPECT_LE(middle_leave.series, 2.0 / kWriters) << name;
    EXPECT_LE(last_leave.series, 2.0 / kWriters) << name;
    for (size_t i = 0; i < base.writer.size(); ++i) {
      // A middle writer leaving changes no shard, and only its own series move.
      ASSERT_EQ(base.shard[i], after_middle.shard[i]);
      if (base.writer[i] != middle) {
        ASSERT_EQ(base.writer[i], after_middle.writer[i]);
      }
      // The last writer leaving moves only its own series.
      if (base.writer[i] != last) {
        ASSERT_EQ(base.writer[i], after_last.writer[i]);
      }
      // With one shard per service, a writer joining takes series only onto itself.
      if (table == &fixed && base.writer[i] != after_join.writer[i]) {
        ASSERT_EQ(after_join.writer[i], kWriters);
      }
    }
  }
  // The hottest service alone is ~13% of the load: on one shard it makes a writer dozens of
  // times the mean; spread over up to 32 shards (8 writers) it is several times less.
  EXPECT_LT(balance["adaptive"].max_writer / balance["adaptive"].mean_writer,
            balance["fixed"].max_writer / balance["fixed"].mean_writer / 3);
}

}  // namespace
}  // namespace embers::distributor
