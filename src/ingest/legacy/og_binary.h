// Parsers for the two binary /ingest formats of the original ("og") Pyroscope agents.
//
//   format=trie (Content-Type binary/octet-stream+trie): the transport trie. Pre-order DFS; each
//     node is `uvarint len, label bytes, uvarint value, uvarint childCount`. A node's key is the
//     concatenation of the labels from the top down (labels are arbitrary byte runs, not frames:
//     "foo;ba" + "r;baz"), and a node with value > 0 is one stack, its key split on ';'. The body
//     may hold several top-level nodes one after another; an empty body has no samples.
//   format=tree (Content-Type binary/octet-stream+tree): the og tree without dictionary. Pre-order
//     DFS; each node is `uvarint len, name, uvarint self, uvarint childCount`. The first node is
//     an unnamed root (its name and self are ignored, as upstream does); every other node is one
//     frame, and a node with self > 0 is one sample whose stack is the path below the root.
//
// Used by the /ingest handler. Truncated or inconsistent input is a 422 naming the byte offset;
// declared lengths and child counts are checked against the bytes left before they are trusted.
#ifndef EMBERS_INGEST_LEGACY_OG_BINARY_H_
#define EMBERS_INGEST_LEGACY_OG_BINARY_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "ingest/legacy/stack_samples.h"

namespace embers::ingest {

absl::StatusOr<StackSamples> ParseTrie(std::string_view body,
                                       const ParseLimits& limits = ParseLimits());

absl::StatusOr<StackSamples> ParseTree(std::string_view body,
                                       const ParseLimits& limits = ParseLimits());

}  // namespace embers::ingest

#endif  // EMBERS_INGEST_LEGACY_OG_BINARY_H_
