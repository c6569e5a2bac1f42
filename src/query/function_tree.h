// FunctionTree: a call tree keyed by function names, the report a flame graph query builds.
//
// Every node is a frame (a function name) under its caller; `self` is the value of samples whose
// stack ends there, and a node's total is its self plus its children's totals. Read tasks of the
// query-backend each build one tree from the datasets they read (resolving stack-trace ids to
// names once per dataset), the backend merges them, and flame_graph.h renders the result.
//
// Storage is flat arrays indexed by node number (node 0 is the virtual root): a parent is always
// created before its children, so parent index < child index, which lets totals and merges be
// single forward or backward passes without recursion. Names are interned once per tree.
#ifndef EMBERS_QUERY_FUNCTION_TREE_H_
#define EMBERS_QUERY_FUNCTION_TREE_H_

#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace embers::query {

class FunctionTree {
 public:
  static constexpr uint32_t kRoot = 0;

  FunctionTree();
  FunctionTree(FunctionTree&&) = default;
  FunctionTree& operator=(FunctionTree&&) = default;

  // The id of `name` in this tree's name table (id 0 is "", the root's name).
  uint32_t InternName(std::string_view name);
  // The child of `parent` named `name_id`, created (with self 0) when absent.
  uint32_t Child(uint32_t parent, uint32_t name_id);
  void AddSelf(uint32_t node, int64_t value) { self_[node] += value; }

  // Adds `value` to the stack given root first. For tests and small callers.
  void InsertStack(std::span<const std::string_view> root_first, int64_t value);

  // Adds every node of `other` (by name path) to this tree, values included.
  void Merge(const FunctionTree& other);
  // Adds every node of `other` (by name path) with no value; returns, for each node of `other`,
  // the node of this tree it maps to. The flame graph diff aligns two trees with it.
  std::vector<uint32_t> MergeShape(const FunctionTree& other);

  size_t size() const { return parent_.size(); }
  uint32_t parent(uint32_t node) const { return parent_[node]; }
  uint32_t name_id(uint32_t node) const { return name_[node]; }
  std::string_view name(uint32_t node) const { return names_[name_[node]]; }
  std::string_view NameOf(uint32_t name_id) const { return names_[name_id]; }
  size_t name_count() const { return names_.size(); }
  int64_t self(uint32_t node) const { return self_[node]; }

  // Totals of every node (self + descendants), indexed like the nodes.
  std::vector<int64_t> Totals() const;
  // Sum of all selves: the value of every sample in the tree.
  int64_t Total() const;

  // Approximate heap bytes held, for memory accounting.
  size_t MemoryBytes() const;

 private:
  static uint64_t EdgeKey(uint32_t parent, uint32_t name_id) {
    return (static_cast<uint64_t>(parent) << 32) | name_id;
  }

  std::vector<uint32_t> parent_;
  std::vector<uint32_t> name_;
  std::vector<int64_t> self_;
  absl::flat_hash_map<uint64_t, uint32_t> edges_;  // (parent, name) → child

  // Interned names. A deque never moves its elements, so the views in name_index_ stay valid.
  std::deque<std::string> names_;
  absl::flat_hash_map<std::string_view, uint32_t> name_index_;
  size_t name_bytes_ = 0;
};

// The children of every node of a tree in one flat array (CSR), each node's children sorted by
// name: the order every renderer (flame graph, tree bytes, DOT) walks them in.
class ChildIndex {
 public:
  explicit ChildIndex(const FunctionTree& tree);
  std::span<const uint32_t> Of(uint32_t node) const {
    return {child_.data() + begin_[node], begin_[node + 1] - begin_[node]};
  }

 private:
  std::vector<uint32_t> begin_;  // size()+1 entries
  std::vector<uint32_t> child_;
};

}  // namespace embers::query

#endif  // EMBERS_QUERY_FUNCTION_TREE_H_
