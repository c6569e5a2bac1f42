#include "pprof/decoder.h"

#include <gtest/gtest.h>

#include <map>

#include "base/compression.h"
#include "base/status.h"
#include "base/strings.h"
#include "google/v1/profile.pb.h"
#include "pprof/encoder.h"
#include "pprof/sample_arrays_cache.h"
#include "pprof/testdata.h"

namespace embers::pprof {
namespace {

using testing::AllPprofFiles;
using testing::BaseName;
using testing::ReadFile;

// Files that are expected not to decode, and why.
bool ExpectedToFail(const std::string& name) {
  return name == "invalid_utf8.pb.gz"          // invalid UTF-8 strings: upstream Push → 400
         || name == "dotnet_hyphen_types.pb";  // every function id is 0: upstream Push → 400
}

DecodeOptions Unlimited() { return DecodeOptions{.max_decompressed_size = 0}; }

// Stack (as function names, leaf first) + labels → values, for comparing two decodings.
std::map<std::string, std::vector<int64_t>> Totals(const Profile& p) {
  std::map<std::string, std::vector<int64_t>> out;
  for (const Sample& s : p.samples) {
    std::string key;
    for (uint64_t id : p.SampleLocations(s)) {
      const Location& loc = p.locations[p.LocationIndex(id)];
      key += std::to_string(loc.address) + "@";
      for (const Line& line : p.LocationLines(loc)) {
        if (line.function_id == 0) continue;
        key += p.String(p.functions[p.FunctionIndex(line.function_id)].name);
        key += ":" + std::to_string(line.line) + ",";
      }
      key += ";";
    }
    for (const Label& l : p.SampleLabels(s)) {
      key += "|" + std::string(p.String(l.key)) + "=" + std::string(p.String(l.str)) + "#" +
             std::to_string(l.num);
    }
    auto& v = out[key];
    auto vals = p.SampleValues(s);
    v.resize(vals.size());
    for (size_t i = 0; i < vals.size(); ++i) v[i] += vals[i];
  }
  return out;
}

TEST(Decoder, AllTestdataFilesMatchGeneratedParser) {
  auto files = AllPprofFiles();
  if (files.empty()) GTEST_SKIP() << "testdata not found (set EMBERS_TESTDATA)";
  for (const std::string& path : files) {
    SCOPED_TRACE(path);
    std::string name = BaseName(path);
    std::string data = ReadFile(path);
    auto decoded = Decode(data, Unlimited());
    if (ExpectedToFail(name)) {
      EXPECT_FALSE(decoded.ok());
      continue;
    }
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    const Profile& p = *decoded;

    auto raw = MaybeDecompress(data, 64 << 20);
    ASSERT_TRUE(raw.ok());
    google::v1::Profile ref;
    ASSERT_TRUE(ref.ParseFromString(*raw));
    ASSERT_EQ(p.samples.size(), static_cast<size_t>(ref.sample_size()));
    ASSERT_EQ(p.sample_types.size(), static_cast<size_t>(ref.sample_type_size()));
    EXPECT_EQ(p.locations.size(), static_cast<size_t>(ref.location_size()));
    EXPECT_EQ(p.functions.size(), static_cast<size_t>(ref.function_size()));
    EXPECT_EQ(p.mappings.size(), static_cast<size_t>(ref.mapping_size()));
    EXPECT_EQ(p.strings.size(), static_cast<size_t>(ref.string_table_size()));
    EXPECT_EQ(p.time_nanos, ref.time_nanos());
    EXPECT_EQ(p.period, ref.period());
    for (size_t t = 0; t < p.sample_types.size(); ++t) {
      int64_t want = 0;
      for (const auto& s : ref.sample()) want += s.value(static_cast<int>(t));
      EXPECT_EQ(p.Total(t), want) << "type " << t;
    }
    size_t ref_locs = 0, ref_labels = 0;
    for (const auto& s : ref.sample()) {
      ref_locs += s.location_id_size();
      ref_labels += s.label_size();
    }
    EXPECT_EQ(p.location_ids.size(), ref_locs);
    EXPECT_EQ(p.labels.size(), ref_labels);
  }
}

TEST(Decoder, RoundTripKeepsTotalsPerStack) {
  auto files = AllPprofFiles();
  if (files.empty()) GTEST_SKIP() << "testdata not found (set EMBERS_TESTDATA)";
  for (const std::string& path : files) {
    if (ExpectedToFail(BaseName(path))) continue;
    SCOPED_TRACE(path);
    auto a = Decode(ReadFile(path), Unlimited());
    ASSERT_TRUE(a.ok()) << a.status();
    std::string encoded = Encode(*a);
    auto b = Decode(encoded, Unlimited());
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_EQ(Totals(*a), Totals(*b));
    EXPECT_EQ(a->strings, b->strings);
    EXPECT_EQ(a->time_nanos, b->time_nanos);
    EXPECT_EQ(a->duration_nanos, b->duration_nanos);
    EXPECT_EQ(a->comments, b->comments);
    // The generated parser accepts our encoding too.
    google::v1::Profile ref;
    EXPECT_TRUE(ref.ParseFromString(encoded));
    EXPECT_EQ(static_cast<size_t>(ref.sample_size()), a->samples.size());
    // Encoding is deterministic: a second round trip gives the same bytes.
    EXPECT_EQ(Encode(*b), encoded);
  }
}

TEST(Decoder, InvalidUtf8IsRejected) {
  std::string dir = testing::TestdataDir();
  if (dir.empty()) GTEST_SKIP() << "testdata not found (set EMBERS_TESTDATA)";
  auto p = Decode(ReadFile(dir + "/pyroscope/pprof/invalid_utf8.pb.gz"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("UTF-8"), std::string::npos) << p.status();
}

TEST(Decoder, DotnetFunctionIdZeroIsRejected) {
  std::string dir = testing::TestdataDir();
  if (dir.empty()) GTEST_SKIP() << "testdata not found (set EMBERS_TESTDATA)";
  auto p = Decode(ReadFile(dir + "/pyroscope/pprof/dotnet_hyphen_types.pb"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("function id is 0"), std::string::npos) << p.status();
}

// --- Hand-built inputs.

// A small valid profile built with the generated message.
google::v1::Profile SmallProfile() {
  google::v1::Profile p;
  for (const char* s : {"", "cpu", "nanoseconds", "main", "main.go", "thread", "t1"}) {
    p.add_string_table(s);
  }
  auto* st = p.add_sample_type();
  st->set_type(1);
  st->set_unit(2);
  auto* f = p.add_function();
  f->set_id(1);
  f->set_name(3);
  f->set_filename(4);
  auto* loc = p.add_location();
  loc->set_id(1);
  loc->add_line()->set_function_id(1);
  auto* s = p.add_sample();
  s->add_location_id(1);
  s->add_value(42);
  auto* l = s->add_label();
  l->set_key(5);
  l->set_str(6);
  p.set_time_nanos(1000);
  return p;
}

TEST(Decoder, SmallProfile) {
  auto p = Decode(SmallProfile().SerializeAsString());
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->samples.size(), 1u);
  EXPECT_EQ(p->Total(0), 42);
  EXPECT_EQ(p->String(p->functions[0].name), "main");
  EXPECT_EQ(p->String(p->SampleLabels(p->samples[0])[0].str), "t1");
}

TEST(Decoder, UnpackedRepeatedAndUnknownFields) {
  // Sample with unpacked location ids/values (field 1 and 2 as plain varints), an unknown
  // varint field 99, an unknown fixed32, fixed64 and length-delimited field.
  std::string sample;
  sample += '\x08';  // location_id = 1 (unpacked)
  sample += '\x01';
  sample += '\x10';  // value = 5 (unpacked)
  sample += '\x05';
  std::string bytes = SmallProfile().SerializeAsString();
  bytes += '\x12';  // field 2 (sample), LEN
  bytes += static_cast<char>(sample.size());
  bytes += sample;
  bytes += "\x98\x06\x07";                              // field 99 varint
  bytes += "\x9d\x06\x01\x02\x03\x04";                  // field 99 fixed32
  bytes += "\x99\x06\x01\x02\x03\x04\x05\x06\x07\x08";  // field 99 fixed64
  bytes += "\x9a\x06\x02zz";                            // field 99 LEN
  auto p = Decode(bytes);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->samples.size(), 2u);
  EXPECT_EQ(p->Total(0), 47);
}

TEST(Decoder, NonDenseIds) {
  google::v1::Profile ref = SmallProfile();
  ref.mutable_function(0)->set_id(1000);
  ref.mutable_location(0)->mutable_line(0)->set_function_id(1000);
  ref.mutable_location(0)->set_id(0xdeadbeef);
  ref.mutable_sample(0)->set_location_id(0, 0xdeadbeef);
  auto p = Decode(ref.SerializeAsString());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->LocationIndex(0xdeadbeef), 0);
  EXPECT_EQ(p->FunctionIndex(1000), 0);
  EXPECT_EQ(p->LocationIndex(1), -1);
}

void ExpectInvalid(const std::string& bytes, std::string_view needle) {
  auto p = Decode(bytes);
  ASSERT_FALSE(p.ok()) << "expected an error containing: " << needle;
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << p.status();
  EXPECT_NE(std::string(p.status().message()).find(needle), std::string::npos) << p.status();
}

TEST(Decoder, Truncated) {
  std::string bytes = SmallProfile().SerializeAsString();
  // Every strict prefix that cuts a field short must fail, never crash.
  int failures = 0;
  for (size_t n = 1; n < bytes.size(); ++n) {
    if (!Decode(bytes.substr(0, n)).ok()) ++failures;
  }
  EXPECT_GT(failures, 0);
  ExpectInvalid(bytes + "\x12\x10", "runs past the end");
}

TEST(Decoder, BadVarint) {
  ExpectInvalid(std::string("\x48") + std::string(11, '\xff'), "byte offset 1");
  ExpectInvalid(std::string("\x48\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02"), "overflows");
  ExpectInvalid(std::string("\x48\xff"), "truncated varint");
  ExpectInvalid(std::string("\x0f"), "invalid wire type");
}

TEST(Decoder, PackedLocationIdsOfEveryLength) {
  // Stacks mixing one-, two- and three-byte ids in runs of every length up to 40, so that the
  // vectorised decoding of short-id runs meets every boundary: a run ending inside a 16-byte
  // load, at the end of the field, and (for the last sample) at the end of the input.
  google::v1::Profile ref = SmallProfile();
  ref.clear_sample();
  constexpr uint64_t kLocations = 20000;  // ids up to 20000 take three bytes
  for (uint64_t id = 2; id <= kLocations; ++id) {
    auto* loc = ref.add_location();
    loc->set_id(id);
    loc->add_line()->set_function_id(1);
  }
  const uint64_t kinds[] = {1, 100, 127, 128, 300, 16383, 16384, kLocations};
  std::vector<std::vector<uint64_t>> stacks;
  for (size_t run = 1; run <= 40; ++run) {
    for (size_t k = 0; k < std::size(kinds); ++k) {
      std::vector<uint64_t> stack;
      for (size_t i = 0; i < run; ++i) stack.push_back(kinds[k] - (kinds[k] > 1 ? i % 2 : 0));
      stack.push_back(kinds[(k + run) % std::size(kinds)]);  // a run of another length next
      for (size_t i = 0; i < run % 5; ++i) stack.push_back(kinds[(k + i) % std::size(kinds)]);
      stacks.push_back(stack);
    }
  }
  stacks.push_back({1});
  for (const auto& stack : stacks) {
    auto* sample = ref.add_sample();
    for (uint64_t id : stack) sample->add_location_id(id);
    sample->add_value(1);
  }
  // The last sample last in the input: its ids end less than 16 bytes before the end.
  std::string bytes = ref.SerializeAsString();
  auto p = Decode(bytes);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->samples.size(), stacks.size());
  for (size_t i = 0; i < stacks.size(); ++i) {
    auto ids = p->SampleLocations(p->samples[i]);
    ASSERT_EQ(std::vector<uint64_t>(ids.begin(), ids.end()), stacks[i]) << "sample " << i;
  }

  // One id past the locations, in a run of short ids: still found by the range check.
  ref.mutable_sample(5)->set_location_id(0, kLocations + 1);
  ExpectInvalid(ref.SerializeAsString(), StrCat("location id ", kLocations + 1));
  ref.mutable_sample(5)->set_location_id(0, 0);
  ExpectInvalid(ref.SerializeAsString(), "location id 0 which does not exist");
}

TEST(Decoder, PackedFieldErrorsStayInsideTheField) {
  // Sample whose packed location_ids end in a continuation byte; the value field that follows
  // would complete the varint if the decoder read past the packed field.
  std::string sample =
      "\x0a\x02\x01\x81"  // location_id: packed [1, <cut>]
      "\x10\x05";         // value = 5
  std::string bytes = SmallProfile().SerializeAsString();
  size_t at = bytes.size() + 4;  // tag, length, tag, length, then the ids
  bytes += '\x12';
  bytes += static_cast<char>(sample.size());
  bytes += sample;
  // More input after the sample, so the ids are in reach of 16-byte loads.
  bytes += "\x9a\x06\x14" + std::string(20, 'z');  // unknown field 99, LEN 20
  ExpectInvalid(bytes, StrCat("truncated varint at byte offset ", at + 1));
}

TEST(Decoder, MissingReferences) {
  using Mutation = void (*)(google::v1::Profile&);
  const std::pair<Mutation, const char*> cases[] = {
      {[](auto& p) { p.mutable_sample(0)->set_location_id(0, 7); },
       "location id 7 which does not exist"},
      // Ids are dense (1..N), so the decoder checks stacks by their id range; 0 is out of it.
      {[](auto& p) { p.mutable_sample(0)->add_location_id(0); },
       "location id 0 which does not exist"},
      {[](auto& p) {
         *p.add_sample() = p.sample(0);
         p.mutable_sample(1)->add_location_id(2);
       },
       "sample[1] refers to location id 2 which does not exist"},
      {[](auto& p) { p.mutable_location(0)->mutable_line(0)->set_function_id(9); },
       "function id 9 which does not exist"},
      {[](auto& p) { p.mutable_location(0)->set_mapping_id(3); },
       "mapping id 3 which does not exist"},
      {[](auto& p) { p.mutable_function(0)->set_name(100); }, "string index 100 out of range"},
      {[](auto& p) { p.mutable_sample(0)->mutable_label(0)->set_str(-1); }, "sample[0].label.str"},
      {[](auto& p) { p.mutable_location(0)->set_id(0); }, "location id is 0"},
      {[](auto& p) { p.add_function()->set_id(1); }, "duplicate"},
      {[](auto& p) { p.mutable_sample(0)->add_value(1); }, "has 2 values, expected 1"},
      {[](auto& p) { p.set_string_table(0, "x"); }, "string_table[0]"},
  };
  for (const auto& [mutate, needle] : cases) {
    SCOPED_TRACE(needle);
    google::v1::Profile p = SmallProfile();
    mutate(p);
    ExpectInvalid(p.SerializeAsString(), needle);
  }
}

TEST(Decoder, ReusedSampleArraysStartEmpty) {
  // A profile's sample arrays, given back after use, are reused by the next decode on this
  // thread: nothing of the first profile may show through in the second.
  google::v1::Profile big = SmallProfile();
  for (int i = 0; i < 100; ++i) *big.add_sample() = big.sample(0);
  auto first = Decode(big.SerializeAsString());
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->samples.size(), 101u);
  RecycleSampleArrays(*first);
  EXPECT_TRUE(first->samples.empty());
  EXPECT_TRUE(first->location_ids.empty());

  auto second = Decode(SmallProfile().SerializeAsString());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->samples.size(), 1u);
  EXPECT_EQ(second->location_ids.size(), 1u);
  EXPECT_EQ(second->values.size(), 1u);
  EXPECT_EQ(second->labels.size(), 1u);
  EXPECT_GE(second->location_ids.capacity(), 101u);  // the memory of the first one
  EXPECT_EQ(second->Total(0), 42);
}

TEST(Decoder, InvalidUtf8String) {
  auto p = SmallProfile();
  p.set_string_table(3, "ma\xc3");
  ExpectInvalid(p.SerializeAsString(), "string_table[3] is not valid UTF-8");
}

TEST(Decoder, GzipAndSizeLimit) {
  std::string raw = SmallProfile().SerializeAsString();
  auto gz = Decode(Gzip(raw));
  ASSERT_TRUE(gz.ok()) << gz.status();
  EXPECT_EQ(gz->Total(0), 42);

  // A gzip bomb: a valid protobuf padded with 64 MiB of an unknown field inflates past the
  // 4 MiB default and is refused with 413 without inflating it all.
  std::string big =
      raw + "\x9a\x06" + std::string("\x80\x80\x80\x20", 4) + std::string(64 << 20, 'a');
  auto bomb = Decode(Gzip(big, 9));
  ASSERT_FALSE(bomb.ok());
  EXPECT_EQ(bomb.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(HttpStatusOverride(bomb.status()), 413);

  // Raw input over the limit is refused the same way.
  auto too_big = Decode(big, DecodeOptions{.max_decompressed_size = 1 << 20});
  EXPECT_EQ(HttpStatusOverride(too_big.status()), 413);

  auto corrupt = Decode(Gzip(raw).substr(0, 12));
  EXPECT_EQ(corrupt.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace embers::pprof
