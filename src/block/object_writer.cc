#include "block/object_writer.h"

#include "absl/container/flat_hash_map.h"
#include "base/crc32c.h"
#include "base/strings.h"
#include "base/varint.h"

namespace embers::block {
namespace {

// Interns strings into BlockMeta.string_table (entry 0 is "").
class MetaStrings {
 public:
  explicit MetaStrings(metastore::v1::BlockMeta* meta) : meta_(meta) { Intern(""); }
  int32_t Intern(std::string_view s) {
    auto it = index_.find(ToAbsl(s));
    if (it != index_.end()) return it->second;
    int32_t i = meta_->string_table_size();
    meta_->add_string_table(std::string(s));
    index_.emplace(meta_->string_table(i), i);
    return i;
  }

 private:
  metastore::v1::BlockMeta* meta_;
  absl::flat_hash_map<std::string, int32_t> index_;
};

}  // namespace

std::string ObjectKey(uint32_t compaction_level, uint32_t shard, std::string_view tenant,
                      std::string_view id) {
  if (compaction_level == 0) return StrCat("segments/", shard, "/anonymous/", id, "/block.bin");
  return StrCat("blocks/", shard, "/", tenant, "/", id, "/block.bin");
}

std::string ObjectKey(const metastore::v1::BlockMeta& meta) {
  std::string_view tenant;
  if (meta.tenant() > 0 && meta.tenant() < meta.string_table_size()) {
    tenant = meta.string_table(meta.tenant());
  }
  return ObjectKey(meta.compaction_level(), meta.shard(), tenant, meta.id());
}

BuiltObject BuildObject(const ObjectDescription& description,
                        std::vector<EncodedDataset> datasets) {
  BuiltObject out;
  metastore::v1::BlockMeta& meta = out.meta;
  MetaStrings strings(&meta);
  meta.set_format_version(kFormatVersion);
  meta.set_id(description.id);
  meta.set_tenant(description.tenant.empty() ? 0 : strings.Intern(description.tenant));
  meta.set_shard(description.shard);
  meta.set_compaction_level(description.compaction_level);
  meta.set_created_by(strings.Intern(description.created_by));

  int64_t min_time = INT64_MAX, max_time = INT64_MIN;
  std::string& bytes = out.bytes;
  for (EncodedDataset& d : datasets) {
    metastore::v1::Dataset* ds = meta.add_datasets();
    ds->set_tenant(strings.Intern(d.tenant));
    ds->set_name(strings.Intern(d.service));
    ds->set_min_time(d.min_time_ms);
    ds->set_max_time(d.max_time_ms);
    ds->set_format(kFormatVersion);
    uint64_t start = bytes.size();
    ds->add_table_of_contents(bytes.size());
    bytes += d.series_section;
    ds->add_table_of_contents(bytes.size());
    bytes += d.profiles_section;
    ds->add_table_of_contents(bytes.size());
    bytes += d.symbols_section;
    ds->set_size(bytes.size() - start);
    for (const model::Labels& set : d.index_label_sets) {
      ds->add_labels(static_cast<int32_t>(set.size()));
      for (const auto& l : set) {
        ds->add_labels(strings.Intern(l.name));
        ds->add_labels(strings.Intern(l.value));
      }
    }
    min_time = std::min(min_time, d.min_time_ms);
    max_time = std::max(max_time, d.max_time_ms);
    // Free each dataset's bytes as soon as they are copied: segments can be large.
    d = EncodedDataset();
  }
  meta.set_min_time(datasets.empty() ? 0 : min_time);
  meta.set_max_time(datasets.empty() ? 0 : max_time);
  meta.set_metadata_offset(bytes.size());

  std::string encoded_meta = meta.SerializeAsString();
  bytes += encoded_meta;
  PutFixed32(&bytes, static_cast<uint32_t>(encoded_meta.size()));
  PutFixed32(&bytes, Crc32c(encoded_meta));
  PutFixed32(&bytes, kFormatVersion);
  bytes.append(kMagic, sizeof(kMagic));
  meta.set_size(bytes.size());
  return out;
}

}  // namespace embers::block
