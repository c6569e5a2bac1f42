#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/compression.h"
#include "ingest/jfr/jfr_labels.h"
#include "ingest/jfr/jfr_reader.h"
#include "ingest/jfr/jfr_to_profiles.h"

namespace embers::jfr {
namespace {

constexpr size_t kMaxSize = 256 << 20;

// ../shared/testdata/pyroscope/jfr (or $EMBERS_TESTDATA/pyroscope/jfr); "" when absent.
std::string JfrTestdata() {
  std::filesystem::path base = "../shared/testdata";
  if (const char* env = std::getenv("EMBERS_TESTDATA"); env != nullptr && *env != '\0') base = env;
  std::filesystem::path dir = base / "pyroscope" / "jfr";
  std::error_code ec;
  return std::filesystem::is_directory(dir, ec) ? dir.string() : std::string();
}

#define REQUIRE_TESTDATA(dir)                                                              \
  const std::string dir = JfrTestdata();                                                   \
  if (dir.empty()) {                                                                       \
    GTEST_SKIP() << "JFR testdata not found: set EMBERS_TESTDATA or run from the project " \
                    "root with ../shared/testdata present";                                \
  }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string ReadGz(const std::string& path) {
  auto out = GunzipBounded(ReadFile(path), kMaxSize);
  EXPECT_TRUE(out.ok()) << path << ": " << out.status();
  return out.ok() ? *out : std::string();
}

// series key -> folded stack -> total
using Folded = std::map<std::string, std::map<std::string, int64_t>>;

Folded ExpectedFolded(const std::string& path) {
  Folded out;
  auto j = nlohmann::json::parse(ReadGz(path));
  for (auto& [key, text] : j.items()) {
    auto& stacks = out[key];
    std::istringstream in(text.get<std::string>());
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      size_t sp = line.rfind(' ');
      stacks[line.substr(0, sp)] += std::stoll(line.substr(sp + 1));
    }
  }
  return out;
}

// "<app>.<suffix>{k=v,...}" as in Pyroscope's legacy segment keys (labels sorted by name).
std::string Key(const std::string& app, const std::string& suffix,
                const std::vector<std::pair<std::string, std::string>>& labels) {
  std::string key = app + "." + suffix + "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) key += ",";
    key += labels[i].first + "=" + labels[i].second;
  }
  return key + "}";
}

// The legacy view: series without profile_id aggregate all samples; samples with a profile_id
// also form "<series>{profile_id=...}".
Folded ActualFolded(const JfrProfiles& p, const std::string& app) {
  Folded out;
  for (const JfrSeries& s : p.series) {
    const std::string key = Key(app, s.metric_suffix, s.labels);
    for (const auto& sample : s.samples) {
      std::string stack;
      for (size_t i = 0; i < sample.frames.size(); ++i) {
        if (i > 0) stack += ";";
        stack += s.frames_table[sample.frames[i]];
      }
      out[key][stack] += sample.value;
      // Legacy Pyroscope also kept a series per profile_id (the expected files show both).
      if (!sample.profile_id.empty()) {
        auto labels = s.labels;
        labels.emplace_back("profile_id", sample.profile_id);
        std::sort(labels.begin(), labels.end());
        out[Key(app, s.metric_suffix, labels)][stack] += sample.value;
      }
    }
  }
  return out;
}

struct Case {
  const char* jfr;
  const char* labels;
  const char* expected;
};

class JfrExpectedTest : public ::testing::TestWithParam<Case> {};

TEST_P(JfrExpectedTest, MatchesPyroscopeFoldedOutput) {
  REQUIRE_TESTDATA(dir);
  const Case& c = GetParam();
  std::string jfr = ReadGz(dir + "/" + c.jfr);
  JfrLabelsSnapshot labels;
  const JfrLabelsSnapshot* labels_ptr = nullptr;
  if (c.labels != nullptr) {
    auto parsed = ParseLabelsSnapshot(ReadGz(dir + "/" + c.labels));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    labels = std::move(*parsed);
    labels_ptr = &labels;
  }
  auto profiles = ConvertJfr(jfr, labels_ptr);
  ASSERT_TRUE(profiles.ok()) << profiles.status();
  Folded want = ExpectedFolded(dir + "/" + c.expected);
  Folded got = ActualFolded(*profiles, "kafka.app");

  for (const auto& [key, stacks] : want) {
    auto it = got.find(key);
    if (it == got.end()) {
      ADD_FAILURE() << "missing series " << key;
      continue;
    }
    int reported = 0;
    for (const auto& [stack, value] : stacks) {
      auto sit = it->second.find(stack);
      int64_t have = sit == it->second.end() ? 0 : sit->second;
      if (have != value && reported++ < 5) {
        ADD_FAILURE() << key << ": stack " << stack << " want " << value << " got " << have;
      }
    }
    for (const auto& [stack, value] : it->second) {
      if (!stacks.contains(stack) && reported++ < 5) {
        ADD_FAILURE() << key << ": unexpected stack " << stack << " " << value;
      }
    }
  }
  for (const auto& [key, stacks] : got) {
    if (!want.contains(key)) ADD_FAILURE() << "unexpected series " << key;
  }
  EXPECT_EQ(got.size(), want.size());
}

INSTANTIATE_TEST_SUITE_P(
    Pyroscope, JfrExpectedTest,
    ::testing::Values(Case{"kafka_cpu.jfr.gz", nullptr, "kafka_cpu.expected_folded.json.gz"},
                      Case{"kafka_cpu_lock_alloc.jfr.gz", nullptr,
                           "kafka_cpu_lock_alloc.expected_folded.json.gz"},
                      Case{"dump1_cpu_with_contexts.jfr.gz", "dump1.labels.pb.gz",
                           "dump1.expected_folded.json.gz"},
                      Case{"dump2_wall_cpu_alloc_live.jfr.gz", "dump2.labels.pb.gz",
                           "dump2.expected_folded.json.gz"}),
    [](const auto& info) {
      std::string n = info.param.jfr;
      return n.substr(0, n.find('.'));
    });

TEST(JfrConvert, SeriesMetadata) {
  REQUIRE_TESTDATA(dir);
  auto profiles = ConvertJfr(ReadGz(dir + "/kafka_cpu_lock_alloc.jfr.gz"), nullptr);
  ASSERT_TRUE(profiles.ok()) << profiles.status();
  std::map<std::string, std::string> ids;
  for (const auto& s : profiles->series) ids[s.metric_suffix] = s.profile_type_id;
  EXPECT_EQ(ids["cpu"], "process_cpu:cpu:nanoseconds:cpu:nanoseconds");
  EXPECT_EQ(ids["alloc_in_new_tlab_bytes"], "memory:alloc_in_new_tlab_bytes:bytes:space:bytes");
  EXPECT_EQ(ids["alloc_outside_tlab_objects"],
            "memory:alloc_outside_tlab_objects:count:space:bytes");
  EXPECT_EQ(ids["lock_count"], "mutex:contentions:count:mutex:count");
  EXPECT_EQ(ids["lock_duration"], "mutex:delay:nanoseconds:mutex:count");
  EXPECT_EQ(ids["thread_park_count"], "block:contentions:count:block:count");
  EXPECT_EQ(ids["thread_park_duration"], "block:delay:nanoseconds:block:count");
  EXPECT_EQ(profiles->jfr_event, "cpu");
  for (const auto& s : profiles->series) {
    EXPECT_EQ(s.value_scale, s.metric_suffix == "cpu" ? 10000000 : 1) << s.metric_suffix;
  }
}

TEST(JfrConvert, BodyWithCompressedParts) {
  REQUIRE_TESTDATA(dir);
  auto profiles = ConvertJfrBody(ReadFile(dir + "/dump1_cpu_with_contexts.jfr.gz"),
                                 ReadFile(dir + "/dump1.labels.pb.gz"), kMaxSize);
  ASSERT_TRUE(profiles.ok()) << profiles.status();
  EXPECT_EQ(profiles->jfr_event, "itimer");
  EXPECT_EQ(profiles->series.size(), 5u);
  // A decompression limit below the JFR size is a 413-style error, not a crash.
  auto small = ConvertJfrBody(ReadFile(dir + "/dump1_cpu_with_contexts.jfr.gz"), "", 1000);
  EXPECT_EQ(small.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(JfrReader, ReadsChunksAndPools) {
  REQUIRE_TESTDATA(dir);
  std::string data = ReadGz(dir + "/kafka_cpu.jfr.gz");
  // Two copies back to back: a two-chunk file.
  std::string twice = data + data;
  JfrReader r(twice);
  int chunks = 0;
  int64_t events = 0;
  while (r.NextChunk()) {
    ++chunks;
    EXPECT_GT(r.chunk().header().ticks_per_second, 0);
    JfrEvent ev;
    while (r.NextEvent(&ev)) {
      if (ev.type != JfrEventType::kExecutionSample) continue;
      ++events;
      const JfrStackTrace* st = r.chunk().FindStackTrace(ev.stack_trace);
      ASSERT_NE(st, nullptr);
      for (const JfrStackFrame& f : r.chunk().Frames(*st)) {
        EXPECT_NE(r.chunk().FindMethod(f.method), nullptr);
      }
    }
  }
  ASSERT_TRUE(r.status().ok()) << r.status();
  EXPECT_EQ(chunks, 2);
  EXPECT_GT(events, 0);
  auto one = ConvertJfr(data, nullptr);
  auto two = ConvertJfr(twice, nullptr);
  ASSERT_TRUE(one.ok() && two.ok());
  ASSERT_EQ(one->series.size(), two->series.size());
  int64_t t1 = 0, t2 = 0;
  for (const auto& s : one->series[0].samples) t1 += s.value;
  for (const auto& s : two->series[0].samples) t2 += s.value;
  EXPECT_EQ(t2, 2 * t1);
}

TEST(JfrLabels, DecodesSnapshot) {
  // contexts {1: {labels {1: 2}}}, strings {1: "region", 2: "eu-west-1"}
  std::string pb;
  auto varint = [&](uint64_t v) {
    while (v >= 0x80) {
      pb.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    pb.push_back(static_cast<char>(v));
  };
  auto bytes = [&](int field, const std::string& s) {
    varint(static_cast<uint64_t>(field) << 3 | 2);
    varint(s.size());
    pb += s;
  };
  std::string label_entry = std::string("\x08\x01\x10\x02", 4);
  std::string context = std::string("\x0a") + static_cast<char>(label_entry.size()) + label_entry;
  std::string ctx_entry = std::string("\x08\x01\x12") + static_cast<char>(context.size()) + context;
  bytes(1, ctx_entry);
  bytes(2, std::string("\x08\x01\x12\x06region", 10));
  bytes(2, std::string("\x08\x02\x12\x09"
                       "eu-west-1",
                       13));
  auto s = ParseLabelsSnapshot(pb);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->contexts.size(), 1u);
  ASSERT_EQ(s->contexts.at(1).size(), 1u);
  EXPECT_EQ(s->contexts.at(1)[0], std::make_pair(int64_t{1}, int64_t{2}));
  EXPECT_EQ(s->strings.at(1), "region");
  EXPECT_EQ(s->strings.at(2), "eu-west-1");

  EXPECT_EQ(ParseLabelsSnapshot(pb.substr(0, pb.size() - 3)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseLabelsSnapshot("\x0b\x01").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(JfrSymbols, MergesGeneratedNames) {
  EXPECT_EQ(MergeJvmGeneratedName("org/example/OrderService$$Lambda$669/0x0000000800fd7318"),
            "org/example/OrderService$$Lambda$_");
  EXPECT_EQ(MergeJvmGeneratedName("Fib$$Lambda.0x00007ffa600c4da0"), "Fib$$Lambda_");
  EXPECT_EQ(MergeJvmGeneratedName("jdk/internal/reflect/GeneratedMethodAccessor31"),
            "jdk/internal/reflect/GeneratedMethodAccessor_");
  EXPECT_EQ(MergeJvmGeneratedName("libzstd-jni-1.5.1-16931311898282279136.so"), "libzstd-jni-_.so");
  EXPECT_EQ(MergeJvmGeneratedName("./tmp/libamazonCorrettoCryptoProvider109b39cf33c563eb.so"),
            "libamazonCorrettoCryptoProvider_.so");
  EXPECT_EQ(
      MergeJvmGeneratedName("libasyncProfiler-linux-x64-17b9a1d8156277a98ccc871afa9a8f69215f92.so"),
      "libasyncProfiler-_.so");
  EXPECT_EQ(MergeJvmGeneratedName("java/lang/Thread"), "java/lang/Thread");
}

// --- malformed input: always InvalidArgument, never a crash or hang -------------------------

void ExpectInvalid(std::string_view data) {
  auto r = ConvertJfr(data, nullptr);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
}

TEST(JfrMalformed, EmptyAndGarbage) {
  ExpectInvalid("");
  ExpectInvalid("FLR");
  ExpectInvalid(std::string(100, '\0'));
  std::mt19937 rng(42);
  for (int i = 0; i < 200; ++i) {
    std::string junk(1 + rng() % 4096, '\0');
    for (auto& ch : junk) ch = static_cast<char>(rng());
    if (i % 2 == 0) junk.replace(0, std::min<size_t>(4, junk.size()), std::string("FLR\0", 4));
    auto r = ConvertJfr(junk, nullptr);
    EXPECT_FALSE(r.ok());
  }
}

TEST(JfrMalformed, TruncatedFiles) {
  REQUIRE_TESTDATA(dir);
  std::string data = ReadGz(dir + "/kafka_cpu_lock_alloc.jfr.gz");
  for (size_t len : {size_t{10}, size_t{67}, size_t{68}, size_t{100}, size_t{5000}, data.size() / 2,
                     data.size() - 1}) {
    auto r = ConvertJfr(std::string_view(data).substr(0, len), nullptr);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << len;
    EXPECT_NE(std::string(r.status().message()).find("chunk 0"), std::string::npos) << r.status();
  }
}

void PutBE64(std::string* s, size_t off, uint64_t v) {
  for (int i = 7; i >= 0; --i) (*s)[off + 7 - i] = static_cast<char>(v >> (8 * i));
}

TEST(JfrMalformed, BadHeaderFields) {
  REQUIRE_TESTDATA(dir);
  const std::string data = ReadGz(dir + "/kafka_cpu.jfr.gz");
  std::string d = data;
  PutBE64(&d, 8, data.size() + 1);  // chunk size past the end
  ExpectInvalid(d);
  d = data;
  PutBE64(&d, 8, ~uint64_t{0});
  ExpectInvalid(d);
  d = data;
  PutBE64(&d, 16, data.size() * 4);  // constant pool offset outside the chunk
  ExpectInvalid(d);
  d = data;
  PutBE64(&d, 24, 3);  // metadata offset inside the header
  ExpectInvalid(d);
  d = data;
  d[4] = 9;  // version
  ExpectInvalid(d);
}

TEST(JfrMalformed, HugeCountsAndCorruptBytes) {
  REQUIRE_TESTDATA(dir);
  const std::string data = ReadGz(dir + "/dump1_cpu_with_contexts.jfr.gz");
  // The metadata string count lives a few bytes into the metadata event at offset 68: overwrite
  // varints there with a 9-byte maximal value, a "huge declared count".
  std::string d = data;
  for (size_t off = 70; off < 90; ++off) {
    std::string e = d;
    for (size_t k = 0; k < 9 && off + k < e.size(); ++k) e[off + k] = '\xff';
    auto r = ConvertJfr(e, nullptr);
    EXPECT_FALSE(r.ok()) << off;
  }
  // Flip bytes all over the file: each run must end (ok or InvalidArgument) without crashing.
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) {
    std::string e = data;
    for (int k = 0; k < 4; ++k) e[rng() % e.size()] = static_cast<char>(rng());
    auto r = ConvertJfr(e, nullptr);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
    }
  }
}

// --- synthetic recordings -------------------------------------------------------------------

// Writes tiny JFR chunks for the hostile cases real files do not cover.
class ChunkWriter {
 public:
  struct Element {
    std::string name;
    std::vector<std::pair<std::string, std::string>> attrs;
    std::vector<Element> children;
  };

  static std::string Varint(uint64_t v) {
    std::string out;
    while (v >= 0x80) {
      out.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<char>(v));
    return out;
  }

  // An event: a 4-byte padded size (so it can include itself), then the body.
  static std::string Event(const std::string& body) {
    const uint64_t n = body.size() + 4;
    std::string out;
    out.push_back(static_cast<char>((n & 0x7f) | 0x80));
    out.push_back(static_cast<char>(((n >> 7) & 0x7f) | 0x80));
    out.push_back(static_cast<char>(((n >> 14) & 0x7f) | 0x80));
    out.push_back(static_cast<char>((n >> 21) & 0x7f));
    return out + body;
  }

  std::string Metadata(const Element& root) {
    std::string tree = Encode(root);
    std::string body = Varint(0) + Varint(0) + Varint(0) + Varint(0) + Varint(strings_.size());
    for (const auto& str : strings_) body += "\x03" + Varint(str.size()) + str;
    return Event(body + tree);
  }

  static std::string Checkpoint(int64_t delta) {
    return Event(Varint(1) + Varint(0) + Varint(0) + Varint(static_cast<uint64_t>(delta)) +
                 std::string(1, '\0') + Varint(0));
  }

  // header + metadata + checkpoint + events; `cp_delta` is the checkpoint's delta.
  static std::string Chunk(const std::string& metadata, int64_t cp_delta,
                           const std::string& events) {
    std::string cp = Checkpoint(cp_delta);
    std::string out(68, '\0');
    std::memcpy(out.data(), "FLR\0\0\x02\0\0", 8);
    const uint64_t size = 68 + metadata.size() + cp.size() + events.size();
    PutBE64(&out, 8, size);
    PutBE64(&out, 16, 68 + metadata.size());  // constant pool
    PutBE64(&out, 24, 68);                    // metadata
    PutBE64(&out, 56, 1000000000);
    out[67] = 1;
    return out + metadata + cp + events;
  }

  static void PutBE64(std::string* s, size_t off, uint64_t v) {
    for (int i = 0; i < 8; ++i) (*s)[off + i] = static_cast<char>(v >> (8 * (7 - i)));
  }

 private:
  uint64_t Str(const std::string& str) {
    for (size_t i = 0; i < strings_.size(); ++i) {
      if (strings_[i] == str) return i;
    }
    strings_.push_back(str);
    return strings_.size() - 1;
  }

  std::string Encode(const Element& e) {
    std::string out = Varint(Str(e.name)) + Varint(e.attrs.size());
    for (const auto& [k, v] : e.attrs) out += Varint(Str(k)) + Varint(Str(v));
    out += Varint(e.children.size());
    for (const auto& c : e.children) out += Encode(c);
    return out;
  }

  std::vector<std::string> strings_;
};

using Element = ChunkWriter::Element;

Element ClassElement(const std::string& name, int id, std::vector<Element> fields = {}) {
  return Element{"class", {{"name", name}, {"id", std::to_string(id)}}, std::move(fields)};
}

Element FieldElement(const std::string& name, int type, bool array = false) {
  Element f{"field", {{"name", name}, {"class", std::to_string(type)}}, {}};
  if (array) f.attrs.emplace_back("dimension", "1");
  return f;
}

TEST(JfrSynthetic, MinimalChunkParses) {
  ChunkWriter w;
  Element root{"root",
               {},
               {Element{"metadata",
                        {},
                        {ClassElement("long", 1), ClassElement("java.lang.String", 2),
                         ClassElement("jdk.ActiveSetting", 3,
                                      {FieldElement("startTime", 1), FieldElement("name", 2),
                                       FieldElement("value", 2)})}}}};
  std::string meta = w.Metadata(root);
  std::string ev = ChunkWriter::Event(ChunkWriter::Varint(3) + ChunkWriter::Varint(5) +
                                      "\x03\x05"
                                      "event"
                                      "\x03\x04"
                                      "wall");
  std::string chunk = ChunkWriter::Chunk(meta, 0, ev);
  JfrReader r(chunk);
  ASSERT_TRUE(r.NextChunk()) << r.status();
  JfrEvent e;
  ASSERT_TRUE(r.NextEvent(&e)) << r.status();
  EXPECT_EQ(e.type, JfrEventType::kActiveSetting);
  EXPECT_EQ(e.start_time, 5u);
  EXPECT_EQ(e.setting_name, "event");
  EXPECT_EQ(e.setting_value, "wall");
  EXPECT_FALSE(r.NextEvent(&e));
  EXPECT_TRUE(r.status().ok());
  auto p = ConvertJfr(chunk + chunk, nullptr);  // two chunks
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->jfr_event, "wall");
}

TEST(JfrSynthetic, ConstantPoolChainLoop) {
  ChunkWriter w;
  Element root{"root", {}, {Element{"metadata", {}, {ClassElement("long", 1)}}}};
  std::string meta = w.Metadata(root);
  // The checkpoint's delta points at the metadata event and back is impossible, so point it at
  // itself: delta = 0 ends the chain, any other value we visit twice must be caught.
  for (int64_t delta : {int64_t{-1}, int64_t{1}, int64_t{-100000}, int64_t{1} << 40}) {
    std::string chunk = ChunkWriter::Chunk(meta, delta, "");
    auto p = ConvertJfr(chunk, nullptr);
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << delta;
  }
}

TEST(JfrSynthetic, EmptyStructArraysAreRejectedQuickly) {
  // E {}  A { E[] e; }  jdk.ExecutionSample { A[] a; }: without a progress check, an event
  // declaring 10^6 A's each with 10^6 E's would loop 10^12 times on a few bytes of input.
  ChunkWriter w;
  Element root{"root",
               {},
               {Element{"metadata",
                        {},
                        {ClassElement("long", 1), ClassElement("E", 5),
                         ClassElement("A", 6, {FieldElement("e", 5, true)}),
                         ClassElement("jdk.ExecutionSample", 7, {FieldElement("a", 6, true)})}}}};
  std::string meta = w.Metadata(root);
  std::string body = ChunkWriter::Varint(7) + ChunkWriter::Varint(1000000);
  for (int i = 0; i < 1000; ++i) body += ChunkWriter::Varint(1000000);
  std::string chunk = ChunkWriter::Chunk(meta, 0, ChunkWriter::Event(body));
  auto p = ConvertJfr(chunk, nullptr);
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);

  // A self-recursive struct: bounded by the nesting limit.
  ChunkWriter w2;
  Element root2{"root",
                {},
                {Element{"metadata",
                         {},
                         {ClassElement("R", 5, {FieldElement("r", 5)}),
                          ClassElement("jdk.ExecutionSample", 7, {FieldElement("r", 5)})}}}};
  std::string chunk2 = ChunkWriter::Chunk(w2.Metadata(root2), 0,
                                          ChunkWriter::Event(ChunkWriter::Varint(7) + "xxxx"));
  EXPECT_EQ(ConvertJfr(chunk2, nullptr).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(JfrConvert, ProfileIdAsSeriesLabel) {
  REQUIRE_TESTDATA(dir);
  auto labels = ParseLabelsSnapshot(ReadGz(dir + "/dump2.labels.pb.gz"));
  ASSERT_TRUE(labels.ok());
  std::string jfr = ReadGz(dir + "/dump2_wall_cpu_alloc_live.jfr.gz");
  auto on_samples = ConvertJfr(jfr, &*labels);
  auto as_labels = ConvertJfr(jfr, &*labels, JfrConvertOptions{.profile_id_on_samples = false});
  ASSERT_TRUE(on_samples.ok() && as_labels.ok());
  // alloc x2, live, and cpu/wall for {} and each of 8 threads.
  EXPECT_EQ(on_samples->series.size(), 3u + 9u + 9u);
  // The 16 per-thread series split into one per profile_id: the expected file's 133 keys minus
  // the 16 aggregates legacy Pyroscope added.
  EXPECT_EQ(as_labels->series.size(), 133u - 16u);
  EXPECT_EQ(on_samples->jfr_event, "wall");
}

}  // namespace
}  // namespace embers::jfr
