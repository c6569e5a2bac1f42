#include "cmd/cli/bucket/object_inspection.h"

#include <algorithm>
#include <set>

#include "base/status.h"
#include "base/strings.h"
#include "block/object_reader.h"
#include "block/profile_reader.h"

namespace embers::cli {
namespace {

// Window of the streamed profiles sections: what one chunk needs at most, and a few reads.
constexpr uint64_t kProfilesWindow = 8 << 20;

// The __profile_type__ values of a dataset's index label sets (`n, name, value, ...` groups of
// string refs, types.proto).
std::vector<std::string> ProfileTypes(const block::ObjectReader& reader,
                                      const metastore::v1::Dataset& d) {
  std::set<std::string> types;
  const auto& labels = d.labels();
  for (int i = 0; i < labels.size();) {
    const int n = labels[i];
    if (n < 0 || i + 1 + 2 * n > labels.size()) break;
    for (int k = 0; k < n; ++k) {
      if (reader.String(labels[i + 1 + 2 * k]) == "__profile_type__") {
        types.insert(std::string(reader.String(labels[i + 2 + 2 * k])));
      }
    }
    i += 1 + 2 * n;
  }
  return {types.begin(), types.end()};
}

absl::Status InspectDataset(const block::ObjectReader& reader, int d, DatasetInspection* out) {
  const metastore::v1::Dataset& meta = reader.meta().datasets(d);
  out->tenant = std::string(reader.String(meta.tenant()));
  out->service = std::string(reader.String(meta.name()));
  out->min_time_ms = meta.min_time();
  out->max_time_ms = meta.max_time();
  out->size = meta.size();
  uint64_t* bytes[3] = {&out->series_bytes, &out->profiles_bytes, &out->symbols_bytes};
  for (int i = 0; i < 3; ++i) {
    EMBERS_ASSIGN_OR_RETURN(auto range, reader.SectionRange(d, i));
    *bytes[i] = range.second - range.first;
  }
  out->profile_types = ProfileTypes(reader, meta);

  EMBERS_ASSIGN_OR_RETURN(std::vector<block::SeriesInfo> series, reader.ReadSeries(d));
  out->series = series.size();

  block::ProfileReader profiles;
  EMBERS_RETURN_IF_ERROR(profiles.Open(reader, d, {.window_bytes = kProfilesWindow}));
  out->chunks = profiles.chunk_count();
  block::RowHeader row;
  while (true) {
    EMBERS_ASSIGN_OR_RETURN(bool more, profiles.Next(&row));
    if (!more) break;  // the section's checksum was verified
    ++out->rows;
    out->samples += row.sample_count;
  }

  EMBERS_ASSIGN_OR_RETURN(block::Symbols symbols, reader.ReadSymbols(d));
  out->strings = symbols.strings.size();
  out->mappings = symbols.mappings.size();
  out->functions = symbols.functions.size();
  out->locations = symbols.locations.size();
  out->stack_nodes = symbols.node_parent.empty() ? 0 : symbols.node_parent.size() - 1;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ObjectInspection> InspectObject(objstore::Bucket& bucket, const std::string& key) {
  EMBERS_ASSIGN_OR_RETURN(block::ObjectReader reader, block::ObjectReader::Open(&bucket, key));
  const auto& meta = reader.meta();
  ObjectInspection out;
  out.key = key;
  out.format_version = reader.format_version();
  out.id = meta.id();
  out.tenant = std::string(reader.String(meta.tenant()));
  out.shard = meta.shard();
  out.level = meta.compaction_level();
  out.min_time_ms = meta.min_time();
  out.max_time_ms = meta.max_time();
  out.size = meta.size();
  out.created_by = std::string(reader.String(meta.created_by()));
  uint64_t data_end = 0;
  for (const auto& d : meta.datasets()) {
    data_end = std::max<uint64_t>(data_end, d.table_of_contents(0) + d.size());
  }
  if (meta.metadata_offset() > 0) data_end = meta.metadata_offset();
  out.metadata_bytes = meta.size() - std::min<uint64_t>(data_end, meta.size());
  out.datasets.resize(meta.datasets_size());
  for (int d = 0; d < meta.datasets_size(); ++d) {
    EMBERS_RETURN_IF_ERROR(InspectDataset(reader, d, &out.datasets[d]));
  }
  return out;
}

}  // namespace embers::cli
