// CheckObject: whether one object of the bucket is intact — what `bucket verify` does to every
// object.
//
// The footer is checked by block::ObjectReader::Open (magic, version, metadata checksum, section
// offsets); then every section's CRC32C (docs/format.md "Sections": the last four bytes of a
// section are the CRC32C of the bytes before them) is computed over the data as it streams past,
// so each byte is read once and nothing is decompressed. The metadata must tile the data area
// with its sections (a byte outside every section would be covered by no checksum) and agree with
// the key (id, shard, level, tenant). With `deep`, every section is also decoded through the
// reader, as a query or compaction would.
//
// An object up to `whole_object_limit` is fetched with one Get (one request to an object store,
// one read from a filesystem); a larger one by ranged reads of `window_bytes`, so memory stays
// bounded whatever the size of a compacted block.
#ifndef EMBERS_CMD_CLI_BUCKET_OBJECT_CHECK_H_
#define EMBERS_CMD_CLI_BUCKET_OBJECT_CHECK_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "block/object_reader.h"
#include "objstore/bucket.h"

namespace embers::cli {

// The CRC32C of every section of one object, checked as the object's data area (the bytes before
// the metadata) is fed in order.
class SectionChecksums {
 public:
  // The sections `reader` (an opened object) lists. DataLoss when they leave bytes of the data
  // area uncovered, overlap, or one is too short to hold a section.
  static absl::StatusOr<SectionChecksums> For(const block::ObjectReader& reader);

  // Where the data area ends (the metadata starts).
  uint64_t data_end() const { return data_end_; }
  // The next bytes of the data area. DataLoss naming the section whose checksum does not match.
  absl::Status Update(std::string_view bytes);
  // DataLoss unless every section was fed.
  absl::Status Finish() const;

 private:
  struct Section {
    uint64_t begin = 0;
    uint64_t end = 0;
    std::string name;  // how errors name it ("object K dataset D (svc) series section")
  };

  std::vector<Section> sections_;  // by offset
  uint64_t data_end_ = 0;
  uint64_t position_ = 0;  // bytes fed so far
  size_t current_ = 0;     // section being fed
  uint32_t crc_ = 0;       // of the current section's bytes so far
  char stored_[4] = {};    // the current section's stored checksum, as it arrives
  size_t stored_length_ = 0;
};

struct ObjectCheckOptions {
  // Also decode every section (series, every profile row, symbols) and check the stack ids.
  bool deep = false;
  uint64_t whole_object_limit = uint64_t{64} << 20;
  uint64_t window_bytes = uint64_t{8} << 20;
};

// Checks the object `key`. `expected_size` is the size the index gives (0: unknown; the object is
// then asked its size first). `on_bytes` (optional) is told of bytes as they are
// read. OK when intact; DataLoss or FailedPrecondition naming the key when not; NotFound when the
// object does not exist; the bucket's error when it cannot be read.
absl::Status CheckObject(objstore::Bucket& bucket, const std::string& key, uint64_t expected_size,
                         const ObjectCheckOptions& options,
                         const std::function<void(uint64_t bytes)>& on_bytes = nullptr);

}  // namespace embers::cli

#endif  // EMBERS_CMD_CLI_BUCKET_OBJECT_CHECK_H_
