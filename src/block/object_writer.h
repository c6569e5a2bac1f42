// Assembles encoded datasets into one object (docs/format.md): datasets back to back, then the
// BlockMeta footer. ObjectWriter streams them into a SpillBuffer: compaction writes each output
// block to a temporary file with it, one dataset at a time; BuildObject, its in-memory form, is
// what the segment-writer calls once per shard per flush. ObjectKey() is the one place that knows
// the bucket layout of objects.
#ifndef EMBERS_BLOCK_OBJECT_WRITER_H_
#define EMBERS_BLOCK_OBJECT_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "block/dataset_writer.h"
#include "block/spill_buffer.h"
#include "metastore/v1/types.pb.h"

namespace embers::block {

// The format version written (docs/format.md "Versioning"); readers also read every version
// from kOldestFormatVersion on.
inline constexpr uint32_t kFormatVersion = 2;
inline constexpr uint32_t kOldestFormatVersion = 1;
inline constexpr char kMagic[4] = {'E', 'M', 'B', '1'};
// u32 meta length + u32 CRC32C + u32 version + magic.
inline constexpr size_t kFooterTrailerSize = 16;

struct ObjectDescription {
  std::string id;  // ULID
  uint32_t shard = 0;
  uint32_t compaction_level = 0;
  std::string tenant;      // empty for level-0 segments (they hold every tenant)
  std::string created_by;  // host name
};

struct BuiltObject {
  std::string bytes;
  // The metadata as embedded, plus `size` (the object length), as the metastore indexes it.
  metastore::v1::BlockMeta meta;
};

class ObjectWriter {
 public:
  // Writes the object to `out`, which must outlive the writer.
  ObjectWriter(const ObjectDescription& description, SpillBuffer* out);

  // Appends the dataset's sections (datasets in (tenant, service) order) and frees its buffers.
  void AddDataset(EncodedDataset dataset);
  // Appends the footer. Returns the metadata as embedded plus `size`; I/O errors are in the
  // SpillBuffer's status.
  metastore::v1::BlockMeta Finish();

 private:
  int32_t Intern(std::string_view s);

  SpillBuffer* out_;
  metastore::v1::BlockMeta meta_;
  absl::flat_hash_map<std::string, int32_t> strings_;  // meta_.string_table() index
  int64_t min_time_ms_ = INT64_MAX;
  int64_t max_time_ms_ = INT64_MIN;
};

// The object in memory. `datasets` must be ordered by (tenant, service) and non-empty.
BuiltObject BuildObject(const ObjectDescription& description, std::vector<EncodedDataset> datasets);

// segments/<shard>/anonymous/<id>/block.bin for level 0, blocks/<shard>/<tenant>/<id>/block.bin
// above. `tenant` is the string of the block's tenant (meta.string_table()[meta.tenant()]).
std::string ObjectKey(uint32_t compaction_level, uint32_t shard, std::string_view tenant,
                      std::string_view id);
std::string ObjectKey(const metastore::v1::BlockMeta& meta);

}  // namespace embers::block

#endif  // EMBERS_BLOCK_OBJECT_WRITER_H_
