// libFuzzer entry point for the readers of stored objects: the footer and metadata
// (ObjectReader), the series and symbols sections, the profiles section read whole and streamed
// through small windows (ProfileReader, ChunkDecoder), and compaction of the object (whose merge
// checks what the readers leave to it: series order, row order, stack ids).
//
// Objects come from the bucket, which any process with write access to it can fill; every input
// must be read or refused with a status, never crash, hang or leak. This target is built with
// FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, so checksums are not compared and damaged bytes reach
// the decoders behind them. The first input byte picks what the rest is:
//   0  an object, as stored;
//   1  a profiles chunk's raw bytes (after a 6-byte header: row count, first series);
//   2  a recipe: a small object is written with the segment-writer's code (DatasetBuilder,
//      BuildObject) from the first bytes, then damaged at the offsets the rest gives. Most
//      inputs then get past the footer and section framing into the decoders.
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/ulid.h"
#include "block/block_testing.h"
#include "block/compaction.h"
#include "block/dataset_builder.h"
#include "block/object_reader.h"
#include "block/object_writer.h"
#include "block/profile_reader.h"
#include "objstore/memory_bucket.h"

namespace embers::block {
namespace {

// Reads the input byte by byte; 0 once it is used up.
class Bytes {
 public:
  explicit Bytes(std::string_view data) : data_(data) {}
  uint8_t Next() { return pos_ < data_.size() ? static_cast<uint8_t>(data_[pos_++]) : 0; }
  std::string_view Rest() const { return data_.substr(pos_); }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

std::string TempDir() {
  static const std::string dir = [] {
    std::string path = "/tmp/embers-block-fuzzer-" + std::to_string(::getpid());
    std::filesystem::create_directories(path);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all("/tmp/embers-block-fuzzer-" + std::to_string(::getpid()), ec);
    });
    return path;
  }();
  return dir;
}

void ReadEverything(objstore::Bucket* bucket, const std::string& key, bool stream_whole_sources) {
  absl::StatusOr<ObjectReader> object = ObjectReader::Open(bucket, key);
  if (!object.ok()) return;
  const int datasets = std::min(object->meta().datasets_size(), 8);
  for (int d = 0; d < datasets; ++d) {
    (void)object->ReadSeries(d);
    (void)object->ReadSymbols(d);
    (void)object->ReadProfiles(d, -5000, 5000);
    ProfileReader reader;
    if (!reader.Open(*object, d, {.window_bytes = 7}).ok()) continue;
    RowHeader row;
    std::vector<uint32_t> stack_ids;
    std::vector<int64_t> values;
    std::vector<uint64_t> span_ids;
    std::vector<model::TraceId> trace_ids;
    for (int i = 0;; ++i) {
      absl::StatusOr<bool> more = reader.Next(&row);
      if (!more.ok() || !*more) break;
      if (i % 2 == 0 && !reader.ReadSamples(&stack_ids, &values, &span_ids, &trace_ids).ok()) {
        break;
      }
    }
  }
  // Compaction finds a source at the key its metadata gives.
  const metastore::v1::BlockMeta source = object->meta();
  if (!ParseUlid(source.id()).ok()) return;
  if (ObjectKey(source) != key) {
    absl::StatusOr<std::string> bytes = bucket->Get(key);
    if (!bytes.ok() || !bucket->Put(ObjectKey(source), *bytes).ok()) return;
  }
  absl::StatusOr<CompactionResult> result =
      CompactBlocks(bucket, std::span(&source, 1),
                    {.job_name = "fuzz",
                     .temp_dir = TempDir(),
                     .memory_limit_bytes = 64 << 20,
                     .whole_object_max_bytes = stream_whole_sources ? size_t{0} : size_t{8} << 20,
                     .zstd_level = 1});
  if (result.ok()) {
    // What compaction wrote must read back.
    for (const auto& out : result->outputs) {
      absl::Status read = testing::ReadStoredProfiles(bucket, ObjectKey(out)).status();
      if (!read.ok()) {
        std::fprintf(stderr, "compaction output does not read back: %s\n",
                     std::string(read.message()).c_str());
        std::abort();
      }
    }
  }
}

// Mode 2: a small valid object described by the input, then damaged by it.
std::string RecipeObject(Bytes& in) {
  DatasetBuilder builder(in.Next() % 2 ? "tenant" : "t2", "svc",
                         {.zstd_level = 1, .rows_per_chunk = size_t{in.Next()} % 5 + 1});
  const int rows = in.Next() % 24 + 1;
  for (int r = 0; r < rows; ++r) {
    const int series = in.Next() % 4;
    const int64_t ts = static_cast<int8_t>(in.Next()) * 1000;
    const int sample_count = in.Next() % 5 + 1;
    const uint8_t links = in.Next();  // bit 0: span ids, bit 1: trace ids
    std::vector<testing::StackSample> samples;
    for (int s = 0; s < sample_count; ++s) {
      testing::StackSample sample;
      const int depth = in.Next() % 4 + 1;
      for (int f = 0; f < depth; ++f) sample.frames.push_back("f" + std::to_string(in.Next() % 8));
      sample.value = static_cast<int8_t>(in.Next());
      sample.span_id = (links & 1) != 0 ? in.Next() : 0;
      if ((links & 2) != 0) sample.trace_id = {.hi = in.Next(), .lo = in.Next()};
      samples.push_back(sample);
    }
    const model::Labels labels({{"__profile_type__", "process_cpu:cpu:nanoseconds:cpu:nanoseconds"},
                                {"service_name", "svc"},
                                {"pod", std::to_string(series)}});
    const pprof::Profile profile = testing::ProfileOf(samples);
    const std::vector<uint64_t> span_ids = testing::SpanIdsOf(samples);
    const std::vector<model::TraceId> trace_ids = testing::TraceIdsOf(samples);
    const SeriesAppend append[] = {{.series = &labels,
                                    .timestamp_ms = ts,
                                    .duration_ns = in.Next(),
                                    .samples = &profile,
                                    .span_ids = span_ids,
                                    .trace_ids = trace_ids,
                                    .profile_id = {in.Next(), 0}}};
    builder.Append(append, profile);
  }
  std::vector<EncodedDataset> datasets;
  datasets.push_back(builder.Finish());
  std::string bytes =
      BuildObject({.id = "01JKT426999WRKSJZ0A43F75TA", .shard = 1}, std::move(datasets)).bytes;
  // The rest: (offset high, offset low, xor) triples.
  std::string_view damage = in.Rest();
  for (size_t i = 0; i + 2 < damage.size(); i += 3) {
    const size_t at = (static_cast<uint8_t>(damage[i]) << 8 | static_cast<uint8_t>(damage[i + 1]));
    if (at < bytes.size()) bytes[at] ^= damage[i + 2];
  }
  return bytes;
}

void DecodeChunk(Bytes& in) {
  const uint32_t rows = in.Next() | in.Next() << 8;
  const uint32_t first_series = in.Next() | in.Next() << 8 | in.Next() << 16 | in.Next() << 24;
  const uint32_t version = kOldestFormatVersion + in.Next() % 2;
  ChunkDecoder decoder;
  if (!decoder.Reset(in.Rest(), rows, first_series, "chunk", version).ok()) return;
  RowHeader row;
  std::vector<uint32_t> stack_ids;
  std::vector<int64_t> values;
  std::vector<uint64_t> span_ids;
  std::vector<model::TraceId> trace_ids;
  for (uint32_t i = 0; decoder.rows_left() > 0; ++i) {
    if (!decoder.NextRow(&row).ok()) return;
    if (i % 3 != 1 && !decoder.ReadSamples(&stack_ids, &values, &span_ids, &trace_ids).ok()) {
      return;
    }
  }
}

}  // namespace
}  // namespace embers::block

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace embers::block;
  Bytes in(std::string_view(reinterpret_cast<const char*>(data), size));
  const uint8_t mode = in.Next();
  if (mode % 3 == 1) {
    DecodeChunk(in);
    return 0;
  }
  embers::objstore::MemoryBucket bucket;
  const std::string object = mode % 3 == 0 ? std::string(in.Rest()) : RecipeObject(in);
  if (!bucket.Put("segments/1/anonymous/01JKT426999WRKSJZ0A43F75TA/block.bin", object).ok()) {
    return 0;
  }
  ReadEverything(&bucket, "segments/1/anonymous/01JKT426999WRKSJZ0A43F75TA/block.bin", mode >= 128);
  return 0;
}
