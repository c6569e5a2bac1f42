// SymbolsMerger: copies the stacks of one decoded symbols table into a SymbolsBuilder.
//
// A stack-trace id is only meaningful inside its dataset's symbols, so combining data of several
// datasets means re-interning what their stacks refer to into one builder. The query-backend does
// this to merge full profiles (SelectMergeProfile, pprof output) across objects; compaction does
// the same when it merges datasets. Everything is translated lazily and at most once: a
// location's strings, function and mapping on its first use, a stack-tree node once, its
// ancestors before it (parents always precede children in both trees).
#ifndef EMBERS_BLOCK_SYMBOLS_MERGER_H_
#define EMBERS_BLOCK_SYMBOLS_MERGER_H_

#include <cstdint>
#include <vector>

#include "block/symbols.h"

namespace embers::block {

class SymbolsMerger {
 public:
  // Both must outlive the merger; `from` must have passed Symbols::Decode's validation (or be a
  // builder's View()).
  SymbolsMerger(const Symbols& from, SymbolsBuilder* to);

  // The node of `to` for stack-tree node `node` of `from` (node < from.node_parent.size()).
  uint32_t Node(uint32_t node);
  // Heap bytes of the translation tables (one entry per element of `from`).
  size_t MemoryBytes() const {
    return (nodes_.capacity() + locations_.capacity() + functions_.capacity() +
            mappings_.capacity() + strings_.capacity() + path_.capacity()) *
               sizeof(uint32_t) +
           lines_.capacity() * sizeof(SymbolLine);
  }

 private:
  static constexpr uint32_t kUnset = UINT32_MAX;

  uint32_t Location(uint32_t location);
  uint32_t String(uint32_t s);

  const Symbols& from_;
  SymbolsBuilder* to_;
  std::vector<uint32_t> nodes_;
  std::vector<uint32_t> locations_;
  std::vector<uint32_t> functions_;
  std::vector<uint32_t> mappings_;
  std::vector<uint32_t> strings_;
  std::vector<uint32_t> path_;
  std::vector<SymbolLine> lines_;
};

}  // namespace embers::block

#endif  // EMBERS_BLOCK_SYMBOLS_MERGER_H_
