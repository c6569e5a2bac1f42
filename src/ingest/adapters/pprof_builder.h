// PprofBuilder: assembles a pprof::Profile in code, for the ingest adapters that convert other
// formats (folded/trie/tree/speedscope, JFR, OTLP) into the pprof form the distributor takes.
//
// pprof::Profile keeps its strings as string_views into bytes it owns. Adding strings one by
// one through Profile::AddString costs an allocation each; the builder instead interns strings
// in its own table and lays them out in one backing buffer when Finish() is called. Ids of
// functions, locations and mappings are assigned densely (1..N), which is the fast path of the
// profile's id → index lookups. Finish() runs pprof::Validate, so a converter bug (or hostile
// input that slipped through) surfaces as an InvalidArgument rather than a broken profile.
#ifndef EMBERS_INGEST_ADAPTERS_PPROF_BUILDER_H_
#define EMBERS_INGEST_ADAPTERS_PPROF_BUILDER_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "ingest/legacy/stack_samples.h"
#include "pprof/profile.h"

namespace embers::ingest {

class PprofBuilder {
 public:
  PprofBuilder();
  PprofBuilder(const PprofBuilder&) = delete;
  PprofBuilder& operator=(const PprofBuilder&) = delete;

  // Index of `s` in the string table, adding it if new ("" is always 0).
  int64_t String(std::string_view s);

  void AddSampleType(std::string_view type, std::string_view unit);
  // Sets period_type/period. An empty type and unit still mark the period type as present.
  void SetPeriod(std::string_view type, std::string_view unit, int64_t period);
  // Sets only the period (a profile without a period type).
  void SetPeriodValue(int64_t period) { profile_.period = period; }
  void SetTime(int64_t time_nanos, int64_t duration_nanos);
  void SetDefaultSampleType(std::string_view type);

  // Each returns the new element's id.
  uint64_t AddFunction(std::string_view name, std::string_view system_name,
                       std::string_view filename, int64_t start_line);
  uint64_t AddMapping(const pprof::Mapping& mapping);  // id assigned; strings already indexed
  uint64_t AddLocation(uint64_t mapping_id, uint64_t address, std::span<const pprof::Line> lines);

  // `location_ids` leaf first, one value per sample type; labels use String() indexes.
  void AddSample(std::span<const uint64_t> location_ids, std::span<const int64_t> values,
                 std::span<const pprof::Label> labels = {});

  size_t num_samples() const { return profile_.samples.size(); }
  size_t num_mappings() const { return profile_.mappings.size(); }
  pprof::Mapping& mapping(uint64_t id) { return profile_.mappings[id - 1]; }
  std::string_view string(int64_t index) const { return strings_[index]; }

  // Lays out the strings, validates and returns the profile; the builder is then empty.
  absl::StatusOr<pprof::Profile> Finish();

 private:
  pprof::Profile profile_;
  std::vector<std::string> strings_;
  absl::flat_hash_map<std::string, int64_t> string_index_;
};

// Adds every sample of `stacks` to `b` (one sample type), each value multiplied by
// `value_multiplier`: one function and one location per distinct frame. 422 when a product
// overflows. Shared by the /ingest text formats and ad hoc uploads.
absl::Status AddStackSamples(const StackSamples& stacks, int64_t value_multiplier, PprofBuilder* b);

}  // namespace embers::ingest

#endif  // EMBERS_INGEST_ADAPTERS_PPROF_BUILDER_H_
