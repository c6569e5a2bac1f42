// pprof::Profile: our in-memory form of a pprof `google.v1.Profile`.
//
// Every profile pushed to Embers (Push RPC, /ingest pprof, and the formats converted to pprof)
// passes through this type on its way to the segment-writer, so it is built for decoding speed:
// everything lives in a handful of flat vectors (one per message kind) instead of a heap object
// per sample/location/label, and strings are string_views into the decoded bytes, which the
// profile keeps alive through `backing_`. A Profile is a movable, copyable value; copies share
// the (immutable) backing bytes.
//
// Ids vs indexes: pprof refers to locations, functions and mappings by id. The decoder checks
// that every referenced id exists and records, for each element, the index its id maps to, so
// consumers can follow references in O(1) with LocationIndex()/FunctionIndex()/MappingIndex().
//
// Users: pprof/decoder (builds it), pprof/normalize and pprof/split (rewrite it),
// pprof/encoder (writes it back), and later the segment-writer (reads split profiles).
#ifndef EMBERS_PPROF_PROFILE_H_
#define EMBERS_PPROF_PROFILE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace embers::pprof {

// A (type, unit) pair of string-table indexes.
struct ValueType {
  int64_t type = 0;
  int64_t unit = 0;
};

// A sample label. `str` != 0 for string labels; otherwise `num`/`num_unit` hold a numeric one.
struct Label {
  int64_t key = 0;
  int64_t str = 0;
  int64_t num = 0;
  int64_t num_unit = 0;
};

// A sample refers to ranges of the profile's flat arrays. Location ids run leaf first.
struct Sample {
  uint32_t location_begin = 0;  // into Profile::location_ids
  uint32_t location_count = 0;
  uint32_t value_begin = 0;  // into Profile::values
  uint32_t value_count = 0;
  uint32_t label_begin = 0;  // into Profile::labels
  uint32_t label_count = 0;
};

struct Line {
  uint64_t function_id = 0;  // 0 = no function
  int64_t line = 0;
  int64_t column = 0;
};

struct Location {
  uint64_t id = 0;
  uint64_t mapping_id = 0;  // 0 = no mapping
  uint64_t address = 0;
  uint32_t line_begin = 0;  // into Profile::lines
  uint32_t line_count = 0;
  bool is_folded = false;
};

struct Function {
  uint64_t id = 0;
  int64_t name = 0;
  int64_t system_name = 0;
  int64_t filename = 0;
  int64_t start_line = 0;
};

struct Mapping {
  uint64_t id = 0;
  uint64_t memory_start = 0;
  uint64_t memory_limit = 0;
  uint64_t file_offset = 0;
  int64_t filename = 0;
  int64_t build_id = 0;
  bool has_functions = false;
  bool has_filenames = false;
  bool has_line_numbers = false;
  bool has_inline_frames = false;
};

struct Profile {
  // --- google.v1.Profile fields, flattened.
  std::vector<ValueType> sample_types;
  std::vector<Sample> samples;
  std::vector<uint64_t> location_ids;  // sample stacks, concatenated
  std::vector<int64_t> values;         // sample values, concatenated
  std::vector<Label> labels;           // sample labels, concatenated
  std::vector<Mapping> mappings;
  std::vector<Location> locations;
  std::vector<Line> lines;  // location lines, concatenated
  std::vector<Function> functions;
  std::vector<std::string_view> strings;  // string_table; strings[0] == ""
  int64_t drop_frames = 0;
  int64_t keep_frames = 0;
  int64_t time_nanos = 0;
  int64_t duration_nanos = 0;
  ValueType period_type;
  bool has_period_type = false;
  int64_t period = 0;
  std::vector<int64_t> comments;
  int64_t default_sample_type = 0;
  int64_t doc_url = 0;

  // --- id → index maps filled by RebuildIndexes() (the decoder calls it).
  // When the ids are 1..N in order (what Go, pprof-rs, async-profiler and the SDKs write) the
  // map is the identity and stays empty; otherwise a hash map holds id → index.
  absl::flat_hash_map<uint64_t, uint32_t> location_index_by_id;
  absl::flat_hash_map<uint64_t, uint32_t> function_index_by_id;
  absl::flat_hash_map<uint64_t, uint32_t> mapping_index_by_id;
  bool dense_location_ids = true;
  bool dense_function_ids = true;
  bool dense_mapping_ids = true;

  // Owns the bytes `strings` point into (decompressed input, or strings added later).
  std::vector<std::shared_ptr<const std::string>> backing;

  // --- Accessors.
  std::span<const uint64_t> SampleLocations(const Sample& s) const {
    return {location_ids.data() + s.location_begin, s.location_count};
  }
  std::span<const int64_t> SampleValues(const Sample& s) const {
    return {values.data() + s.value_begin, s.value_count};
  }
  std::span<const Label> SampleLabels(const Sample& s) const {
    return {labels.data() + s.label_begin, s.label_count};
  }
  std::span<const Line> LocationLines(const Location& l) const {
    return {lines.data() + l.line_begin, l.line_count};
  }
  std::string_view String(int64_t index) const {
    return index >= 0 && static_cast<uint64_t>(index) < strings.size() ? strings[index]
                                                                       : std::string_view();
  }

  // Index of the element with this id, or -1 when there is none.
  int64_t LocationIndex(uint64_t id) const {
    return IndexOf(id, dense_location_ids, location_index_by_id, locations.size());
  }
  int64_t FunctionIndex(uint64_t id) const {
    return IndexOf(id, dense_function_ids, function_index_by_id, functions.size());
  }
  int64_t MappingIndex(uint64_t id) const {
    return IndexOf(id, dense_mapping_ids, mapping_index_by_id, mappings.size());
  }

  // Rebuilds the id → index maps from the element arrays. Returns false when an id is 0 or
  // repeated (the decoder reports those as errors before calling this).
  bool RebuildIndexes();

  // Appends a string to the table, owned by the profile; returns its index.
  int64_t AddString(std::string_view s);

  // Sum of values[type_index] over all samples.
  int64_t Total(size_t type_index) const;

 private:
  static int64_t IndexOf(uint64_t id, bool dense,
                         const absl::flat_hash_map<uint64_t, uint32_t>& map, size_t n) {
    if (dense) return id >= 1 && id <= n ? static_cast<int64_t>(id - 1) : -1;
    auto it = map.find(id);
    return it == map.end() ? -1 : static_cast<int64_t>(it->second);
  }
};

}  // namespace embers::pprof

#endif  // EMBERS_PPROF_PROFILE_H_
