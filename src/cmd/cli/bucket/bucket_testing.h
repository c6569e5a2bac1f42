// Test helpers for the bucket commands: small objects written by the project's own writer
// (DatasetBuilder and BuildObject, as the segment-writer and compaction write them), with what
// went into them, and their index entries. Test-only.
#ifndef EMBERS_CMD_CLI_BUCKET_BUCKET_TESTING_H_
#define EMBERS_CMD_CLI_BUCKET_BUCKET_TESTING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "cmd/cli/bucket/index_listing.h"
#include "metastore/v1/types.pb.h"
#include "objstore/bucket.h"

namespace embers::cli::testing {

struct ObjectSpec {
  // 0: a segment (segments/…, datasets of every tenant); above: a compacted block of tenants[0].
  uint32_t level = 0;
  uint32_t shard = 1;
  std::vector<std::string> tenants = {"tenant-a"};
  std::vector<std::string> services = {"api"};
  // The ULID's time, which dates the object.
  absl::Time created = absl::Now() - absl::Hours(2);
  int series = 2;           // per dataset
  int rows_per_series = 5;  // one profile each, 3 samples each
  size_t rows_per_chunk = 2;
};

struct TestObject {
  std::string key;
  metastore::v1::BlockMeta meta;  // as the metastore indexes it (size set)
  std::string bytes;
  // Per dataset, in the object's order.
  size_t datasets = 0;
  size_t series_per_dataset = 0;
  size_t rows_per_dataset = 0;
  size_t samples_per_dataset = 0;
  size_t functions_per_dataset = 0;  // = locations: one per function
  size_t stack_nodes_per_dataset = 0;
};

TestObject MakeObject(const ObjectSpec& spec);
absl::Status PutObject(objstore::Bucket& bucket, const TestObject& object);
// The entry ListIndex gives for the object.
IndexedBlock IndexEntry(const TestObject& object);

// Offsets of one dataset's sections: [begin, end) of section `index` (0 series, 1 profiles, 2
// symbols).
std::pair<uint64_t, uint64_t> SectionBounds(const TestObject& object, int dataset, int index);

}  // namespace embers::cli::testing

#endif  // EMBERS_CMD_CLI_BUCKET_BUCKET_TESTING_H_
