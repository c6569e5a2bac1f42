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
#include "absl/status/statusor.h"
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
                  std::vector<uint32_t>* stack_ids);
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

  // Strings are copied into stable chunks so the keys of `string_index_` stay valid.
  std::string_view StoreString(std::string_view s);

  std::vector<std::unique_ptr<char[]>> string_chunks_;
  size_t chunk_used_ = 0;
  size_t chunk_size_ = 0;
  size_t string_bytes_ = 0;
  std::vector<std::string_view> strings_;
  absl::flat_hash_map<std::string_view, uint32_t> string_index_;

  std::vector<SymbolMapping> mappings_;
  absl::flat_hash_map<SymbolMapping, uint32_t, MappingHash> mapping_index_;
  std::vector<SymbolFunction> functions_;
  absl::flat_hash_map<SymbolFunction, uint32_t, FunctionHash> function_index_;
  std::vector<SymbolLocation> locations_;
  std::vector<SymbolLine> lines_;
  absl::flat_hash_map<std::string, uint32_t> location_index_;  // key: encoded location
  std::vector<uint32_t> node_parent_;
  std::vector<uint32_t> node_location_;
  absl::flat_hash_map<uint64_t, uint32_t> node_index_;  // (parent << 32 | location) → node

  // Per-AddProfile scratch, kept to avoid reallocating.
  std::vector<int64_t> profile_location_map_;
  std::vector<uint32_t> stack_scratch_;
  std::string key_scratch_;
};

}  // namespace embers::block

#endif  // EMBERS_BLOCK_SYMBOLS_H_
