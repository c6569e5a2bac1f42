#include "block/compaction.h"

#include <xxhash.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <system_error>

#include "base/status.h"
#include "base/strings.h"
#include "base/ulid.h"
#include "block/dataset_merge.h"
#include "block/object_reader.h"
#include "block/object_writer.h"

namespace embers::block {
namespace {

// Shares of the memory limit (see CompactionOptions::memory_limit_bytes).
struct MemoryShares {
  explicit MemoryShares(const CompactionOptions& options)
      : small_object(options.whole_object_max_bytes),
        whole_objects(options.memory_limit_bytes / 4),
        windows(options.memory_limit_bytes / 8),
        output(options.memory_limit_bytes / 8) {}
  size_t small_object;   // sources up to this size are fetched whole...
  size_t whole_objects;  // ...while those held stay within this
  size_t windows;        // read windows of the sources of one merge, together
  size_t output;         // held in memory before spilling: one dataset's chunks, one object
};

uint64_t WindowBytes(const MemoryShares& shares, size_t sources) {
  constexpr uint64_t kMin = 64 << 10, kMax = 8 << 20;
  return std::clamp<uint64_t>(shares.windows / std::max<size_t>(sources, 1), kMin, kMax);
}

absl::Status CheckJob(std::span<const metastore::v1::BlockMeta> sources,
                      const CompactionOptions& options) {
  if (options.job_name.empty()) return absl::InvalidArgumentError("compaction: no job name");
  const std::string job = StrCat("compaction job ", options.job_name);
  if (sources.empty()) return absl::InvalidArgumentError(StrCat(job, ": no sources"));
  if (options.temp_dir.empty()) return absl::InvalidArgumentError(StrCat(job, ": no temp dir"));
  if (options.output_level == 0) {
    return absl::InvalidArgumentError(StrCat(job, ": output level 0 (segments are level 0)"));
  }
  if (options.partition_duration_ms <= 0) {
    return absl::InvalidArgumentError(StrCat(job, ": partition duration must be positive"));
  }
  if (options.memory_limit_bytes == 0) {
    return absl::InvalidArgumentError(StrCat(job, ": memory limit 0"));
  }
  for (const auto& source : sources) {
    if (source.shard() != sources[0].shard()) {
      return absl::InvalidArgumentError(StrCat(job, ": sources of shards ", sources[0].shard(),
                                               " and ", source.shard(), " (", source.id(), ")"));
    }
    if (!ParseUlid(source.id()).ok()) {
      return absl::InvalidArgumentError(
          StrCat(job, ": source id \"", source.id(), "\" is not a ULID"));
    }
  }
  return absl::OkStatus();
}

// A dataset's rows are split into the partitions its time range covers. A segment holds
// profiles from the ingestion window only and a compacted block one partition, so a wider range
// means damaged metadata: 4,096 partitions of 6 h are almost three years.
constexpr uint64_t kMaxPartitionsPerDataset = 4096;

// Start of the partition of `width` ms holding time `t` (floor division: negative times too).
int64_t PartitionStart(int64_t t, int64_t width) {
  int64_t q = t / width;
  // (Not below the lowest partition int64 can hold: damaged metadata may say INT64_MIN.)
  if (t % width < 0 && q > std::numeric_limits<int64_t>::min() / width) --q;
  return q * width;
}

// The id of the job's block for `tenant` and `partition`: see compaction.h.
std::string OutputId(std::span<const metastore::v1::BlockMeta> sources, std::string_view job,
                     std::string_view tenant, int64_t partition) {
  uint64_t time_ms = 0;
  for (const auto& source : sources) time_ms = std::max(time_ms, ParseUlid(source.id())->TimeMs());
  std::string seed =
      StrCat(job, std::string_view("\0", 1), tenant, std::string_view("\0", 1), partition);
  const XXH128_hash_t h = XXH3_128bits(seed.data(), seed.size());
  return DeterministicUlid(time_ms, h.high64, h.low64).ToString();
}

class Job {
 public:
  Job(objstore::Bucket* bucket, std::span<const metastore::v1::BlockMeta> sources,
      const CompactionOptions& options)
      : bucket_(bucket), sources_(sources), options_(options), shares_(options) {}

  absl::StatusOr<CompactionResult> Run() {
    EMBERS_RETURN_IF_ERROR(CheckJob(sources_, options_));
    std::error_code ec;
    std::filesystem::create_directories(options_.temp_dir, ec);
    if (ec) {
      return absl::InternalError(StrCat("compaction job ", options_.job_name,
                                        ": cannot create temp dir ", options_.temp_dir, ": ",
                                        ec.message()));
    }
    // Sources in id order, so that the output does not depend on the order they are listed in.
    std::vector<size_t> order(sources_.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return sources_[a].id() < sources_[b].id(); });
    for (size_t i : order) EMBERS_RETURN_IF_ERROR(OpenSource(sources_[i]));

    // (tenant, partition) → service → source datasets, in source order. A dataset spanning
    // several partitions joins each; its rows are split by time in the merge.
    std::map<std::pair<std::string, int64_t>, std::map<std::string, std::vector<MergeSource>>>
        outputs;
    const int64_t width = options_.partition_duration_ms;
    for (const std::unique_ptr<ObjectReader>& reader : readers_) {
      const auto& meta = reader->meta();
      for (int d = 0; d < meta.datasets_size(); ++d) {
        const auto& dataset = meta.datasets(d);
        const std::string_view tenant = reader->String(dataset.tenant());
        if (tenant.empty()) {
          return absl::DataLossError(
              StrCat("object ", reader->key(), " dataset ", d, ": no tenant"));
        }
        if (dataset.max_time() < dataset.min_time()) {
          return absl::DataLossError(
              StrCat("object ", reader->key(), " dataset ", d, ": time range runs backwards"));
        }
        // Counted in unsigned arithmetic: a damaged time range near the int64 limits must
        // neither overflow nor make millions of (empty) outputs.
        const int64_t first = PartitionStart(dataset.min_time(), width);
        const uint64_t partitions =
            (static_cast<uint64_t>(dataset.max_time()) - static_cast<uint64_t>(first)) /
                static_cast<uint64_t>(width) +
            1;
        if (partitions > kMaxPartitionsPerDataset) {
          return absl::DataLossError(
              StrCat("object ", reader->key(), " dataset ", d, ": its time range spans ",
                     partitions, " partitions (at most ", kMaxPartitionsPerDataset, ")"));
        }
        for (uint64_t i = 0; i < partitions; ++i) {
          const int64_t p = first + static_cast<int64_t>(i) * width;
          outputs[{std::string(tenant), p}][std::string(reader->String(dataset.name()))].push_back(
              {reader.get(), d});
        }
        ++result_.stats.datasets_in;
      }
    }
    for (auto& [key, services] : outputs) {
      EMBERS_RETURN_IF_ERROR(WriteBlock(key.first, key.second, services));
    }
    return std::move(result_);
  }

 private:
  absl::Status Cancelled() const {
    if (options_.cancel == nullptr || !options_.cancel->load(std::memory_order_relaxed)) {
      return absl::OkStatus();
    }
    return absl::CancelledError(StrCat("compaction job ", options_.job_name, " cancelled"));
  }

  absl::Status OpenSource(const metastore::v1::BlockMeta& source) {
    EMBERS_RETURN_IF_ERROR(Cancelled());
    const std::string key = ObjectKey(source);
    auto failed = [&](const absl::Status& s) {
      return Annotate(s, StrCat("compaction job ", options_.job_name, ": source ", key));
    };
    metastore::v1::BlockMeta meta = source;
    std::shared_ptr<const std::string> contents;
    const bool small =
        meta.size() <= shares_.small_object && whole_bytes_ + meta.size() <= shares_.whole_objects;
    if (meta.size() == 0 || small) {
      absl::StatusOr<std::string> bytes = bucket_->Get(key);
      if (absl::IsNotFound(bytes.status())) {
        ++result_.stats.missing_sources;
        return absl::OkStatus();
      }
      if (!bytes.ok()) return failed(bytes.status());
      if (meta.size() == 0) meta.set_size(bytes->size());
      result_.stats.bytes_read += bytes->size();
      whole_bytes_ += bytes->size();
      contents = std::make_shared<const std::string>(std::move(*bytes));
    } else {
      absl::StatusOr<uint64_t> size = bucket_->Size(key);
      if (absl::IsNotFound(size.status())) {
        ++result_.stats.missing_sources;
        return absl::OkStatus();
      }
      if (!size.ok()) return failed(size.status());
      if (*size != meta.size()) {
        return absl::DataLossError(
            StrCat("object ", key, ": ", *size, " bytes, its metadata says ", meta.size()));
      }
    }
    EMBERS_ASSIGN_OR_RETURN(
        ObjectReader reader,
        ObjectReader::FromMeta(bucket_, key, std::move(meta), std::move(contents)));
    ++result_.stats.source_objects;
    result_.stats.source_bytes += reader.meta().size();
    readers_.push_back(std::make_unique<ObjectReader>(std::move(reader)));
    return absl::OkStatus();
  }

  // The block of `tenant` holding its data of the partition starting at `partition`.
  absl::Status WriteBlock(const std::string& tenant, int64_t partition,
                          const std::map<std::string, std::vector<MergeSource>>& services) {
    SpillBuffer bytes(options_.temp_dir, shares_.output);
    ObjectWriter writer({.id = OutputId(sources_, options_.job_name, tenant, partition),
                         .shard = sources_[0].shard(),
                         .compaction_level = options_.output_level,
                         .tenant = tenant,
                         .created_by = options_.created_by},
                        &bytes);
    CompactionStats& stats = result_.stats;
    size_t datasets = 0;
    for (const auto& [service, inputs] : services) {
      EMBERS_RETURN_IF_ERROR(Cancelled());
      MergeStats merged;
      const MergeOptions merge{.tenant = tenant,
                               .service = service,
                               .dataset = {.zstd_level = options_.zstd_level},
                               .window_bytes = WindowBytes(shares_, inputs.size()),
                               .memory_limit_bytes = options_.memory_limit_bytes,
                               .min_time_ms = partition,
                               .max_time_ms = partition + options_.partition_duration_ms - 1,
                               .job_name = options_.job_name,
                               .cancel = options_.cancel};
      absl::StatusOr<EncodedDataset> dataset =
          MergeDatasets(inputs, merge, SpillBuffer(options_.temp_dir, shares_.output), &merged);
      // Counted before the error check, so a failed job still shows how far it got.
      stats.rows_in += merged.rows_in;
      stats.rows_out += merged.rows_out;
      stats.duplicate_rows += merged.duplicate_rows;
      stats.samples_in += merged.samples_in;
      stats.samples_out += merged.samples_out;
      stats.series_out += merged.series_out;
      stats.bytes_read += merged.bytes_fetched;
      stats.peak_symbols_bytes =
          std::max<uint64_t>(stats.peak_symbols_bytes, merged.peak_symbols_bytes);
      stats.peak_read_bytes = std::max<uint64_t>(stats.peak_read_bytes, merged.peak_read_bytes);
      if (!dataset.ok()) return dataset.status();
      if (dataset->row_count == 0) continue;  // nothing stored in the sources either
      if (dataset->profiles_area.spilled()) stats.spilled_bytes += dataset->profiles_area.size();
      writer.AddDataset(std::move(*dataset));
      ++datasets;
      if (!bytes.status().ok()) break;
    }
    if (datasets == 0) return absl::OkStatus();
    metastore::v1::BlockMeta meta = writer.Finish();
    const std::string key = ObjectKey(meta);
    if (!bytes.status().ok()) {
      return Annotate(bytes.status(),
                      StrCat("compaction job ", options_.job_name, ": assembling ", key));
    }
    EMBERS_RETURN_IF_ERROR(Cancelled());
    if (bytes.spilled()) stats.spilled_bytes += bytes.size();
    if (absl::Status s = bytes.Upload(bucket_, key); !s.ok()) {
      return Annotate(s, StrCat("compaction job ", options_.job_name, ": uploading ", key));
    }
    ++stats.output_objects;
    stats.output_bytes += meta.size();
    stats.datasets_out += datasets;
    result_.outputs.push_back(std::move(meta));
    return absl::OkStatus();
  }

  objstore::Bucket* bucket_;
  std::span<const metastore::v1::BlockMeta> sources_;
  const CompactionOptions& options_;
  const MemoryShares shares_;
  std::vector<std::unique_ptr<ObjectReader>> readers_;
  size_t whole_bytes_ = 0;
  CompactionResult result_;
};

}  // namespace

absl::StatusOr<CompactionResult> CompactBlocks(objstore::Bucket* bucket,
                                               std::span<const metastore::v1::BlockMeta> sources,
                                               const CompactionOptions& options) {
  Job job(bucket, sources, options);
  return job.Run();
}

}  // namespace embers::block
