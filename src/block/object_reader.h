// ObjectReader: reads an object written by BuildObject, fetching only what is asked for.
//
// Open() fetches the footer (one ranged read of the tail, a second only when the metadata is
// larger than that) and decodes BlockMeta; FromMeta() starts from the metadata the metastore
// already has (compaction), optionally with the object's bytes fetched whole. ReadSeries,
// ReadProfiles and ReadSymbols then fetch one section of one dataset by byte range and verify its
// checksum; ReadProfiles decodes only the chunks that overlap the requested time range (through
// ProfileReader, which compaction uses to stream large sections). Used by the query-backend,
// compaction and tests. Every error names the object key.
#ifndef EMBERS_BLOCK_OBJECT_READER_H_
#define EMBERS_BLOCK_OBJECT_READER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "block/profile_chunk.h"
#include "block/symbols.h"
#include "metastore/v1/types.pb.h"
#include "model/labels.h"
#include "model/profile_id.h"
#include "model/trace_id.h"
#include "objstore/bucket.h"

namespace embers::block {

struct SeriesInfo {
  model::Labels labels;
  uint64_t fingerprint = 0;
  uint32_t first_row = 0;
  uint32_t row_count = 0;
  int64_t min_time_ms = 0;
  int64_t max_time_ms = 0;
};

// Decoded profile rows in flat columns. Row i has samples [sample_begin[i], +sample_count[i]) in
// stack_ids/values, span ids [span_begin[i], +span_count[i]) in span_ids and trace ids
// [trace_begin[i], +trace_count[i]) in trace_ids (span and trace counts are 0 or sample_count).
struct ProfileRows {
  std::vector<uint32_t> series;  // series rank (index into ReadSeries())
  std::vector<int64_t> timestamp_ms;
  std::vector<int64_t> duration_ns;
  std::vector<uint32_t> sample_begin;
  std::vector<uint32_t> sample_count;
  std::vector<uint32_t> span_begin;
  std::vector<uint32_t> span_count;
  std::vector<uint32_t> trace_begin;
  std::vector<uint32_t> trace_count;
  std::vector<uint32_t> stack_ids;
  std::vector<int64_t> values;
  std::vector<uint64_t> span_ids;
  std::vector<model::TraceId> trace_ids;
  std::vector<model::ProfileId> profile_ids;  // one per row (zero: none)

  size_t size() const { return series.size(); }
  // Empties every column, keeping their memory (a reader reusing one ProfileRows per chunk).
  void Clear() {
    for (auto* v : {&series, &sample_begin, &sample_count, &span_begin, &span_count, &trace_begin,
                    &trace_count, &stack_ids}) {
      v->clear();
    }
    trace_ids.clear();
    timestamp_ms.clear();
    duration_ns.clear();
    values.clear();
    span_ids.clear();
    profile_ids.clear();
  }
  // Appends a row; its samples are to be appended to the sample columns next.
  void AddRow(const RowHeader& row) {
    series.push_back(row.series);
    timestamp_ms.push_back(row.timestamp_ms);
    duration_ns.push_back(row.duration_ns);
    sample_begin.push_back(static_cast<uint32_t>(stack_ids.size()));
    sample_count.push_back(row.sample_count);
    span_begin.push_back(static_cast<uint32_t>(span_ids.size()));
    span_count.push_back(row.span_count);
    trace_begin.push_back(static_cast<uint32_t>(trace_ids.size()));
    trace_count.push_back(row.trace_count);
    profile_ids.push_back(row.profile_id);
  }
};

class ObjectReader {
 public:
  // `size` is the object's length when known (from the metastore), saving a Size() call.
  static absl::StatusOr<ObjectReader> Open(objstore::Bucket* bucket, std::string key,
                                           uint64_t size = 0);
  // A reader of the object `key` described by `meta` (its `size` must be set), checked as Open
  // checks a footer. `contents`, when given, holds the whole object: reads are served from it.
  static absl::StatusOr<ObjectReader> FromMeta(objstore::Bucket* bucket, std::string key,
                                               metastore::v1::BlockMeta meta,
                                               std::shared_ptr<const std::string> contents = {});

  const metastore::v1::BlockMeta& meta() const { return *meta_; }
  // The object's format version (how its chunks are laid out).
  uint32_t format_version() const { return meta_->format_version(); }
  const std::string& key() const { return key_; }
  // Whether reads are served from the whole object in memory (FromMeta with contents).
  bool holds_contents() const { return contents_ != nullptr; }
  std::string_view String(int32_t index) const;

  absl::StatusOr<std::vector<SeriesInfo>> ReadSeries(int dataset) const;
  // Rows whose chunk overlaps [min_time_ms, max_time_ms]; rows of a fetched chunk outside the
  // range are dropped too.
  absl::StatusOr<ProfileRows> ReadProfiles(int dataset, int64_t min_time_ms = INT64_MIN,
                                           int64_t max_time_ms = INT64_MAX) const;
  absl::StatusOr<Symbols> ReadSymbols(int dataset) const;

  // Where section `index` (0 series, 1 profiles, 2 symbols) of `dataset` lies: [first, second).
  absl::StatusOr<std::pair<uint64_t, uint64_t>> SectionRange(int dataset, int index) const;
  // Bytes [offset, offset + length) of the object; DataLoss when it is shorter.
  absl::StatusOr<std::string> ReadRange(uint64_t offset, uint64_t length) const;
  // "object K dataset D (service) <section> section", how errors name a section.
  std::string SectionName(int dataset, std::string_view section) const;

 private:
  ObjectReader(objstore::Bucket* bucket, std::string key,
               std::shared_ptr<metastore::v1::BlockMeta> meta,
               std::shared_ptr<const std::string> contents)
      : bucket_(bucket),
        key_(std::move(key)),
        meta_(std::move(meta)),
        contents_(std::move(contents)) {}

  // FailedPrecondition unless this build reads objects of `version`.
  static absl::Status CheckVersion(std::string_view key, uint32_t version);
  // Checks the datasets' section offsets (which must end by `data_end`) and string references.
  static absl::Status CheckMeta(const metastore::v1::BlockMeta& meta, std::string_view key,
                                uint64_t data_end);
  // The bytes of section `index` of `dataset`.
  absl::StatusOr<std::string> FetchSection(int dataset, int index) const;

  objstore::Bucket* bucket_;
  std::string key_;
  std::shared_ptr<metastore::v1::BlockMeta> meta_;
  std::shared_ptr<const std::string> contents_;  // the whole object, or null
};

}  // namespace embers::block

#endif  // EMBERS_BLOCK_OBJECT_READER_H_
