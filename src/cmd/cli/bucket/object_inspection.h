// InspectObject: what one object holds — its footer (format version, id, tenant, shard, level,
// time range, size, writer) and, per dataset, its section sizes, series, profile rows, samples and
// symbol counts — as `bucket inspect` prints it.
//
// Everything is read through block::ObjectReader, the way queries and compaction read objects, so
// an object that inspects cleanly is one they can read; every section is decoded (and so its
// checksum verified). The profile rows are streamed chunk by chunk: a large compacted block is
// never held decoded in memory.
#ifndef EMBERS_CMD_CLI_BUCKET_OBJECT_INSPECTION_H_
#define EMBERS_CMD_CLI_BUCKET_OBJECT_INSPECTION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "objstore/bucket.h"

namespace embers::cli {

struct DatasetInspection {
  std::string tenant;
  std::string service;
  int64_t min_time_ms = 0;
  int64_t max_time_ms = 0;
  uint64_t size = 0;
  uint64_t series_bytes = 0;  // stored section sizes, envelope included
  uint64_t profiles_bytes = 0;
  uint64_t symbols_bytes = 0;
  std::vector<std::string> profile_types;  // of the index label sets, sorted
  uint64_t series = 0;
  uint64_t rows = 0;  // profiles
  uint64_t samples = 0;
  uint64_t chunks = 0;  // of the profiles section
  // Symbols (block::Symbols): table sizes; stack_nodes counts the stack-trace tree without its
  // root.
  uint64_t strings = 0;
  uint64_t mappings = 0;
  uint64_t functions = 0;
  uint64_t locations = 0;
  uint64_t stack_nodes = 0;
};

struct ObjectInspection {
  std::string key;
  uint32_t format_version = 0;
  std::string id;
  std::string tenant;  // "" for a level-0 segment (many tenants)
  uint32_t shard = 0;
  uint32_t level = 0;
  int64_t min_time_ms = 0;
  int64_t max_time_ms = 0;
  uint64_t size = 0;
  uint64_t metadata_bytes = 0;  // the footer: metadata and trailer
  std::string created_by;
  std::vector<DatasetInspection> datasets;
};

// Reads the object `key` of `bucket`. The reader's errors (naming the key) when it is corrupt.
absl::StatusOr<ObjectInspection> InspectObject(objstore::Bucket& bucket, const std::string& key);

}  // namespace embers::cli

#endif  // EMBERS_CMD_CLI_BUCKET_OBJECT_INSPECTION_H_
