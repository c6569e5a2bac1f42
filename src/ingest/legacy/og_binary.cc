#include "ingest/legacy/og_binary.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/strings.h"
#include "ingest/legacy/og_field_reader.h"

namespace embers::ingest {
namespace {

// The smallest encoded node is three one-byte uvarints (empty label, value, child count).
constexpr uint64_t kMinNodeBytes = 3;

// An open node whose children are still being read.
struct OpenNode {
  uint64_t children_left;
  size_t restore_len;  // key (trie) or path (tree) length to restore once the node is done
};

absl::Status ReadNode(OgFieldReader& in, std::string_view* label, uint64_t* value,
                      uint64_t* children) {
  EMBERS_RETURN_IF_ERROR(in.ReadString("node name", label));
  EMBERS_RETURN_IF_ERROR(in.ReadUvarint("node value", value));
  const size_t at = in.offset();
  EMBERS_RETURN_IF_ERROR(in.ReadUvarint("child count", children));
  if (*children > in.remaining() / kMinNodeBytes) {
    return in.Error(at, StrCat("child count ", *children, " is impossible with ", in.remaining(),
                               " bytes left"));
  }
  if (*value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return in.Error(at, StrCat("value ", *value, " exceeds int64"));
  }
  return absl::OkStatus();
}

// Marks one child of the innermost open node as done, closing every node that is then complete.
// `restore` is called with the length to cut the key/path back to for each closed node.
template <class Restore>
void FinishChild(std::vector<OpenNode>& open, Restore&& restore) {
  while (!open.empty()) {
    if (--open.back().children_left > 0) return;
    restore(open.back().restore_len);
    open.pop_back();
  }
}

}  // namespace

absl::StatusOr<StackSamples> ParseTrie(std::string_view body, const ParseLimits& limits) {
  StackSamplesBuilder builder(limits);
  OgFieldReader in(body, "trie");
  std::string key;
  std::vector<OpenNode> open;
  while (!in.AtEnd()) {
    std::string_view label;
    uint64_t value = 0, children = 0;
    EMBERS_RETURN_IF_ERROR(ReadNode(in, &label, &value, &children));
    const size_t restore_len = key.size();
    key.append(label);
    if (value > 0) {
      absl::Status status = builder.AddFoldedStack(key, static_cast<int64_t>(value));
      if (!status.ok()) return Annotate(status, StrCat("trie at byte ", in.offset()));
    }
    if (children > 0) {
      open.push_back({children, restore_len});
      continue;
    }
    key.resize(restore_len);
    FinishChild(open, [&](size_t len) { key.resize(len); });
  }
  if (!open.empty()) {
    return in.Error(in.offset(), StrCat("truncated: ", open.back().children_left,
                                        " child node(s) missing at depth ", open.size()));
  }
  return builder.Finish();
}

absl::StatusOr<StackSamples> ParseTree(std::string_view body, const ParseLimits& limits) {
  StackSamplesBuilder builder(limits);
  OgFieldReader in(body, "tree");
  if (in.AtEnd()) return in.Error(0, "empty body");

  std::string_view name;
  uint64_t self = 0, children = 0;
  // The root: nameless by convention, and its self value is never emitted upstream.
  EMBERS_RETURN_IF_ERROR(ReadNode(in, &name, &self, &children));
  std::vector<uint32_t> path;
  std::vector<OpenNode> open;
  if (children > 0) open.push_back({children, 0});
  while (!open.empty()) {
    if (in.AtEnd()) {
      return in.Error(in.offset(), StrCat("truncated: ", open.back().children_left,
                                          " child node(s) missing at depth ", open.size()));
    }
    EMBERS_RETURN_IF_ERROR(ReadNode(in, &name, &self, &children));
    const size_t restore_len = path.size();
    // Upstream joins names with ';' and re-splits them, so a name holding ';' is several frames.
    size_t start = 0;
    while (true) {
      size_t end = name.find(';', start);
      if (end == std::string_view::npos) end = name.size();
      if (path.size() >= limits.max_stack_depth) {
        return PayloadTooLargeError(StrCat("tree at byte ", in.offset(), ": stack depth exceeds ",
                                           "the limit of ", limits.max_stack_depth));
      }
      uint32_t id;
      EMBERS_RETURN_IF_ERROR(builder.InternFrame(name.substr(start, end - start), &id));
      path.push_back(id);
      if (end == name.size()) break;
      start = end + 1;
    }
    if (self > 0) {
      absl::Status status = builder.AddStack(path, static_cast<int64_t>(self));
      if (!status.ok()) return Annotate(status, StrCat("tree at byte ", in.offset()));
    }
    if (children > 0) {
      open.push_back({children, restore_len});
      continue;
    }
    path.resize(restore_len);
    FinishChild(open, [&](size_t len) { path.resize(len); });
  }
  // Bytes after the root's subtree are ignored, as upstream's deserializer does.
  return builder.Finish();
}

}  // namespace embers::ingest
