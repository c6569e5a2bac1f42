#include "block/object_writer.h"

#include "base/crc32c.h"
#include "base/strings.h"
#include "base/varint.h"

namespace embers::block {

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

ObjectWriter::ObjectWriter(const ObjectDescription& description, SpillBuffer* out) : out_(out) {
  Intern("");  // string 0
  meta_.set_format_version(kFormatVersion);
  meta_.set_id(description.id);
  meta_.set_tenant(description.tenant.empty() ? 0 : Intern(description.tenant));
  meta_.set_shard(description.shard);
  meta_.set_compaction_level(description.compaction_level);
  meta_.set_created_by(Intern(description.created_by));
}

int32_t ObjectWriter::Intern(std::string_view s) {
  auto it = strings_.find(ToAbsl(s));
  if (it != strings_.end()) return it->second;
  const int32_t index = meta_.string_table_size();
  meta_.add_string_table(std::string(s));
  strings_.emplace(std::string(s), index);
  return index;
}

void ObjectWriter::AddDataset(EncodedDataset d) {
  metastore::v1::Dataset* ds = meta_.add_datasets();
  ds->set_tenant(Intern(d.tenant));
  ds->set_name(Intern(d.service));
  ds->set_min_time(d.min_time_ms);
  ds->set_max_time(d.max_time_ms);
  ds->set_format(kFormatVersion);
  const uint64_t start = out_->size();
  ds->add_table_of_contents(out_->size());
  out_->Append(d.series_section);
  ds->add_table_of_contents(out_->size());
  // The profiles section's checksum covers its head and its chunks, computed as they are copied.
  uint32_t crc = Crc32c(d.profiles_head);
  out_->Append(d.profiles_head);
  out_->AppendFrom(d.profiles_area, &crc);
  std::string trailer;
  PutFixed32(&trailer, crc);
  out_->Append(trailer);
  ds->add_table_of_contents(out_->size());
  out_->Append(d.symbols_section);
  ds->set_size(out_->size() - start);
  for (const model::Labels& set : d.index_label_sets) {
    ds->add_labels(static_cast<int32_t>(set.size()));
    for (const auto& l : set) {
      ds->add_labels(Intern(l.name));
      ds->add_labels(Intern(l.value));
    }
  }
  min_time_ms_ = std::min(min_time_ms_, d.min_time_ms);
  max_time_ms_ = std::max(max_time_ms_, d.max_time_ms);
}

metastore::v1::BlockMeta ObjectWriter::Finish() {
  const bool empty = meta_.datasets_size() == 0;
  meta_.set_min_time(empty ? 0 : min_time_ms_);
  meta_.set_max_time(empty ? 0 : max_time_ms_);
  meta_.set_metadata_offset(out_->size());
  const std::string encoded_meta = meta_.SerializeAsString();
  std::string footer = encoded_meta;
  PutFixed32(&footer, static_cast<uint32_t>(encoded_meta.size()));
  PutFixed32(&footer, Crc32c(encoded_meta));
  PutFixed32(&footer, kFormatVersion);
  footer.append(kMagic, sizeof(kMagic));
  out_->Append(footer);
  meta_.set_size(out_->size());
  return std::move(meta_);
}

BuiltObject BuildObject(const ObjectDescription& description,
                        std::vector<EncodedDataset> datasets) {
  SpillBuffer bytes;  // memory only
  ObjectWriter writer(description, &bytes);
  for (EncodedDataset& d : datasets) {
    // Each dataset's buffers are freed as soon as they are copied: segments can be large.
    writer.AddDataset(std::move(d));
  }
  BuiltObject out;
  out.meta = writer.Finish();
  out.bytes = bytes.TakeMemory();
  return out;
}

}  // namespace embers::block
