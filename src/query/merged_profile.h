// MergedProfile: the report of a pprof query (SelectMergeProfile, format=PPROF, DOT).
//
// Unlike FunctionTree, which keeps only function names, a merged profile keeps full symbols —
// mappings, functions with file names, locations with addresses and line numbers — so the result
// is a real pprof that `go tool pprof` can load. Read tasks of the query-backend add the
// aggregated value of each stack of a dataset through a block::SymbolsMerger; reports of several
// objects merge the same way; ToPprof renders the result.
#ifndef EMBERS_QUERY_MERGED_PROFILE_H_
#define EMBERS_QUERY_MERGED_PROFILE_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "block/symbols.h"
#include "block/symbols_merger.h"
#include "google/v1/profile.pb.h"
#include "model/profile_type.h"

namespace embers::query {

class MergedProfile {
 public:
  MergedProfile() : symbols_(std::make_unique<block::SymbolsBuilder>()) {}
  MergedProfile(MergedProfile&&) = default;
  MergedProfile& operator=(MergedProfile&&) = default;

  // Adds `value` to the stack that is node `node` of `merger`'s source symbols. The merger must
  // have been created on symbols() of this profile.
  void Add(block::SymbolsMerger& merger, uint32_t node, int64_t value);
  block::SymbolsBuilder* symbols() { return symbols_.get(); }

  void Merge(const MergedProfile& other);

  bool empty() const { return nonzero_ == 0; }
  // The value of each stack-tree node of symbols() (0 for most; may be shorter than the tree).
  const std::vector<int64_t>& values() const { return self_; }
  const block::SymbolsBuilder& symbols_builder() const { return *symbols_; }
  // Sum of every stack's value.
  int64_t Total() const;
  size_t MemoryBytes() const;

  // The merged profile as pprof: one sample type (the query's), one sample per distinct stack,
  // ids 1..N. With max_nodes > 0 and more stack-tree nodes than that, stacks are cut below the
  // nodes whose total is under the max_nodes-th largest and the cut part becomes one frame named
  // "other", so totals are preserved (as the flame graph's truncation).
  google::v1::Profile ToPprof(const model::ProfileType& type, int64_t start_ms, int64_t end_ms,
                              int64_t max_nodes) const;

 private:
  std::unique_ptr<block::SymbolsBuilder> symbols_;
  std::vector<int64_t> self_;  // by node of symbols_
  size_t nonzero_ = 0;
};

}  // namespace embers::query

#endif  // EMBERS_QUERY_MERGED_PROFILE_H_
