// ProfileReader (the streaming reader of profiles sections) and the chunk codec behind it: every
// window size reads the rows ObjectReader::ReadProfiles reads, and damage anywhere in the section
// is an error naming the object, dataset and section.
#include "block/profile_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "block/block_testing.h"
#include "block/dataset_builder.h"
#include "block/object_writer.h"
#include "block/section.h"
#include "objstore/memory_bucket.h"

namespace embers::block {
namespace {

using testing::ProfileOf;
using testing::SpanIdsOf;
using testing::StackSample;

model::Labels Series(int pod) {
  return model::Labels({{"__profile_type__", "process_cpu:cpu:nanoseconds:cpu:nanoseconds"},
                        {"service_name", "api"},
                        {"pod", "pod-" + std::to_string(pod)}});
}

// A dataset of `rows` profiles over 5 series, 3 rows per chunk, with span ids on some rows and
// profile ids on others.
BuiltObject MultiChunkObject(int rows) {
  DatasetBuilder builder("t", "api", {.zstd_level = 1, .rows_per_chunk = 3});
  for (int i = 0; i < rows; ++i) {
    std::vector<StackSample> samples = {
        {{"main", "work", "leaf" + std::to_string(i % 4)}, 10 + i},
        {{"main", "idle"}, 1 + i % 3, i % 2 == 0 ? 0u : uint64_t(1000 + i)},
        {{"main", "work"}, 5, i % 2 == 0 ? 0u : uint64_t(7)}};
    builder.Append(Series(i % 5), 1000 * i, 100 + i, ProfileOf(samples), SpanIdsOf(samples),
                   i % 3 == 0 ? model::ProfileId{uint64_t(i), 1} : model::ProfileId{});
  }
  std::vector<EncodedDataset> datasets;
  datasets.push_back(builder.Finish());
  return BuildObject({.id = "01JKT426999WRKSJZ0A43F75TA", .shard = 1}, std::move(datasets));
}

// Everything a reader gives, row by row; `read_samples` false skips the samples.
absl::StatusOr<ProfileRows> ReadAll(const ObjectReader& object, ProfileReader::Options options,
                                    bool read_samples = true) {
  ProfileReader reader;
  if (absl::Status s = reader.Open(object, 0, options); !s.ok()) return s;
  ProfileRows rows;
  RowHeader row;
  for (;;) {
    absl::StatusOr<bool> more = reader.Next(&row);
    if (!more.ok()) return more.status();
    if (!*more) break;
    rows.AddRow(row);
    if (read_samples) {
      absl::Status s =
          reader.ReadSamples(&rows.stack_ids, &rows.values, &rows.span_ids, &rows.trace_ids);
      if (!s.ok()) return s;
    }
  }
  return rows;
}

void ExpectSameRows(const ProfileRows& a, const ProfileRows& b) {
  EXPECT_EQ(a.series, b.series);
  EXPECT_EQ(a.timestamp_ms, b.timestamp_ms);
  EXPECT_EQ(a.duration_ns, b.duration_ns);
  EXPECT_EQ(a.sample_count, b.sample_count);
  EXPECT_EQ(a.span_count, b.span_count);
  EXPECT_EQ(a.stack_ids, b.stack_ids);
  EXPECT_EQ(a.values, b.values);
  EXPECT_EQ(a.span_ids, b.span_ids);
  EXPECT_EQ(a.profile_ids, b.profile_ids);
}

TEST(ProfileReader, EveryWindowSizeReadsTheSameRows) {
  const BuiltObject obj = MultiChunkObject(40);
  objstore::MemoryBucket bucket;
  ASSERT_TRUE(bucket.Put("k", obj.bytes).ok());
  absl::StatusOr<ObjectReader> object = ObjectReader::Open(&bucket, "k");
  ASSERT_TRUE(object.ok()) << object.status();
  absl::StatusOr<ProfileRows> whole = object->ReadProfiles(0);
  ASSERT_TRUE(whole.ok()) << whole.status();
  ASSERT_EQ(whole->size(), 40u);
  // Spans and profile ids came through (the chunk codec's optional columns).
  EXPECT_EQ(whole->span_count[0] + whole->span_count[1], 3u);
  EXPECT_EQ(whole->profile_ids[0], (model::ProfileId{0, 1}));

  for (uint64_t window : {1, 7, 64, 300, 4096, 1 << 20}) {
    SCOPED_TRACE(window);
    absl::StatusOr<ProfileRows> streamed = ReadAll(*object, {.window_bytes = window});
    ASSERT_TRUE(streamed.ok()) << streamed.status();
    ExpectSameRows(*whole, *streamed);
  }
  // Skipping the samples of every row still walks every row.
  absl::StatusOr<ProfileRows> headers = ReadAll(*object, {.window_bytes = 100}, false);
  ASSERT_TRUE(headers.ok()) << headers.status();
  EXPECT_EQ(headers->timestamp_ms, whole->timestamp_ms);
  EXPECT_EQ(headers->profile_ids, whole->profile_ids);
}

TEST(ProfileReader, TimeRangeSkipsChunksAndRows) {
  const BuiltObject obj = MultiChunkObject(40);
  objstore::MemoryBucket bucket;
  ASSERT_TRUE(bucket.Put("k", obj.bytes).ok());
  absl::StatusOr<ObjectReader> object = ObjectReader::Open(&bucket, "k");
  ASSERT_TRUE(object.ok());
  absl::StatusOr<ProfileRows> all = object->ReadProfiles(0);
  ASSERT_TRUE(all.ok());
  for (uint64_t window : {0, 50}) {
    absl::StatusOr<ProfileRows> some =
        ReadAll(*object, {.window_bytes = window, .min_time_ms = 7000, .max_time_ms = 21000});
    ASSERT_TRUE(some.ok()) << some.status();
    std::vector<int64_t> want;
    for (int64_t t : all->timestamp_ms) {
      if (t >= 7000 && t <= 21000) want.push_back(t);
    }
    EXPECT_EQ(some->timestamp_ms, want);
  }
}

TEST(ProfileReader, ChunkSubsetsTogetherReadEveryRowOnce) {
  const BuiltObject obj = MultiChunkObject(40);
  objstore::MemoryBucket bucket;
  ASSERT_TRUE(bucket.Put("k", obj.bytes).ok());
  absl::StatusOr<ObjectReader> object = ObjectReader::Open(&bucket, "k");
  ASSERT_TRUE(object.ok());
  absl::StatusOr<ProfileRows> all = object->ReadProfiles(0);
  ASSERT_TRUE(all.ok());
  ProfileReader directory;
  ASSERT_TRUE(directory.Open(*object, 0, {.window_bytes = 64}).ok());
  ASSERT_EQ(directory.chunk_count(), 14u);  // 40 rows, 3 per chunk
  // Chunks read one at a time, in turn, by readers sharing the directory, give every row.
  ProfileRows pieces;
  for (size_t c = 0; c < directory.chunk_count(); ++c) {
    ProfileReader reader;
    reader.OpenSameSection(directory);
    reader.ReadOnlyChunks(c, c + 1);
    ASSERT_TRUE(ReadRemainingRows(&reader, &pieces).ok());
    // A chunk is fetched, not the section.
    EXPECT_LE(reader.bytes_fetched(), directory.chunk(c).stored_length + 64) << c;
  }
  ExpectSameRows(*all, pieces);
  // Ranges past the end are empty, not errors.
  ProfileReader past;
  past.OpenSameSection(directory);
  past.ReadOnlyChunks(20, 30);
  ProfileRows none;
  ASSERT_TRUE(ReadRemainingRows(&past, &none).ok());
  EXPECT_EQ(none.size(), 0u);
}

TEST(ProfileReader, ChunkSubsetChecksItsChunksOnly) {
  const BuiltObject obj = MultiChunkObject(20);
  ProfileReader directory;
  objstore::MemoryBucket good;
  ASSERT_TRUE(good.Put("k", obj.bytes).ok());
  absl::StatusOr<ObjectReader> clean = ObjectReader::Open(&good, "k");
  ASSERT_TRUE(clean.ok());
  ASSERT_TRUE(directory.Open(*clean, 0, {}).ok());
  const ChunkEntry first = directory.chunk(0), second = directory.chunk(1);
  // Damage in the second chunk: reading the first alone succeeds, reading the second fails.
  const uint64_t area = obj.meta.datasets(0).table_of_contents(2) - 4 -
                        (directory.chunk(directory.chunk_count() - 1).offset +
                         directory.chunk(directory.chunk_count() - 1).stored_length);
  std::string bytes = obj.bytes;
  bytes[area + second.offset + second.stored_length / 2] ^= 0x10;
  objstore::MemoryBucket bad;
  ASSERT_TRUE(bad.Put("k", bytes).ok());
  absl::StatusOr<ObjectReader> object = ObjectReader::Open(&bad, "k");
  ASSERT_TRUE(object.ok());
  ProfileReader open;
  ASSERT_TRUE(open.Open(*object, 0, {.window_bytes = 16}).ok());
  ProfileReader reader;
  reader.OpenSameSection(open);
  reader.ReadOnlyChunks(0, 1);
  ProfileRows rows;
  ASSERT_TRUE(ReadRemainingRows(&reader, &rows).ok());
  EXPECT_EQ(rows.size(), first.row_count);
  reader.OpenSameSection(open);
  reader.ReadOnlyChunks(1, 2);
  absl::Status damaged = ReadRemainingRows(&reader, &rows);
  EXPECT_EQ(damaged.code(), absl::StatusCode::kDataLoss) << damaged;
  EXPECT_NE(damaged.message().find("chunk checksum"), std::string::npos) << damaged;
}

TEST(ProfileReader, DamageAnywhereIsDataLossNamingTheSection) {
  const BuiltObject obj = MultiChunkObject(20);
  const auto& d = obj.meta.datasets(0);
  const uint64_t begin = d.table_of_contents(1), end = d.table_of_contents(2);
  objstore::MemoryBucket bucket;
  // Every byte of the section, one at a time: the head, the directory, every chunk, the CRC.
  for (uint64_t at = begin; at < end; ++at) {
    std::string bytes = obj.bytes;
    bytes[at] ^= 0x10;
    ASSERT_TRUE(bucket.Put("k", bytes).ok());
    absl::StatusOr<ObjectReader> object = ObjectReader::Open(&bucket, "k");
    ASSERT_TRUE(object.ok());
    for (uint64_t window : {0, 16}) {
      absl::StatusOr<ProfileRows> rows = ReadAll(*object, {.window_bytes = window});
      ASSERT_FALSE(rows.ok()) << "byte " << at - begin << " window " << window;
      EXPECT_EQ(rows.status().code(), absl::StatusCode::kDataLoss) << rows.status();
      EXPECT_NE(rows.status().message().find("object k dataset 0 (api) profiles section"),
                std::string::npos)
          << rows.status();
    }
  }
}

TEST(ProfileReader, ObjectShorterThanItsMetadataIsDataLoss) {
  const BuiltObject obj = MultiChunkObject(20);
  objstore::MemoryBucket bucket;
  const uint64_t cut = obj.meta.datasets(0).table_of_contents(2) - 10;
  ASSERT_TRUE(bucket.Put("k", obj.bytes.substr(0, cut)).ok());
  absl::StatusOr<ObjectReader> object =
      ObjectReader::FromMeta(&bucket, "k", obj.meta);  // the metastore still has the old size
  ASSERT_TRUE(object.ok()) << object.status();
  absl::StatusOr<ProfileRows> rows = ReadAll(*object, {.window_bytes = 64});
  ASSERT_EQ(rows.status().code(), absl::StatusCode::kDataLoss) << rows.status();
  EXPECT_NE(rows.status().message().find("object k"), std::string::npos);
}

TEST(ProfileReader, ObjectFromMetaServesReadsFromItsContents) {
  const BuiltObject obj = MultiChunkObject(10);
  objstore::MemoryBucket empty;  // nothing in the bucket: every read must come from `contents`
  auto contents = std::make_shared<const std::string>(obj.bytes);
  absl::StatusOr<ObjectReader> object = ObjectReader::FromMeta(&empty, "k", obj.meta, contents);
  ASSERT_TRUE(object.ok()) << object.status();
  absl::StatusOr<ProfileRows> rows = object->ReadProfiles(0);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(rows->size(), 10u);
  EXPECT_TRUE(object->ReadSeries(0).ok());
  // Metadata that does not fit the object is refused before any read.
  metastore::v1::BlockMeta bad = obj.meta;
  bad.mutable_datasets(0)->set_size(obj.bytes.size());
  EXPECT_EQ(ObjectReader::FromMeta(&empty, "k", bad, contents).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(ChunkCodec, RowsRoundTripThroughEncoderAndDecoder) {
  ChunkEncoder encoder;
  const std::vector<uint32_t> ids = {1, 5, 5, 9};
  const std::vector<int64_t> values = {-3, 4, 4, 1 << 30};
  const std::vector<uint64_t> spans = {0, 1, 2, UINT64_MAX};
  const std::vector<model::TraceId> traces = {{1, 2}, {}, {UINT64_MAX, 0}, {1, 2}};
  encoder.Add(
      {.series = 2, .timestamp_ms = 100, .duration_ns = 7, .stack_ids = ids, .values = values});
  encoder.Add({.series = 2,
               .timestamp_ms = 90,
               .stack_ids = ids,
               .values = values,
               .span_ids = spans,
               .trace_ids = traces,
               .profile_id = {3, 4}});
  encoder.Add({.series = 5, .timestamp_ms = INT64_MIN, .duration_ns = -1});
  std::string raw;
  ChunkEntry entry;
  encoder.Finish(&raw, &entry);
  EXPECT_EQ(entry.row_count, 3u);
  EXPECT_EQ(entry.first_series, 2u);
  EXPECT_EQ(entry.last_series, 5u);
  EXPECT_EQ(entry.min_time_ms, INT64_MIN);
  EXPECT_EQ(entry.max_time_ms, 100);
  EXPECT_EQ(raw[0], kChunkHasProfileIds | kChunkHasTraceIds);

  ChunkDecoder decoder;
  ASSERT_TRUE(decoder.Reset(raw, 3, 2, "chunk", kFormatVersion).ok());
  EXPECT_EQ(decoder.samples_left(), 8u);
  EXPECT_EQ(decoder.traces_left(), 4u);
  RowHeader row;
  std::vector<uint32_t> got_ids;
  std::vector<int64_t> got_values;
  std::vector<uint64_t> got_spans;
  std::vector<model::TraceId> got_traces;
  ASSERT_TRUE(decoder.NextRow(&row).ok());
  EXPECT_EQ(row.timestamp_ms, 100);
  EXPECT_EQ(row.duration_ns, 7);
  EXPECT_EQ(row.trace_count, 0u);
  EXPECT_TRUE(row.profile_id.empty());
  // The first row's samples are skipped; the second's read.
  ASSERT_TRUE(decoder.NextRow(&row).ok());
  EXPECT_EQ(row.series, 2u);
  EXPECT_EQ(row.timestamp_ms, 90);
  EXPECT_EQ(row.span_count, 4u);
  EXPECT_EQ(row.trace_count, 4u);
  EXPECT_EQ(row.profile_id, (model::ProfileId{3, 4}));
  ASSERT_TRUE(decoder.ReadSamples(&got_ids, &got_values, &got_spans, &got_traces).ok());
  EXPECT_EQ(got_ids, ids);
  EXPECT_EQ(got_values, values);
  EXPECT_EQ(got_spans, spans);
  EXPECT_EQ(got_traces, traces);
  ASSERT_TRUE(decoder.NextRow(&row).ok());
  EXPECT_EQ(row.series, 5u);
  EXPECT_EQ(row.timestamp_ms, INT64_MIN);
  EXPECT_EQ(row.sample_count, 0u);
  EXPECT_EQ(decoder.rows_left(), 0u);

  // Any truncation or extension, unknown flags and a row count the columns do not hold are
  // refused up front.
  for (size_t n = 0; n < raw.size(); ++n) {
    EXPECT_EQ(decoder.Reset(raw.substr(0, n), 3, 2, "chunk", kFormatVersion).code(),
              absl::StatusCode::kDataLoss)
        << n;
  }
  EXPECT_FALSE(decoder.Reset(raw + '\0', 3, 2, "chunk", kFormatVersion).ok());
  EXPECT_FALSE(decoder.Reset(raw, 2, 2, "chunk", kFormatVersion).ok());
  EXPECT_FALSE(decoder.Reset(raw, 4, 2, "chunk", kFormatVersion).ok());
  std::string flags = raw;
  flags[0] |= 4;
  EXPECT_EQ(decoder.Reset(flags, 3, 2, "chunk", kFormatVersion).code(),
            absl::StatusCode::kDataLoss);
}

// Version 1 chunks (no flags byte, no trace ids) still decode: they are what a version 2 chunk
// without trace ids holds after its flags byte.
TEST(ChunkCodec, VersionOneChunksStillDecode) {
  const std::vector<uint32_t> ids = {1, 5};
  const std::vector<int64_t> values = {10, 20};
  const std::vector<uint64_t> spans = {7, 0};
  for (const model::ProfileId profile_id : {model::ProfileId{}, model::ProfileId{3, 4}}) {
    ChunkEncoder encoder;
    encoder.Add({.series = 1, .timestamp_ms = 5, .stack_ids = ids, .values = values});
    encoder.Add({.series = 1,
                 .timestamp_ms = 6,
                 .stack_ids = ids,
                 .values = values,
                 .span_ids = spans,
                 .profile_id = profile_id});
    std::string raw;
    ChunkEntry entry;
    encoder.Finish(&raw, &entry);
    ASSERT_EQ(raw[0], profile_id.empty() ? 0 : kChunkHasProfileIds);
    const std::string v1 = raw.substr(1);
    ChunkDecoder decoder;
    ASSERT_TRUE(decoder.Reset(v1, 2, 1, "chunk", kOldestFormatVersion).ok());
    RowHeader row;
    std::vector<uint32_t> got_ids;
    std::vector<int64_t> got_values;
    std::vector<uint64_t> got_spans;
    std::vector<model::TraceId> got_traces;
    ASSERT_TRUE(decoder.NextRow(&row).ok());
    ASSERT_TRUE(decoder.NextRow(&row).ok());
    EXPECT_EQ(row.timestamp_ms, 6);
    EXPECT_EQ(row.profile_id, profile_id);
    EXPECT_EQ(row.trace_count, 0u);
    ASSERT_TRUE(decoder.ReadSamples(&got_ids, &got_values, &got_spans, &got_traces).ok());
    EXPECT_EQ(got_values, values);
    EXPECT_EQ(got_spans, spans);
    EXPECT_TRUE(got_traces.empty());
  }
}

// The chunk directory of an encoded dataset's profiles section: its entries' row counts.
std::vector<uint32_t> ChunkRowCounts(const EncodedDataset& d) {
  absl::StatusOr<SectionHeadInfo> head = ParseSectionHead(d.profiles_head, "profiles");
  EXPECT_TRUE(head.ok());
  ByteReader r(std::string_view(d.profiles_head).substr(head->head_length));
  uint32_t count = 0;
  EXPECT_TRUE(r.ReadVarint32(&count));
  std::vector<uint32_t> rows;
  for (uint32_t i = 0; i < count; ++i) {
    ChunkEntry entry;
    EXPECT_TRUE(DecodeChunkEntry(&r, &entry));
    rows.push_back(entry.row_count);
  }
  EXPECT_TRUE(r.empty());
  return rows;
}

TEST(DatasetWriter, ChunksEndAtTheRowOrSampleBound) {
  const std::vector<uint32_t> ids = {1, 2, 3, 4};
  const std::vector<int64_t> values = {1, 1, 1, 1};
  SymbolsBuilder symbols;
  for (uint32_t i = 0; i < 4; ++i) symbols.AddStack(std::vector<uint32_t>{i});
  auto write = [&](DatasetOptions options) {
    DatasetWriter writer("t", "s", options);
    writer.AddSeries(Series(0), 1);
    for (int i = 0; i < 10; ++i) {
      writer.AddRow({.series = 0, .timestamp_ms = i, .stack_ids = ids, .values = values});
    }
    return writer.Finish(symbols);
  };
  // 4 samples a row: a bound of 10 samples ends a chunk after its third row.
  EXPECT_EQ(ChunkRowCounts(write({.rows_per_chunk = 4, .max_chunk_samples = 10})),
            (std::vector<uint32_t>{3, 3, 3, 1}));
  EXPECT_EQ(ChunkRowCounts(write({.rows_per_chunk = 4})), (std::vector<uint32_t>{4, 4, 2}));
  EXPECT_EQ(ChunkRowCounts(write({.rows_per_chunk = 2, .max_chunk_samples = 100})),
            (std::vector<uint32_t>{2, 2, 2, 2, 2}));
}

}  // namespace
}  // namespace embers::block
