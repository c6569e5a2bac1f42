// JfrLabelsSnapshot: the context labels the Pyroscope Java agent sends beside a JFR recording.
//
// async-profiler (as patched for Pyroscope) stamps each sample with a `contextId`; the agent
// sends, in the multipart field `labels`, a protobuf `LabelsSnapshot` that maps each context id
// to a set of (name, value) labels, both given as ids into a string table:
//
//   message Context        { map<int64, int64> labels = 1; }     // name id -> value id
//   message LabelsSnapshot { map<int64, Context> contexts = 1; map<int64, string> strings = 2; }
//
// Used by the JFR converter (jfr_to_profiles.h). We decode it with a tiny hand-written protobuf
// reader rather than generated code: the message is small and this keeps the module free of
// proto dependencies.
#ifndef EMBERS_INGEST_JFR_JFR_LABELS_H_
#define EMBERS_INGEST_JFR_JFR_LABELS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace embers::jfr {

struct JfrLabelsSnapshot {
  // context id -> (name string id, value string id), keys unique (the last entry wins, as in
  // protobuf map semantics), in wire order.
  absl::flat_hash_map<int64_t, std::vector<std::pair<int64_t, int64_t>>> contexts;
  absl::flat_hash_map<int64_t, std::string> strings;
};

// Decodes an uncompressed LabelsSnapshot. Errors are InvalidArgument.
absl::StatusOr<JfrLabelsSnapshot> ParseLabelsSnapshot(std::string_view data);

}  // namespace embers::jfr

#endif  // EMBERS_INGEST_JFR_JFR_LABELS_H_
