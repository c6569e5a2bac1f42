#include "metastore/index/block_index.h"

#include <algorithm>
#include <limits>
#include <mutex>
#include <set>
#include <utility>

#include "base/status.h"
#include "base/strings.h"
#include "metastore/index/index_internal.h"
#include "model/selector.h"
#include "model/tenant_id.h"

namespace embers::metastore {

using index_internal::Partition;
using index_internal::PartitionOf;
using index_internal::Shard;
using index_internal::ShardSlot;
using index_internal::StoredBlock;
using index_internal::StoredDataset;

namespace {

absl::Status Invalid(std::string_view message) {
  return absl::InvalidArgumentError(ToAbsl(message));
}

// Walks the label groups `n, k1, v1, ..., n', ...` in [begin, end) of `labels`, calling
// fn(pairs, n) with a pointer to the first name; stops early when fn returns false.
template <typename Fn>
void ForEachLabelGroup(const std::vector<uint32_t>& labels, uint32_t begin, uint32_t end, Fn fn) {
  uint32_t i = begin;
  while (i < end) {
    uint32_t n = labels[i];
    if (!fn(labels.data() + i + 1, n)) return;
    i += 1 + 2 * n;
  }
}

// The selector compiled against one shard's string table: names and values become ids, and
// regexes are evaluated once per distinct string (cached). Compile returns false when no label
// set of the shard can match, so the caller skips the whole shard.
class ShardMatcher {
 public:
  bool Compile(const model::Selector& selector, const StringTable& strings) {
    strings_ = &strings;
    terms_.clear();
    caches_.clear();
    required_ = 0;
    for (const model::LabelMatcher& m : selector.matchers()) {
      Term t;
      t.matcher = &m;
      t.name = strings.Find(m.name());
      t.matches_empty = m.MatchesEmpty();
      if (t.name == StringTable::kNotFound) {
        // No set here has the label: the matcher sees "" everywhere.
        if (!t.matches_empty) return false;
        continue;
      }
      if (m.type() == model::MatchType::kEqual || m.type() == model::MatchType::kNotEqual) {
        t.value = strings.Find(m.value());
        if (t.value == StringTable::kNotFound) {
          // No label here has that value: `=` can only pass where the label is absent (and then
          // only for value ""), `!=` always passes.
          if (m.type() == model::MatchType::kNotEqual) continue;
          if (!t.matches_empty) return false;
        }
      }
      if (!t.matches_empty) {
        // The set must hold the label (and for `=`, the value).
        required_ |= index_internal::LabelBit(t.name);
        if (m.type() == model::MatchType::kEqual) required_ |= index_internal::LabelBit(t.value);
      }
      if (m.type() == model::MatchType::kRegexMatch ||
          m.type() == model::MatchType::kRegexNoMatch) {
        t.cache = static_cast<int>(caches_.size());
        caches_.emplace_back(strings.size(), kUnknown);
      }
      terms_.push_back(t);
    }
    return true;
  }

  // False when a dataset (or block) with this label mask cannot hold a matching set.
  bool MayMatch(uint64_t label_mask) const { return (label_mask & required_) == required_; }

  // pairs: n (name id, value id) pairs.
  bool Matches(const uint32_t* pairs, uint32_t n) const {
    for (const Term& t : terms_) {
      uint32_t value = StringTable::kNotFound;
      for (uint32_t i = 0; i < n; ++i) {
        if (pairs[2 * i] == t.name) {
          value = pairs[2 * i + 1];
          break;
        }
      }
      if (value == StringTable::kNotFound) {
        if (!t.matches_empty) return false;
        continue;
      }
      bool ok;
      switch (t.matcher->type()) {
        case model::MatchType::kEqual:
          ok = value == t.value;
          break;
        case model::MatchType::kNotEqual:
          ok = value != t.value;
          break;
        default: {
          int8_t& c = caches_[static_cast<size_t>(t.cache)][value];
          if (c == kUnknown) c = t.matcher->Matches(strings_->Get(value)) ? kYes : kNo;
          ok = c == kYes;
        }
      }
      if (!ok) return false;
    }
    return true;
  }

 private:
  static constexpr int8_t kUnknown = 0, kYes = 1, kNo = 2;
  struct Term {
    const model::LabelMatcher* matcher = nullptr;
    uint32_t name = StringTable::kNotFound;
    uint32_t value = StringTable::kNotFound;
    bool matches_empty = false;
    int cache = -1;
  };
  const StringTable* strings_ = nullptr;
  uint64_t required_ = 0;  // label-mask bits every matching set has
  std::vector<Term> terms_;
  mutable std::vector<std::vector<int8_t>> caches_;
};

// Copies stored blocks out as BlockMeta with a compact string table of their own. The id map is
// stamped per output block instead of cleared, so exporting many blocks of a shard with a large
// string table costs nothing per unused string.
class Exporter {
 public:
  void SetShard(const Shard& shard) {
    shard_ = &shard;
    if (stamp_.size() < shard.strings->size()) {
      stamp_.resize(shard.strings->size(), 0);
      out_id_.resize(shard.strings->size(), 0);
    }
    std::fill(stamp_.begin(), stamp_.end(), 0);
    generation_ = 0;
  }

  // Fills the block-level fields of `out`; datasets are added with AddDataset.
  void BeginBlock(const BlockId& id, const StoredBlock& b, v1::BlockMeta* out) {
    out_ = out;
    ++generation_;
    out->add_string_table("");
    stamp_[0] = generation_;
    out_id_[0] = 0;
    out->set_format_version(b.format_version);
    out->set_id(id.ToString());
    out->set_tenant(Ref(b.tenant));
    out->set_shard(shard_->shard);
    out->set_compaction_level(b.compaction_level);
    out->set_min_time(b.min_time);
    out->set_max_time(b.max_time);
    out->set_created_by(Ref(b.created_by));
    out->set_size(b.size);
    out->set_metadata_offset(b.metadata_offset);
  }

  // Adds a dataset; its labels are appended by the caller through Ref().
  v1::Dataset* AddDataset(const StoredBlock& b, const StoredDataset& d) {
    v1::Dataset* ds = out_->add_datasets();
    ds->set_tenant(Ref(d.tenant));
    ds->set_name(Ref(d.name));
    ds->set_min_time(d.min_time);
    ds->set_max_time(d.max_time);
    ds->set_size(d.size);
    ds->set_format(d.format);
    ds->mutable_table_of_contents()->Reserve(static_cast<int>(d.toc_end - d.toc_begin));
    for (uint32_t i = d.toc_begin; i < d.toc_end; ++i) ds->add_table_of_contents(b.toc[i]);
    return ds;
  }

  int32_t Ref(uint32_t id) {
    if (stamp_[id] != generation_) {
      stamp_[id] = generation_;
      out_id_[id] = out_->string_table_size();
      std::string_view s = shard_->strings->Get(id);
      out_->add_string_table(std::string(s));
    }
    return out_id_[id];
  }

 private:
  const Shard* shard_ = nullptr;
  v1::BlockMeta* out_ = nullptr;
  uint32_t generation_ = 0;
  std::vector<uint32_t> stamp_;
  std::vector<int32_t> out_id_;
};

// What QueryMetadata and QueryMetadataLabels share: checked arguments and the shard walk.
struct QueryArgs {
  std::vector<std::string> tenants;  // sorted, distinct
  int64_t start = 0;
  int64_t end = 0;
  model::Selector selector;
  std::vector<std::string> labels;  // projection
};

template <typename Req>
absl::StatusOr<QueryArgs> CheckQuery(const Req& request) {
  QueryArgs args;
  if (request.tenant_id_size() == 0) return Invalid("at least one tenant_id is required");
  for (const std::string& t : request.tenant_id()) args.tenants.push_back(t);
  std::sort(args.tenants.begin(), args.tenants.end());
  args.tenants.erase(std::unique(args.tenants.begin(), args.tenants.end()), args.tenants.end());
  args.start = request.start_time();
  args.end = request.end_time();
  if (args.end < args.start) {
    return Invalid(
        StrCat("end_time ", args.end, " is before start_time ", args.start, " (ms since epoch)"));
  }
  auto selector = model::Selector::Parse(request.query());
  if (!selector.ok()) return selector.status();
  args.selector = *std::move(selector);
  for (const std::string& l : request.labels()) args.labels.push_back(l);
  return args;
}

// Calls fn(shard, matcher, tenant_ids, label_ids) for every shard that may hold matching
// datasets: it overlaps the range, lives under a requested tenant or "" (segments), knows at
// least one requested tenant, and passes the selector's early-out. label_ids are the projection
// names as ids (kNotFound where absent).
template <typename Fn>
void ForEachCandidateShard(const std::map<int64_t, Partition>& partitions, const QueryArgs& args,
                           Fn fn) {
  std::vector<std::string_view> owners;  // shard owners to visit
  owners.push_back("");
  for (const std::string& t : args.tenants) {
    if (!t.empty()) owners.push_back(t);
  }
  ShardMatcher matcher;
  std::vector<uint32_t> tenant_ids;
  std::vector<uint32_t> label_ids;
  // A block lives in the partition of its min_time, so none after `end` can overlap.
  auto last = partitions.upper_bound(args.end);
  for (auto p = partitions.begin(); p != last; ++p) {
    const Partition& part = p->second;
    if (part.max_time < args.start || part.min_time > args.end) continue;
    for (std::string_view owner : owners) {
      auto t = part.tenants.find(owner);
      if (t == part.tenants.end()) continue;
      for (const auto& [shard_id, slot] : t->second) {
        const Shard& shard = *slot.current;
        if (shard.max_time < args.start || shard.min_time > args.end) continue;
        tenant_ids.clear();
        for (const std::string& tenant : args.tenants) {
          uint32_t id = shard.strings->Find(tenant);
          if (id != StringTable::kNotFound) tenant_ids.push_back(id);
        }
        if (tenant_ids.empty()) continue;
        if (!matcher.Compile(args.selector, *shard.strings)) continue;
        label_ids.clear();
        for (const std::string& l : args.labels) label_ids.push_back(shard.strings->Find(l));
        fn(shard, matcher, tenant_ids, label_ids);
      }
    }
  }
}

// Projects label group `pairs` (n pairs) onto `names` (ids), appending `k, v` ids to `out`.
// Returns the number of pairs appended.
uint32_t Project(const uint32_t* pairs, uint32_t n, const std::vector<uint32_t>& names,
                 std::vector<uint32_t>& out) {
  uint32_t count = 0;
  for (uint32_t name : names) {
    if (name == StringTable::kNotFound) continue;
    for (uint32_t i = 0; i < n; ++i) {
      if (pairs[2 * i] == name) {
        out.push_back(name);
        out.push_back(pairs[2 * i + 1]);
        ++count;
        break;
      }
    }
  }
  return count;
}

bool Contains(const std::vector<uint32_t>& ids, uint32_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

BlockIndex::BlockIndex() : state_(new State) {}
BlockIndex::~BlockIndex() = default;

void BlockIndex::StateDeleter::operator()(State* state) const { delete state; }

namespace index_internal {

absl::Status CheckBlockStructure(const v1::BlockMeta& block, int64_t table_size) {
  auto where = [&](std::string_view what) {
    return Invalid(StrCat("block ", block.id(), ": ", what));
  };
  auto bad_ref = [&](int32_t ref) { return ref < 0 || ref >= table_size; };
  if (bad_ref(block.tenant()) || bad_ref(block.created_by())) {
    return where("string ref out of range");
  }
  if (block.min_time() > block.max_time()) return where("min_time is after max_time");
  for (int i = 0; i < block.datasets_size(); ++i) {
    const v1::Dataset& d = block.datasets(i);
    auto ds_where = [&](std::string_view what) { return where(StrCat("dataset ", i, ": ", what)); };
    if (bad_ref(d.tenant()) || bad_ref(d.name())) return ds_where("string ref out of range");
    if (d.min_time() > d.max_time()) return ds_where("min_time is after max_time");
    const auto& labels = d.labels();
    int64_t at = 0;
    while (at < labels.size()) {
      int64_t n = labels[static_cast<int>(at)];
      if (n < 0 || at + 1 + 2 * n > labels.size()) return ds_where("malformed label encoding");
      for (int64_t k = at + 1; k < at + 1 + 2 * n; ++k) {
        if (bad_ref(labels[static_cast<int>(k)])) return ds_where("label string ref out of range");
      }
      at += 1 + 2 * n;
    }
  }
  return absl::OkStatus();
}

}  // namespace index_internal

absl::Status BlockIndex::ValidateBlock(const v1::BlockMeta& block) {
  if (!BlockId::Parse(block.id())) {
    return Invalid(StrCat("block id \"", block.id(), "\" is not a ULID"));
  }
  // An empty table still has the implicit "" at 0.
  EMBERS_RETURN_IF_ERROR(
      index_internal::CheckBlockStructure(block, std::max(1, block.string_table_size())));
  auto str = [&](int32_t ref) -> std::string_view {
    return block.string_table_size() == 0 ? std::string_view() : block.string_table(ref);
  };
  // A compacted block belongs to one tenant; only level-0 segments (tenant "") mix tenants.
  std::string_view tenant = str(block.tenant());
  // Tenant ids become object keys and index entries: a caller of AddBlock is not trusted with
  // them any more than a public client with X-Scope-OrgID.
  if (!tenant.empty()) {
    if (absl::Status st = model::ValidateTenantId(tenant); !st.ok()) {
      return Invalid(StrCat("block ", block.id(), ": ", ToStd(st.message())));
    }
  }
  for (int i = 0; i < block.datasets_size(); ++i) {
    std::string_view dt = str(block.datasets(i).tenant());
    if (absl::Status st = model::ValidateTenantId(dt); !st.ok()) {
      return Invalid(StrCat("block ", block.id(), ": dataset ", i, ": ", ToStd(st.message())));
    }
    if (!tenant.empty() && dt != tenant) {
      return Invalid(StrCat("block ", block.id(), ": dataset ", i, ": tenant \"", dt,
                            "\" in a block of tenant \"", tenant, "\""));
    }
  }
  return absl::OkStatus();
}

ShardSlot& BlockIndex::GetOrCreateShard(State& state, int64_t partition, std::string_view tenant,
                                        uint32_t shard_id) {
  Partition& part = state.partitions[partition];
  auto t = part.tenants.find(tenant);
  if (t == part.tenants.end())
    t = part.tenants.emplace(std::string(tenant), index_internal::ShardMap()).first;
  ShardSlot& slot = t->second[shard_id];
  if (!slot.current) {
    slot.current = std::make_shared<Shard>();
    slot.current->partition = partition;
    slot.current->tenant = std::string(tenant);
    slot.current->shard = shard_id;
    slot.current->generation = state.generation;
  }
  return slot;
}

Shard& BlockIndex::MutableShard(State& state, ShardSlot& slot) {
  if (slot.current->generation != state.generation) {
    // Copies the header and one pointer per block chunk; the string table is shared.
    auto copy = std::make_shared<Shard>(*slot.current);
    copy->generation = state.generation;
    slot.current = std::move(copy);
  }
  return *slot.current;
}

absl::Status BlockIndex::AddBlockLocked(State& state, const BlockId& id,
                                        const v1::BlockMeta& block) {
  std::string_view tenant =
      block.string_table_size() == 0 ? std::string_view() : block.string_table(block.tenant());
  ShardSlot& slot = GetOrCreateShard(state, PartitionOf(block.min_time()), tenant, block.shard());
  Shard& shard = MutableShard(state, slot);
  StringTable& strings = *shard.strings;

  // Import only the strings the block uses, each once.
  std::vector<uint32_t> remap(static_cast<size_t>(std::max(1, block.string_table_size())),
                              StringTable::kNotFound);
  auto ref = [&](int32_t r) {
    uint32_t& id = remap[static_cast<size_t>(r)];
    if (id == StringTable::kNotFound) {
      id = strings.Intern(block.string_table_size() == 0 ? std::string_view()
                                                         : block.string_table(r));
    }
    return id;
  };

  auto b = std::make_shared<StoredBlock>();
  index_internal::ConvertBlock(block, ref, b.get());

  shard.min_time = std::min(shard.min_time, b->min_time);
  shard.max_time = std::max(shard.max_time, b->max_time);
  Partition& part = state.partitions[shard.partition];
  part.min_time = std::min(part.min_time, b->min_time);
  part.max_time = std::max(part.max_time, b->max_time);
  state.CountBlock(b->compaction_level, +1);
  shard.blocks.Insert(id, std::move(b), state.generation);
  state.shard_of.emplace(id, &slot);
  return absl::OkStatus();
}

void BlockIndex::RemoveBlockLocked(State& state, const BlockId& id) {
  auto it = state.shard_of.find(id);
  if (it == state.shard_of.end()) return;
  ShardSlot& slot = *it->second;
  state.shard_of.erase(it);
  if (const auto* b = slot.current->blocks.Find(id)) state.CountBlock((*b)->compaction_level, -1);
  if (slot.current->blocks.size() > 1) {
    MutableShard(state, slot).blocks.Erase(id, state.generation);
    return;
  }
  // Drop the empty shard, and its tenant and partition when they become empty, so that a
  // replica's state depends only on the live blocks (plus the recorded ranges). A capture may
  // still hold the shard; it keeps it alive.
  const int64_t partition = slot.current->partition;
  const std::string tenant = slot.current->tenant;
  const uint32_t shard_id = slot.current->shard;
  auto p = state.partitions.find(partition);
  Partition& part = p->second;
  auto t = part.tenants.find(tenant);
  t->second.erase(shard_id);  // destroys the slot
  if (t->second.empty()) part.tenants.erase(t);
  if (part.tenants.empty()) {
    state.partitions.erase(p);
    return;
  }
  part.min_time = std::numeric_limits<int64_t>::max();
  part.max_time = std::numeric_limits<int64_t>::min();
  for (const auto& [name, shards] : part.tenants) {
    for (const auto& [sid, s] : shards) {
      part.min_time = std::min(part.min_time, s.current->min_time);
      part.max_time = std::max(part.max_time, s.current->max_time);
    }
  }
}

absl::StatusOr<BlockIndex::AddResult> BlockIndex::AddBlock(const v1::BlockMeta& block) {
  EMBERS_RETURN_IF_ERROR(ValidateBlock(block));
  BlockId id = *BlockId::Parse(block.id());
  std::unique_lock lock(mu_);
  if (state_->tombstoned.contains(id)) return AddResult::kTombstoned;
  if (state_->shard_of.contains(id)) return AddResult::kDuplicate;
  EMBERS_RETURN_IF_ERROR(AddBlockLocked(*state_, id, block));
  return AddResult::kAdded;
}

absl::Status BlockIndex::ReplaceBlocks(const v1::ReplaceBlocksRequest& request) {
  const v1::BlockTombstones& tomb = request.tombstones();
  if (tomb.name().empty()) return Invalid("replace: tombstone name is required");
  // Check everything first: a command is applied entirely or not at all.
  std::vector<BlockId> sources;
  for (const std::string& s : tomb.blocks()) {
    auto id = BlockId::Parse(s);
    if (!id) return Invalid(StrCat("replace: source block id \"", s, "\" is not a ULID"));
    sources.push_back(*id);
  }
  for (const v1::BlockMeta& b : request.blocks()) EMBERS_RETURN_IF_ERROR(ValidateBlock(b));

  std::unique_lock lock(mu_);
  State& state = *state_;
  if (state.tombstone_names.contains(tomb.name())) return absl::OkStatus();  // retried command
  for (const v1::BlockMeta& b : request.blocks()) {
    BlockId id = *BlockId::Parse(b.id());
    if (state.tombstoned.contains(id) || state.shard_of.contains(id)) continue;
    EMBERS_RETURN_IF_ERROR(AddBlockLocked(state, id, b));
  }
  uint64_t bytes = 0;  // of the removed objects, for the deletion counters
  for (const BlockId& id : sources) {
    auto it = state.shard_of.find(id);
    if (it != state.shard_of.end() && it->second->current->tenant == tomb.tenant() &&
        it->second->current->shard == tomb.shard()) {
      if (const auto* b = it->second->current->blocks.Find(id)) bytes += (*b)->size;
      RemoveBlockLocked(state, id);
    }
    ++state.tombstoned[id];
  }
  state.tombstone_names.insert(tomb.name());
  auto stored = std::make_shared<v1::BlockTombstones>(tomb);
  stored->set_bytes(bytes);
  state.tombstones.emplace(state.next_tombstone_seq++, std::move(stored));
  return absl::OkStatus();
}

std::vector<v1::BlockTombstones> BlockIndex::Tombstones() const {
  std::shared_lock lock(mu_);
  std::vector<v1::BlockTombstones> out;
  for (const auto& [seq, t] : state_->tombstones) out.push_back(*t);
  return out;
}

void BlockIndex::DeleteTombstones(const std::vector<std::string>& names) {
  std::set<std::string_view> wanted(names.begin(), names.end());
  std::unique_lock lock(mu_);
  State& state = *state_;
  for (auto it = state.tombstones.begin(); it != state.tombstones.end();) {
    const v1::BlockTombstones& tomb = *it->second;
    if (!wanted.contains(tomb.name())) {
      ++it;
      continue;
    }
    for (const std::string& s : tomb.blocks()) {
      auto id = BlockId::Parse(s);
      auto c = state.tombstoned.find(*id);
      if (c != state.tombstoned.end() && --c->second == 0) state.tombstoned.erase(c);
    }
    state.tombstone_names.erase(tomb.name());
    it = state.tombstones.erase(it);
  }
}

absl::StatusOr<v1::QueryMetadataResponse> BlockIndex::QueryMetadata(
    const v1::QueryMetadataRequest& request) const {
  EMBERS_ASSIGN_OR_RETURN(QueryArgs args, CheckQuery(request));
  v1::QueryMetadataResponse response;
  Exporter exporter;
  std::vector<uint32_t> projected;            // label groups of the current dataset
  std::vector<uint32_t> matched;              // indices of matching datasets in the current block
  std::vector<std::vector<uint32_t>> groups;  // distinct projected groups of one dataset
  const bool project = !args.labels.empty();

  std::shared_lock lock(mu_);
  ForEachCandidateShard(
      state_->partitions, args,
      [&](const Shard& shard, const ShardMatcher& matcher, const std::vector<uint32_t>& tenant_ids,
          const std::vector<uint32_t>& label_ids) {
        bool exporter_ready = false;
        for (const auto& [id, block] : shard.blocks) {
          const StoredBlock& b = *block;
          if (b.max_time < args.start || b.min_time > args.end) continue;
          if (!matcher.MayMatch(b.label_mask)) continue;
          matched.clear();
          for (uint32_t i = 0; i < b.datasets.size(); ++i) {
            const StoredDataset& d = b.datasets[i];
            if (d.max_time < args.start || d.min_time > args.end) continue;
            if (!matcher.MayMatch(d.label_mask) || !Contains(tenant_ids, d.tenant)) continue;
            bool any = false;
            ForEachLabelGroup(b.labels, d.labels_begin, d.labels_end,
                              [&](const uint32_t* pairs, uint32_t n) {
                                any = matcher.Matches(pairs, n);
                                return !any;
                              });
            if (any) matched.push_back(i);
          }
          if (matched.empty()) continue;
          if (!exporter_ready) {
            exporter.SetShard(shard);
            exporter_ready = true;
          }
          v1::BlockMeta* out = response.add_blocks();
          exporter.BeginBlock(id, b, out);
          for (uint32_t i : matched) {
            const StoredDataset& d = b.datasets[i];
            v1::Dataset* ds = exporter.AddDataset(b, d);
            if (!project) continue;
            groups.clear();
            ForEachLabelGroup(
                b.labels, d.labels_begin, d.labels_end, [&](const uint32_t* pairs, uint32_t n) {
                  if (!matcher.Matches(pairs, n)) return true;
                  projected.clear();
                  if (Project(pairs, n, label_ids, projected) == 0) return true;
                  if (std::find(groups.begin(), groups.end(), projected) == groups.end()) {
                    groups.push_back(projected);
                  }
                  return true;
                });
            for (const std::vector<uint32_t>& g : groups) {
              ds->add_labels(static_cast<int32_t>(g.size() / 2));
              for (uint32_t s : g) ds->add_labels(exporter.Ref(s));
            }
          }
        }
      });
  return response;
}

absl::StatusOr<v1::QueryMetadataLabelsResponse> BlockIndex::QueryMetadataLabels(
    const v1::QueryMetadataLabelsRequest& request) const {
  EMBERS_ASSIGN_OR_RETURN(QueryArgs args, CheckQuery(request));
  using LabelSet = std::vector<std::pair<std::string, std::string>>;
  std::set<LabelSet> sets;
  std::vector<uint32_t> projected;
  absl::flat_hash_set<std::vector<uint32_t>> seen;  // per shard, as ids

  std::shared_lock lock(mu_);
  if (!args.labels.empty()) {
    ForEachCandidateShard(
        state_->partitions, args,
        [&](const Shard& shard, const ShardMatcher& matcher,
            const std::vector<uint32_t>& tenant_ids, const std::vector<uint32_t>& label_ids) {
          seen.clear();
          for (const auto& [id, block] : shard.blocks) {
            const StoredBlock& b = *block;
            if (b.max_time < args.start || b.min_time > args.end) continue;
            if (!matcher.MayMatch(b.label_mask)) continue;
            for (const StoredDataset& d : b.datasets) {
              if (d.max_time < args.start || d.min_time > args.end) continue;
              if (!matcher.MayMatch(d.label_mask) || !Contains(tenant_ids, d.tenant)) continue;
              ForEachLabelGroup(b.labels, d.labels_begin, d.labels_end,
                                [&](const uint32_t* pairs, uint32_t n) {
                                  if (!matcher.Matches(pairs, n)) return true;
                                  projected.clear();
                                  if (Project(pairs, n, label_ids, projected) > 0)
                                    seen.insert(projected);
                                  return true;
                                });
            }
          }
          for (const std::vector<uint32_t>& g : seen) {
            LabelSet set;
            for (size_t i = 0; i < g.size(); i += 2) {
              set.emplace_back(shard.strings->Get(g[i]), shard.strings->Get(g[i + 1]));
            }
            sets.insert(std::move(set));
          }
        });
  }
  lock.unlock();

  v1::QueryMetadataLabelsResponse response;
  for (const LabelSet& set : sets) {
    types::v1::Labels* out = response.add_labels();
    for (const auto& [name, value] : set) {
      types::v1::LabelPair* p = out->add_labels();
      p->set_name(name);
      p->set_value(value);
    }
  }
  return response;
}

absl::StatusOr<v1::GetBlockMetadataResponse> BlockIndex::GetBlockMetadata(
    const v1::GetBlockMetadataRequest& request) const {
  const v1::BlockList& list = request.blocks();
  std::vector<BlockId> ids;
  for (const std::string& s : list.blocks()) {
    auto id = BlockId::Parse(s);
    if (!id) return Invalid(StrCat("block id \"", s, "\" is not a ULID"));
    ids.push_back(*id);
  }
  v1::GetBlockMetadataResponse response;
  Exporter exporter;
  std::shared_lock lock(mu_);
  for (const BlockId& id : ids) {
    auto it = state_->shard_of.find(id);
    if (it == state_->shard_of.end()) continue;
    const Shard& shard = *it->second->current;
    if (shard.tenant != list.tenant() || shard.shard != list.shard()) continue;
    const StoredBlock& b = **shard.blocks.Find(id);
    exporter.SetShard(shard);
    v1::BlockMeta* out = response.add_blocks();
    exporter.BeginBlock(id, b, out);
    for (const StoredDataset& d : b.datasets) {
      v1::Dataset* ds = exporter.AddDataset(b, d);
      for (uint32_t i = d.labels_begin; i < d.labels_end;) {
        uint32_t n = b.labels[i];
        ds->add_labels(static_cast<int32_t>(n));
        for (uint32_t k = i + 1; k < i + 1 + 2 * n; ++k) ds->add_labels(exporter.Ref(b.labels[k]));
        i += 1 + 2 * n;
      }
    }
  }
  return response;
}

v1::GetTenantsResponse BlockIndex::GetTenants() const {
  std::set<std::string> tenants;
  std::vector<bool> seen;
  std::shared_lock lock(mu_);
  for (const auto& [start, part] : state_->partitions) {
    for (const auto& [owner, shards] : part.tenants) {
      if (!owner.empty()) {
        tenants.insert(owner);
        continue;  // a tenant's own blocks hold only its datasets
      }
      for (const auto& [sid, slot] : shards) {
        const Shard& shard = *slot.current;
        seen.assign(shard.strings->size(), false);
        for (const auto& [id, b] : shard.blocks) {
          for (const StoredDataset& d : b->datasets) seen[d.tenant] = true;
        }
        for (uint32_t i = 0; i < seen.size(); ++i) {
          if (seen[i]) tenants.insert(std::string(shard.strings->Get(i)));
        }
      }
    }
  }
  lock.unlock();
  v1::GetTenantsResponse response;
  for (const std::string& t : tenants) response.add_tenant_ids(t);
  return response;
}

v1::GetTenantResponse BlockIndex::GetTenant(const v1::GetTenantRequest& request) const {
  const std::string& tenant = request.tenant_id();
  v1::TenantStats stats;
  int64_t oldest = std::numeric_limits<int64_t>::max();
  int64_t newest = std::numeric_limits<int64_t>::min();
  std::shared_lock lock(mu_);
  for (const auto& [start, part] : state_->partitions) {
    for (std::string_view owner : {std::string_view(), std::string_view(tenant)}) {
      auto t = part.tenants.find(owner);
      if (t == part.tenants.end()) continue;
      for (const auto& [sid, slot] : t->second) {
        const Shard& shard = *slot.current;
        uint32_t tid = shard.strings->Find(tenant);
        if (tid == StringTable::kNotFound) continue;
        for (const auto& [id, b] : shard.blocks) {
          bool counted = false;
          for (const StoredDataset& d : b->datasets) {
            if (d.tenant != tid) continue;
            if (!counted) stats.set_block_count(stats.block_count() + 1);
            counted = true;
            stats.set_dataset_count(stats.dataset_count() + 1);
            stats.set_data_bytes(stats.data_bytes() + d.size);
            oldest = std::min(oldest, d.min_time);
            newest = std::max(newest, d.max_time);
          }
        }
      }
      if (tenant.empty()) break;  // owner "" visited once
    }
  }
  v1::GetTenantResponse response;
  if (stats.dataset_count() > 0) {
    stats.set_data_ingested(true);
    stats.set_oldest_profile_time(oldest);
    stats.set_newest_profile_time(newest);
  }
  *response.mutable_stats() = stats;
  return response;
}

std::vector<IndexShardSummary> BlockIndex::ShardsBefore(int64_t before_ms) const {
  std::vector<IndexShardSummary> out;
  std::vector<bool> seen;
  std::shared_lock lock(mu_);
  for (const auto& [start, part] : state_->partitions) {
    if (part.min_time >= before_ms) break;  // partitions are ordered by data time
    for (const auto& [owner, shards] : part.tenants) {
      for (const auto& [sid, slot] : shards) {
        const Shard& shard = *slot.current;
        if (shard.min_time >= before_ms) continue;
        IndexShardSummary s{.partition = start, .tenant = owner, .shard = sid};
        for (const auto& [id, b] : shard.blocks) {
          if (b->max_time >= before_ms) continue;
          IndexShardSummary::Block& out_block = s.blocks.emplace_back();
          out_block.id = id.ToString();
          out_block.max_time = b->max_time;
          seen.assign(shard.strings->size(), false);
          for (const StoredDataset& d : b->datasets) seen[d.tenant] = true;
          for (uint32_t i = 0; i < seen.size(); ++i) {
            if (seen[i]) out_block.tenants.emplace_back(shard.strings->Get(i));
          }
          std::sort(out_block.tenants.begin(), out_block.tenants.end());
        }
        if (!s.blocks.empty()) out.push_back(std::move(s));
      }
    }
  }
  return out;
}

size_t BlockIndex::BlockCount() const {
  std::shared_lock lock(mu_);
  return state_->shard_of.size();
}

std::vector<BlockIndex::QueueableBlock> BlockIndex::BlocksBelowLevel(uint32_t level) const {
  std::vector<QueueableBlock> out;
  std::shared_lock lock(mu_);
  for (const auto& [start, part] : state_->partitions) {
    for (const auto& [owner, shards] : part.tenants) {
      for (const auto& [sid, slot] : shards) {
        for (const auto& [id, b] : slot.current->blocks) {
          if (b->compaction_level >= level) continue;
          out.push_back({.id = id,
                         .tenant = owner,
                         .shard = sid,
                         .level = b->compaction_level,
                         .min_time = b->min_time,
                         .size = b->size});
        }
      }
    }
  }
  return out;
}

std::vector<uint64_t> BlockIndex::BlockCountsByLevel() const {
  std::shared_lock lock(mu_);
  std::vector<uint64_t> counts = state_->blocks_by_level;
  while (!counts.empty() && counts.back() == 0) counts.pop_back();
  return counts;
}

size_t BlockIndex::PartitionCount() const {
  std::shared_lock lock(mu_);
  return state_->partitions.size();
}

}  // namespace embers::metastore
