// Dataset symbols: deduplicated strings, mappings, functions and locations, plus the stack-trace
// tree in which every distinct stack is one leaf node (docs/format.md, "Symbols section").
//
// SymbolsBuilder is fed every profile of one dataset (tenant × service × object) by the
// segment-writer head and by compaction; each sample's stack becomes a stack-trace id — the index
// of its leaf node — so samples store one integer instead of a stack. Symbols is the decoded form
// the query path reads to turn stack-trace ids back into frames.
#ifndef EMBERS_BLOCK_SYMBOLS_H_
#define EMBERS_BLOCK_SYMBOLS_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "pprof/profile.h"

namespace embers::block {

struct SymbolMapping {
  uint64_t memory_start = 0;
  uint64_t memory_limit = 0;
  uint64_t file_offset = 0;
  uint32_t filename = 0;  // string index
  uint32_t build_id = 0;  // string index
  uint8_t flags = 0;      // bit 0 has_functions, 1 has_filenames, 2 has_line_numbers, 3 inline

  friend bool operator==(const SymbolMapping&, const SymbolMapping&) = default;
};

struct SymbolFunction {
  uint32_t name = 0;
  uint32_t system_name = 0;
  uint32_t filename = 0;
  int64_t start_line = 0;

  friend bool operator==(const SymbolFunction&, const SymbolFunction&) = default;
};

struct SymbolLine {
  uint32_t function = 0;  // index into functions
  int64_t line = 0;
};

struct SymbolLocation {
  int64_t mapping = -1;  // index into mappings, -1 = none
  uint64_t address = 0;
  uint32_t line_begin = 0;  // into lines
  uint32_t line_count = 0;
};

// The decoded symbols section. Strings point into `backing`.
struct Symbols {
  std::vector<std::string_view> strings;
  std::vector<SymbolMapping> mappings;
  std::vector<SymbolFunction> functions;
  std::vector<SymbolLocation> locations;
  std::vector<SymbolLine> lines;
  // Stack-trace tree: node 0 is the root; parent[i] < i for every other node.
  std::vector<uint32_t> node_parent;
  std::vector<uint32_t> node_location;
  std::shared_ptr<const std::string> backing;

  std::span<const SymbolLine> LocationLines(const SymbolLocation& l) const {
    return {lines.data() + l.line_begin, l.line_count};
  }
  // Appends the locations of stack `id`, leaf first. False when `id` is not a node.
  bool Stack(uint32_t id, std::vector<uint32_t>* locations_leaf_first) const;
  // Parses a symbols section body (docs/format.md). Validates every index.
  static absl::StatusOr<Symbols> Decode(std::shared_ptr<const std::string> body);
  // Approximate heap bytes held (tables and the section body), for memory accounting.
  size_t MemoryBytes() const;
};

// Maps stack-tree node `node` of `symbols` to a node of some other tree, memoised in `memo`
// (`unset` = not mapped yet; the root must be mapped). Unmapped ancestors are mapped first, root
// down, each with `step(mapped parent, location)`, so every node is mapped at most once however
// many stacks share it. `path` is scratch space. The query-backend maps stacks to function-name
// trees with it, SymbolsMerger to another builder's tree.
template <class Step>
uint32_t MapStackNode(const Symbols& symbols, uint32_t node, uint32_t unset,
                      std::vector<uint32_t>& memo, std::vector<uint32_t>& path, Step&& step) {
  if (memo[node] != unset) return memo[node];
  path.clear();
  uint32_t n = node;
  while (memo[n] == unset) {
    path.push_back(n);
    n = symbols.node_parent[n];
  }
  uint32_t to = memo[n];
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    to = step(to, symbols.node_location[*it]);
    memo[*it] = to;
  }
  return to;
}

class SymbolsBuilder {
 public:
  SymbolsBuilder();
  SymbolsBuilder(const SymbolsBuilder&) = delete;
  SymbolsBuilder& operator=(const SymbolsBuilder&) = delete;

  // Interns the symbols the samples of `samples` use and writes each sample's stack-trace id to
  // `stack_ids` (resized to the sample count). Location ids and string indexes of `samples`
  // refer to the tables of `symbols` (the same profile, or the source of a split series); the
  // profile must have passed the decoder's validation (every referenced id exists).
  void AddProfile(const pprof::Profile& samples, const pprof::Profile& symbols,
                  std::vector<uint32_t>* stack_ids) {
    const pprof::Profile* one[] = {&samples};
    std::vector<uint32_t>* ids[] = {stack_ids};
    AddProfiles(one, symbols, ids);
  }
  // AddProfile for several sample sets that all refer to the tables of `symbols` (the series
  // split from one pushed profile): `stack_ids[k]` gets the ids of `samples[k]`. The result is
  // that of calling AddProfile for each in order, but every symbol of `symbols` is interned at
  // most once, and a stack that recurs in the next sample set (the same samples with another
  // sample type's values) is looked up by comparing location ids rather than walked again.
  void AddProfiles(std::span<const pprof::Profile* const> samples, const pprof::Profile& symbols,
                   std::span<std::vector<uint32_t>* const> stack_ids);
  // Adds one stack given as dataset location indexes, root first (compaction merges stacks
  // through this after rewriting their locations). Returns the leaf node.
  uint32_t AddStack(std::span<const uint32_t> locations_root_first);
  // The child of stack-tree node `parent` at dataset location `location`, created when absent.
  uint32_t AddNode(uint32_t parent, uint32_t location);

  uint32_t InternString(std::string_view s);
  uint32_t InternMapping(const SymbolMapping& m);
  uint32_t InternFunction(const SymbolFunction& f);
  uint32_t InternLocation(int64_t mapping, uint64_t address, std::span<const SymbolLine> lines);

  size_t node_count() const { return node_parent_.size(); }
  size_t location_count() const { return locations_.size(); }
  // Approximate heap bytes held, for the segment-writer's memory accounting.
  size_t MemoryBytes() const;

  // The symbols section body (uncompressed).
  std::string Encode() const;
  // The tables built so far in decoded form (copied; strings point into this builder, so the
  // view must not outlive it). Lets readers of built symbols share code with decoded ones.
  Symbols View() const;

 private:
  struct FunctionHash {
    size_t operator()(const SymbolFunction& f) const;
  };
  struct MappingHash {
    size_t operator()(const SymbolMapping& m) const;
  };

  // A location as looked up in `location_index_`, which holds indexes into `locations_` and
  // hashes and compares them by content through the builder (never copied nor moved). Two stored
  // indexes are always different locations: one is inserted only after a lookup found none.
  struct LocationKey {
    int64_t mapping;
    uint64_t address;
    std::span<const SymbolLine> lines;
  };
  struct LocationHash {
    using is_transparent = void;
    const SymbolsBuilder* builder;
    size_t operator()(const LocationKey& k) const;
    size_t operator()(uint32_t index) const { return (*this)(builder->KeyOf(index)); }
  };
  struct LocationEq {
    using is_transparent = void;
    const SymbolsBuilder* builder;
    bool operator()(const LocationKey& a, const LocationKey& b) const;
    bool operator()(uint32_t a, const LocationKey& b) const {
      return (*this)(builder->KeyOf(a), b);
    }
    bool operator()(const LocationKey& a, uint32_t b) const {
      return (*this)(a, builder->KeyOf(b));
    }
    bool operator()(uint32_t a, uint32_t b) const { return a == b; }
  };
  LocationKey KeyOf(uint32_t location) const {
    const SymbolLocation& l = locations_[location];
    return {l.mapping, l.address, {lines_.data() + l.line_begin, l.line_count}};
  }

  // Strings are copied into stable chunks so the keys of `string_index_` stay valid.
  std::string_view StoreString(std::string_view s);

  // The dataset index of string / function / mapping / location `index` of `profile`, interned
  // on first use and memoised in the *_memo_ vectors (one AddProfiles call).
  uint32_t ProfileString(const pprof::Profile& profile, int64_t index);
  uint32_t ProfileFunction(const pprof::Profile& profile, int64_t index);
  int64_t ProfileMapping(const pprof::Profile& profile, uint64_t mapping_id);
  uint32_t ProfileLocation(const pprof::Profile& profile, uint64_t location_id);
  // Stack ids of `samples`, taken from `previous` (the sample set before it in one AddProfiles
  // call, with ids `previous_ids`) where a sample has the same stack, walked otherwise.
  void AddSamples(const pprof::Profile& samples, const pprof::Profile& symbols,
                  const pprof::Profile* previous, const std::vector<uint32_t>* previous_ids,
                  std::vector<uint32_t>* stack_ids);
  // The leaf node of a stack of `symbols` location ids, leaf first (as pprof stores them). The
  // callers it shares with the previous stack walked in this AddProfiles call (consecutive
  // samples often share many) are neither mapped nor looked up again: their nodes are kept.
  uint32_t AddStackReusingPrefix(const pprof::Profile& symbols,
                                 std::span<const uint64_t> location_ids_leaf_first);

  std::vector<std::unique_ptr<char[]>> string_chunks_;
  size_t chunk_used_ = 0;
  size_t chunk_size_ = 0;
  size_t string_bytes_ = 0;
  std::vector<std::string_view> strings_;
  // absl::string_view keys: Abseil hashes them itself; std::string_view ones go through
  // std::hash, which is slower on function and file names.
  absl::flat_hash_map<absl::string_view, uint32_t> string_index_;

  std::vector<SymbolMapping> mappings_;
  absl::flat_hash_map<SymbolMapping, uint32_t, MappingHash> mapping_index_;
  std::vector<SymbolFunction> functions_;
  absl::flat_hash_map<SymbolFunction, uint32_t, FunctionHash> function_index_;
  std::vector<SymbolLocation> locations_;
  std::vector<SymbolLine> lines_;
  absl::flat_hash_set<uint32_t, LocationHash, LocationEq> location_index_;
  std::vector<uint32_t> node_parent_;
  std::vector<uint32_t> node_location_;
  absl::flat_hash_map<uint64_t, uint32_t> node_index_;  // (parent << 32 | location) → node

  // Per-AddProfiles memos (profile index → dataset index, kUnset when not interned yet) and
  // scratch, kept to avoid reallocating.
  static constexpr uint32_t kUnset = UINT32_MAX;
  std::vector<uint32_t> string_memo_;
  std::vector<uint32_t> function_memo_;
  std::vector<uint32_t> mapping_memo_;
  std::vector<uint32_t> location_memo_;
  std::vector<SymbolLine> lines_scratch_;
  // The stack last walked by AddStackReusingPrefix (leaf first, pointing into a sample set of
  // the current AddProfiles call; emptied when it returns) and its nodes, root first.
  std::span<const uint64_t> prefix_ids_;
  std::vector<uint32_t> prefix_nodes_;
};

}  // namespace embers::block

#endif  // EMBERS_BLOCK_SYMBOLS_H_
