// Property tests: for random blocks, removals and selectors, BlockIndex answers exactly what a
// brute-force scan over the live blocks (using the string-level Selector) answers, a snapshot
// restores an index with identical answers, and a capture taken between two commands serialises,
// after any later commands, to the bytes a synchronous encode gave at that moment.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "metastore/index/block_index.h"
#include "metastore/index/test_blocks.h"
#include "model/selector.h"

namespace embers::metastore {
namespace {

using testing::BlockBuilder;
using testing::DatasetSpec;
using testing::LabelSet;
using testing::TestId;

constexpr int64_t kHour = 3600 * 1000;
const std::vector<std::string> kTenants = {"a", "b", "c"};
const std::vector<std::string> kNames = {"service_name", "__profile_type__", "env", "x"};
const std::vector<std::string> kValues = {"v1", "v2", "v3", "w", ""};
const std::vector<std::string> kRegexes = {"v.*", "v1|v2", "", ".*", "w", ".+", "v[23]"};

// Small, clustered times so that ranges overlap and cross 6 h partitions (and zero).
rc::Gen<int64_t> GenTime() {
  return rc::gen::map(rc::gen::inRange<int64_t>(-4, 40),
                      [](int64_t h) { return h * kHour / 2 + h * 7919; });
}

rc::Gen<LabelSet> GenLabelSet() {
  return rc::gen::container<LabelSet>(
      rc::gen::pair(rc::gen::elementOf(kNames), rc::gen::elementOf(kValues)));
}

struct Model {
  std::map<std::string, v1::BlockMeta> live;  // by id
  std::set<std::string> tombstoned;
};

// The datasets a brute-force scan selects, as (block id, dataset size) — sizes are unique.
std::set<std::pair<std::string, uint64_t>> BruteForce(const Model& model,
                                                      const std::set<std::string>& tenants,
                                                      int64_t start, int64_t end,
                                                      const model::Selector& selector) {
  std::set<std::pair<std::string, uint64_t>> out;
  for (const auto& [id, b] : model.live) {
    if (b.max_time() < start || b.min_time() > end) continue;
    for (const v1::Dataset& d : b.datasets()) {
      if (!tenants.contains(b.string_table(d.tenant()))) continue;
      if (d.max_time() < start || d.min_time() > end) continue;
      bool any = false;
      for (int i = 0; i < d.labels_size() && !any;) {
        int n = d.labels(i);
        std::vector<std::pair<std::string_view, std::string_view>> pairs;
        for (int k = 0; k < n; ++k) {
          pairs.emplace_back(b.string_table(d.labels(i + 1 + 2 * k)),
                             b.string_table(d.labels(i + 2 + 2 * k)));
        }
        any = selector.Matches(pairs);
        i += 1 + 2 * n;
      }
      if (any) out.emplace(id, d.size());
    }
  }
  return out;
}

std::string GenSelectorText() {
  int n = *rc::gen::inRange(0, 4);
  std::string text = "{";
  for (int i = 0; i < n; ++i) {
    if (i > 0) text += ", ";
    std::string op = *rc::gen::elementOf(std::vector<std::string>{"=", "!=", "=~", "!~"});
    std::string value = op.size() == 2 && op[1] == '~' ? *rc::gen::elementOf(kRegexes)
                                                       : *rc::gen::elementOf(kValues);
    text += *rc::gen::elementOf(kNames) + op + "\"" + value + "\"";
  }
  return text + "}";
}

RC_GTEST_PROP(BlockIndexProperty, QueryMetadataEqualsBruteForce, ()) {
  BlockIndex index;
  BlockIndex twin;  // fed the same commands: must end in the same state
  Model model;
  uint64_t seq = 0, size_seq = 0;
  // Captures of `index` taken along the way, with what the twin encoded at the same moment.
  std::vector<std::pair<std::unique_ptr<IndexCapture>, std::string>> captures;
  const int ops = *rc::gen::inRange(0, 60);
  for (int op = 0; op < ops; ++op) {
    if (*rc::gen::inRange(0, 6) == 0) captures.emplace_back(index.Capture(), twin.EncodeSnapshot());
    if (!model.live.empty() && *rc::gen::inRange(0, 8) == 0) {
      // Remove a few live blocks (and some unknown ids) as a compaction or deletion would.
      v1::ReplaceBlocksRequest req;
      req.mutable_tombstones()->set_name("job-" + std::to_string(op));
      const v1::BlockMeta& victim =
          std::next(model.live.begin(), *rc::gen::inRange<size_t>(0, model.live.size()))->second;
      req.mutable_tombstones()->set_tenant(
          victim.string_table_size() == 0 ? "" : victim.string_table(victim.tenant()));
      req.mutable_tombstones()->set_shard(victim.shard());
      std::vector<std::string> ids = {victim.id(), TestId(1, ++seq)};
      for (const std::string& id : ids) {
        req.mutable_tombstones()->add_blocks(id);
        model.tombstoned.insert(id);
        model.live.erase(id);
      }
      RC_ASSERT(index.ReplaceBlocks(req).ok());
      RC_ASSERT(twin.ReplaceBlocks(req).ok());
      continue;
    }
    // Add a block: a multi-tenant segment or a single-tenant compacted block; sometimes a retry
    // of an existing or tombstoned id.
    std::string id = TestId(*rc::gen::inRange<int64_t>(0, 1000), ++seq);
    if (!model.tombstoned.empty() && *rc::gen::inRange(0, 10) == 0) {
      id = *model.tombstoned.begin();
    } else if (!model.live.empty() && *rc::gen::inRange(0, 10) == 0) {
      id = model.live.begin()->first;
    }
    std::string owner = *rc::gen::inRange(0, 2) == 0 ? "" : *rc::gen::elementOf(kTenants);
    const uint32_t shard = *rc::gen::inRange<uint32_t>(0, 3);
    BlockBuilder builder(id, owner, shard, owner.empty() ? 0 : *rc::gen::inRange<uint32_t>(1, 4));
    const int datasets = *rc::gen::inRange(0, 4);
    for (int i = 0; i < datasets; ++i) {
      DatasetSpec d;
      d.tenant = owner.empty() ? *rc::gen::elementOf(kTenants) : owner;
      d.service = *rc::gen::elementOf(kValues);
      int64_t t1 = *GenTime(), t2 = *GenTime();
      d.min_time = std::min(t1, t2);
      d.max_time = std::max(t1, t2);
      d.label_sets = *rc::gen::container<std::vector<LabelSet>>(*rc::gen::inRange<size_t>(0, 4),
                                                                GenLabelSet());
      d.size = ++size_seq;
      builder.Add(d);
    }
    v1::BlockMeta block = builder.Build();
    auto r = index.AddBlock(block);
    RC_ASSERT(r.ok());
    RC_ASSERT(twin.AddBlock(block).ok());
    if (model.tombstoned.contains(id)) {
      RC_ASSERT(*r == BlockIndex::AddResult::kTombstoned);
    } else if (model.live.contains(id)) {
      RC_ASSERT(*r == BlockIndex::AddResult::kDuplicate);
    } else {
      RC_ASSERT(*r == BlockIndex::AddResult::kAdded);
      model.live.emplace(id, block);
    }
  }
  RC_ASSERT(index.BlockCount() == model.live.size());
  std::vector<uint64_t> levels;
  for (const auto& [id, b] : model.live) {
    if (b.compaction_level() >= levels.size()) levels.resize(b.compaction_level() + 1, 0);
    ++levels[b.compaction_level()];
  }
  RC_ASSERT(index.BlockCountsByLevel() == levels);
  for (const auto& [capture, want] : captures) {
    std::string got;
    capture->SerializeTo([&](std::string_view piece) { got.append(piece); });
    RC_ASSERT(got == want);
  }
  const std::string snapshot = index.EncodeSnapshot();
  RC_ASSERT(twin.EncodeSnapshot() == snapshot);
  BlockIndex restored;
  RC_ASSERT(restored.RestoreSnapshot(snapshot).ok());
  RC_ASSERT(restored.BlockCountsByLevel() == levels);

  for (int q = 0; q < 10; ++q) {
    std::set<std::string> tenants;
    v1::QueryMetadataRequest req;
    for (const std::string& t : *rc::gen::nonEmpty(rc::gen::container<std::vector<std::string>>(
             rc::gen::elementOf(std::vector<std::string>{"a", "b", "c", "d"})))) {
      req.add_tenant_id(t);
      tenants.insert(t);
    }
    int64_t t1 = *GenTime(), t2 = *GenTime();
    req.set_start_time(std::min(t1, t2));
    req.set_end_time(std::max(t1, t2));
    req.set_query(GenSelectorText());
    const bool project = *rc::gen::arbitrary<bool>();
    if (project) req.add_labels("env");

    auto selector = model::Selector::Parse(req.query());
    RC_ASSERT(selector.ok());
    auto want = BruteForce(model, tenants, req.start_time(), req.end_time(), *selector);

    auto got = index.QueryMetadata(req);
    RC_ASSERT(got.ok());
    std::set<std::pair<std::string, uint64_t>> got_set;
    for (const v1::BlockMeta& b : got->blocks()) {
      RC_ASSERT(b.datasets_size() > 0);
      for (const v1::Dataset& d : b.datasets()) got_set.emplace(b.id(), d.size());
    }
    RC_ASSERT(got_set == want);

    auto again = restored.QueryMetadata(req);
    RC_ASSERT(again.ok());
    RC_ASSERT(again->SerializeAsString() == got->SerializeAsString());

    // QueryMetadataLabels: distinct projections of the matching sets onto {env, x}.
    v1::QueryMetadataLabelsRequest lreq;
    *lreq.mutable_tenant_id() = req.tenant_id();
    lreq.set_start_time(req.start_time());
    lreq.set_end_time(req.end_time());
    lreq.set_query(req.query());
    lreq.add_labels("env");
    lreq.add_labels("x");
    std::set<std::vector<std::pair<std::string, std::string>>> want_labels;
    for (const auto& [id, size] : want) {
      const v1::BlockMeta& b = model.live.at(id);
      for (const v1::Dataset& d : b.datasets()) {
        if (d.size() != size) continue;
        for (int i = 0; i < d.labels_size();) {
          int n = d.labels(i);
          std::vector<std::pair<std::string_view, std::string_view>> pairs;
          for (int k = 0; k < n; ++k) {
            pairs.emplace_back(b.string_table(d.labels(i + 1 + 2 * k)),
                               b.string_table(d.labels(i + 2 + 2 * k)));
          }
          i += 1 + 2 * n;
          if (!selector->Matches(pairs)) continue;
          std::vector<std::pair<std::string, std::string>> proj;
          for (std::string_view name : {"env", "x"}) {
            for (const auto& [k, v] : pairs) {
              if (k == name) {
                proj.emplace_back(k, v);
                break;
              }
            }
          }
          if (!proj.empty()) want_labels.insert(proj);
        }
      }
    }
    auto labels = index.QueryMetadataLabels(lreq);
    RC_ASSERT(labels.ok());
    std::vector<std::vector<std::pair<std::string, std::string>>> got_labels;
    for (const auto& set : labels->labels()) {
      auto& g = got_labels.emplace_back();
      for (const auto& p : set.labels()) g.emplace_back(p.name(), p.value());
    }
    using Sets = std::vector<std::vector<std::pair<std::string, std::string>>>;
    RC_ASSERT(got_labels == Sets(want_labels.begin(), want_labels.end()));
  }
}

}  // namespace
}  // namespace embers::metastore
