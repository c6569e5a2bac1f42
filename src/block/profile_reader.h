// ProfileReader: the rows of one dataset's profiles section, in order, read through bounded ranged
// reads.
//
// The one reader of profiles sections. ObjectReader::ReadProfiles (the query path) reads a section
// in one fetch and keeps the rows of a time range; compaction streams large sections of many
// sources at once through windows of a few MiB, so its memory does not grow with its input. The
// section is read front to back: the chunk directory, then each chunk, whose CRC32C is checked
// before it is decompressed (ChunkDecoder then decodes its rows one at a time), while the
// section's own CRC32C is extended over every byte and compared at the end. Chunks outside the
// time range are not decompressed (but still read, for that checksum). Every error is DataLoss
// naming the object, dataset and section, or the bucket's error.
#ifndef EMBERS_BLOCK_PROFILE_READER_H_
#define EMBERS_BLOCK_PROFILE_READER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "block/object_reader.h"
#include "block/profile_chunk.h"
#include "block/section.h"

namespace embers::block {

class ProfileReader {
 public:
  struct Options {
    // Bytes fetched per ranged read (a chunk larger than this is fetched whole); 0 fetches the
    // whole section at once.
    uint64_t window_bytes = 0;
    // Rows outside [min_time_ms, max_time_ms] are skipped.
    int64_t min_time_ms = INT64_MIN;
    int64_t max_time_ms = INT64_MAX;
  };

  ProfileReader() = default;
  // Not movable: the decoder points into the reader's buffers.
  ProfileReader(const ProfileReader&) = delete;
  ProfileReader& operator=(const ProfileReader&) = delete;

  // Starts reading the profiles section of `dataset` of `object` (which must outlive the reader):
  // fetches the first window and the chunk directory.
  absl::Status Open(const ObjectReader& object, int dataset, Options options);

  // Moves to the next row (in the time range) and decodes its header; false at the end of the
  // section, after its checksum was verified.
  absl::StatusOr<bool> Next(RowHeader* row);
  // Appends the samples of the row Next returned (not reading them skips them).
  absl::Status ReadSamples(std::vector<uint32_t>* stack_ids, std::vector<int64_t>* values,
                           std::vector<uint64_t>* span_ids,
                           std::vector<model::TraceId>* trace_ids) {
    return decoder_.ReadSamples(stack_ids, values, span_ids, trace_ids);
  }

  // The chunk directory (after Open).
  size_t chunk_count() const { return chunks_.size(); }
  const ChunkEntry& chunk(size_t i) const { return chunks_[i]; }
  // From now on reads only chunks [begin, end) of the directory, and nothing else of the section:
  // how several threads share the chunks of one large section. The section checksum cannot be
  // verified on a part of the section; every chunk's own checksum still is (and compaction, which
  // reads whole sections, verifies both). Valid after Open, before any row of a chunk was read.
  void ReadOnlyChunks(size_t begin, size_t end);
  // Opens the section `other` opened (copying its directory rather than fetching it again), for
  // reading other chunks of it on another thread. `other` may be read concurrently.
  void OpenSameSection(const ProfileReader& other);

  // Samples, span ids and trace ids of the current chunk not read yet (for reserving room).
  uint64_t samples_left_in_chunk() const { return decoder_.samples_left(); }
  uint64_t spans_left_in_chunk() const { return decoder_.spans_left(); }
  uint64_t traces_left_in_chunk() const { return decoder_.traces_left(); }
  // How errors name the section.
  const std::string& what() const { return what_; }
  uint64_t bytes_fetched() const { return bytes_fetched_; }
  // Heap bytes held: the window, the decompressed chunk and the directory.
  size_t MemoryBytes() const;

 private:
  absl::Status Corrupt(std::string_view why) const;
  // Makes section bytes [begin, end) available in buffer_. Reading only moves forward: the bytes
  // before `begin` are added to the section checksum and dropped.
  absl::Status Fetch(uint64_t begin, uint64_t end);
  std::string_view Buffered(uint64_t begin, uint64_t end) const {
    return std::string_view(buffer_).substr(begin - buffer_begin_, end - begin);
  }
  // Parses one item at `*pos` with `parse` (a ByteReader* -> bool), fetching more of the section
  // while the bytes buffered do not hold all of it.
  template <typename Parse>
  absl::Status ParseAt(uint64_t* pos, Parse&& parse, std::string_view what);
  absl::Status StartChunk(const ChunkEntry& chunk);
  // Verifies the section checksum once every chunk is read.
  absl::Status Finish();

  const ObjectReader* object_ = nullptr;
  Options options_;
  std::string what_;
  uint64_t section_offset_ = 0;  // of the section in the object
  uint64_t section_size_ = 0;
  // Section bytes [buffer_begin_, buffer_begin_ + buffer_.size()); those before checked_ are in
  // crc_ already.
  std::string buffer_;
  uint64_t buffer_begin_ = 0;
  uint64_t checked_ = 0;
  uint32_t crc_ = 0;
  uint64_t bytes_fetched_ = 0;

  std::vector<ChunkEntry> chunks_;
  size_t next_chunk_ = 0;
  uint64_t area_begin_ = 0;  // section offset of the chunk area
  std::string chunk_scratch_;
  ZstdContext zstd_;
  size_t end_chunk_ = 0;  // chunks [next_chunk_, end_chunk_) are left to read
  // Whole-section reads extend and check the section checksum; ReadOnlyChunks reads do not, and
  // fetch no byte past fetch_end_.
  bool verify_section_ = true;
  uint64_t fetch_end_ = 0;
  ChunkDecoder decoder_;
  bool finished_ = false;
};

// Appends every row left in `reader` (in its time range) to `rows`, with its samples.
absl::Status ReadRemainingRows(ProfileReader* reader, ProfileRows* rows);

}  // namespace embers::block

#endif  // EMBERS_BLOCK_PROFILE_READER_H_
