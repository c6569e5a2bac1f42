#include "query/function_tree.h"

#include <algorithm>

namespace embers::query {

FunctionTree::FunctionTree() {
  names_.emplace_back();
  name_index_.emplace(names_.back(), 0);
  parent_.push_back(kRoot);
  name_.push_back(0);
  self_.push_back(0);
}

uint32_t FunctionTree::InternName(std::string_view name) {
  auto it = name_index_.find(name);
  if (it != name_index_.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(names_.size());
  names_.emplace_back(name);
  name_bytes_ += name.size();
  name_index_.emplace(names_.back(), id);
  return id;
}

uint32_t FunctionTree::Child(uint32_t parent, uint32_t name_id) {
  auto [it, inserted] =
      edges_.try_emplace(EdgeKey(parent, name_id), static_cast<uint32_t>(parent_.size()));
  if (inserted) {
    parent_.push_back(parent);
    name_.push_back(name_id);
    self_.push_back(0);
  }
  return it->second;
}

void FunctionTree::InsertStack(std::span<const std::string_view> root_first, int64_t value) {
  uint32_t node = kRoot;
  for (std::string_view frame : root_first) node = Child(node, InternName(frame));
  AddSelf(node, value);
}

std::vector<uint32_t> FunctionTree::MergeShape(const FunctionTree& other) {
  // Map other's name ids and nodes to ours; parents precede children, so one forward pass works.
  std::vector<uint32_t> names(other.names_.size(), UINT32_MAX);
  std::vector<uint32_t> nodes(other.size());
  nodes[kRoot] = kRoot;
  for (uint32_t i = 1; i < other.size(); ++i) {
    uint32_t& n = names[other.name_[i]];
    if (n == UINT32_MAX) n = InternName(other.names_[other.name_[i]]);
    nodes[i] = Child(nodes[other.parent_[i]], n);
  }
  return nodes;
}

void FunctionTree::Merge(const FunctionTree& other) {
  const std::vector<uint32_t> nodes = MergeShape(other);
  for (uint32_t i = 0; i < other.size(); ++i) self_[nodes[i]] += other.self_[i];
}

ChildIndex::ChildIndex(const FunctionTree& tree) : begin_(tree.size() + 1, 0) {
  const size_t n = tree.size();
  if (n > 1) child_.resize(n - 1);
  for (uint32_t i = 1; i < n; ++i) ++begin_[tree.parent(i) + 1];
  for (size_t i = 1; i <= n; ++i) begin_[i] += begin_[i - 1];
  std::vector<uint32_t> cursor(begin_.begin(), begin_.end() - 1);
  for (uint32_t i = 1; i < n; ++i) child_[cursor[tree.parent(i)]++] = i;
  for (size_t i = 0; i < n; ++i) {
    std::sort(child_.begin() + begin_[i], child_.begin() + begin_[i + 1],
              [&tree](uint32_t a, uint32_t b) { return tree.name(a) < tree.name(b); });
  }
}

std::vector<int64_t> FunctionTree::Totals() const {
  std::vector<int64_t> total(self_);
  for (size_t i = total.size(); i-- > 1;) total[parent_[i]] += total[i];
  return total;
}

int64_t FunctionTree::Total() const {
  int64_t sum = 0;
  for (int64_t v : self_) sum += v;
  return sum;
}

size_t FunctionTree::MemoryBytes() const {
  return parent_.capacity() * (2 * sizeof(uint32_t) + sizeof(int64_t)) +
         edges_.capacity() * (sizeof(uint64_t) + sizeof(uint32_t) + 1) +
         names_.size() * (sizeof(std::string) + 24) + name_bytes_;
}

}  // namespace embers::query
