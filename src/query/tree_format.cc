#include "query/tree_format.h"

#include <vector>

#include "base/strings.h"
#include "base/varint.h"
#include "query/flame_graph.h"

namespace embers::query {

std::string MarshalTree(const FunctionTree& tree, int64_t max_nodes) {
  const std::vector<int64_t> totals = tree.Totals();
  const int64_t min_total = MinNodeTotal(tree, totals, max_nodes);
  const ChildIndex children(tree);
  constexpr uint32_t kOther = UINT32_MAX;
  struct Item {
    uint32_t node;
    int64_t other;  // the folded total, for an "other" node
  };
  std::string out;
  std::vector<Item> stack{{FunctionTree::kRoot, 0}};
  std::vector<uint32_t> kept;
  while (!stack.empty()) {
    const Item it = stack.back();
    stack.pop_back();
    if (it.node == kOther) {
      PutLengthPrefixed(&out, kOtherNodeName);
      PutVarint64(&out, static_cast<uint64_t>(it.other));
      PutVarint64(&out, 0);
      continue;
    }
    kept.clear();
    int64_t other = 0;
    for (uint32_t c : children.Of(it.node)) {
      if (totals[c] >= min_total && tree.name(c) != kOtherNodeName) {
        kept.push_back(c);
      } else {
        other += totals[c];
      }
    }
    // The virtual root has no self: samples with an empty stack are not shown, as upstream.
    const int64_t self = it.node == FunctionTree::kRoot ? 0 : tree.self(it.node);
    PutLengthPrefixed(&out, tree.name(it.node));
    PutVarint64(&out, static_cast<uint64_t>(self));
    PutVarint64(&out, kept.size() + (other != 0 ? 1 : 0));
    if (other != 0) stack.push_back({kOther, other});
    for (uint32_t c : kept) stack.push_back({c, 0});  // popped last first: descending names
  }
  return out;
}

absl::StatusOr<FunctionTree> UnmarshalTree(std::string_view bytes) {
  FunctionTree tree;
  ByteReader in(bytes);
  // Each entry: the tree node whose children are still being read, and how many are left.
  struct Open {
    uint32_t node;
    uint64_t children_left;
  };
  std::vector<Open> open;
  bool root_seen = false;
  while (!in.empty()) {
    const size_t at = in.position();
    std::string_view name;
    uint64_t self = 0, children = 0;
    if (!in.ReadLengthPrefixed(&name) || !in.ReadVarint64(&self) || !in.ReadVarint64(&children)) {
      return absl::InvalidArgumentError(StrCat("tree: truncated node at byte ", at));
    }
    if (children > bytes.size()) {
      return absl::InvalidArgumentError(
          StrCat("tree: node at byte ", at, " claims ", children, " children"));
    }
    uint32_t node = FunctionTree::kRoot;
    if (!root_seen) {
      root_seen = true;
    } else {
      if (open.empty()) {
        return absl::InvalidArgumentError(StrCat("tree: extra node at byte ", at));
      }
      node = tree.Child(open.back().node, tree.InternName(name));
      if (--open.back().children_left == 0) open.pop_back();
    }
    tree.AddSelf(node, static_cast<int64_t>(self));
    if (children > 0) open.push_back({node, children});
  }
  if (!open.empty()) return absl::InvalidArgumentError("tree: missing child nodes at the end");
  return tree;
}

}  // namespace embers::query
