#include "cmd/cli/bucket/bucket_testing.h"

#include <algorithm>
#include <utility>

#include "base/strings.h"
#include "base/ulid.h"
#include "block/block_testing.h"
#include "block/dataset_builder.h"
#include "block/object_writer.h"
#include "model/labels.h"

namespace embers::cli::testing {

TestObject MakeObject(const ObjectSpec& spec) {
  std::vector<std::string> tenants = spec.tenants;
  std::vector<std::string> services = spec.services;
  std::sort(tenants.begin(), tenants.end());
  std::sort(services.begin(), services.end());
  const int64_t created_ms = absl::ToUnixMillis(spec.created);
  std::vector<block::EncodedDataset> datasets;
  for (const std::string& tenant : tenants) {
    for (const std::string& service : services) {
      block::DatasetBuilder builder(tenant, service,
                                    {.zstd_level = 1, .rows_per_chunk = spec.rows_per_chunk});
      for (int s = 0; s < spec.series; ++s) {
        model::Labels labels({{"__profile_type__", "process_cpu:cpu:nanoseconds:cpu:nanoseconds"},
                              {"service_name", service},
                              {"pod", StrCat("pod-", s)}});
        for (int r = 0; r < spec.rows_per_series; ++r) {
          // Three samples of stacks sharing a root: 4 functions, 4 stack nodes.
          pprof::Profile profile =
              block::testing::ProfileOf({{.frames = {"main", "a"}, .value = r + 1},
                                         {.frames = {"main", "b", "c"}, .value = 2},
                                         {.frames = {"main"}, .value = 3 + s}});
          builder.Append(labels, created_ms - 60000 + r * 1000, 10'000'000, profile);
        }
      }
      datasets.push_back(builder.Finish());
    }
  }
  TestObject out;
  out.datasets = datasets.size();
  out.series_per_dataset = static_cast<size_t>(spec.series);
  out.rows_per_dataset = static_cast<size_t>(spec.series * spec.rows_per_series);
  out.samples_per_dataset = out.rows_per_dataset * 3;
  out.functions_per_dataset = 4;
  out.stack_nodes_per_dataset = 4;
  const Ulid id = NewUlid(static_cast<uint64_t>(created_ms));
  block::BuiltObject object = block::BuildObject({.id = id.ToString(),
                                                  .shard = spec.shard,
                                                  .compaction_level = spec.level,
                                                  .tenant = spec.level == 0 ? "" : tenants.front(),
                                                  .created_by = "test-host"},
                                                 std::move(datasets));
  out.key = block::ObjectKey(object.meta);
  out.meta = std::move(object.meta);
  out.bytes = std::move(object.bytes);
  return out;
}

absl::Status PutObject(objstore::Bucket& bucket, const TestObject& object) {
  return bucket.Put(object.key, object.bytes);
}

IndexedBlock IndexEntry(const TestObject& object) {
  IndexedBlock b;
  b.id = object.meta.id();
  for (const auto& d : object.meta.datasets())
    b.tenants.push_back(object.meta.string_table(d.tenant()));
  std::sort(b.tenants.begin(), b.tenants.end());
  b.tenants.erase(std::unique(b.tenants.begin(), b.tenants.end()), b.tenants.end());
  b.shard = object.meta.shard();
  b.level = object.meta.compaction_level();
  b.min_time_ms = object.meta.min_time();
  b.max_time_ms = object.meta.max_time();
  b.size = object.meta.size();
  b.datasets = static_cast<uint32_t>(object.meta.datasets_size());
  b.format_version = object.meta.format_version();
  b.created_by = object.meta.string_table(object.meta.created_by());
  b.key = object.key;
  return b;
}

std::pair<uint64_t, uint64_t> SectionBounds(const TestObject& object, int dataset, int index) {
  const auto& d = object.meta.datasets(dataset);
  const uint64_t begin = d.table_of_contents(index);
  const uint64_t end =
      index == 2 ? d.table_of_contents(0) + d.size() : d.table_of_contents(index + 1);
  return {begin, end};
}

}  // namespace embers::cli::testing
