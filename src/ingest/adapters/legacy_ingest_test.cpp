// Tests of the /ingest adapter against Pyroscope's test inputs (../shared/testdata/pyroscope):
// every pprof, multipart, JFR, folded and speedscope file converts, and the profile-type ids
// that come out of the distributor's split match the testdata README.
#include "ingest/adapters/legacy_ingest.h"

#include <filesystem>
#include <map>
#include <set>

#include "base/compression.h"
#include "base/status.h"
#include "gtest/gtest.h"
#include "ingest/legacy/testdata_util.h"
#include "pprof/split.h"

namespace embers::ingest {
namespace {

using testing::ReadFileOrDie;

constexpr int64_t kFrom = 1700000000LL * 1000000000;

LegacyIngestRequest Request(std::string name, std::string_view body, std::string format = "",
                            std::string content_type = "", std::string spy = "") {
  LegacyIngestRequest r;
  r.name = std::move(name);
  r.body = body;
  r.format = std::move(format);
  r.content_type = std::move(content_type);
  r.spy_name = std::move(spy);
  r.from = "1700000000";
  r.until = "1700000010";
  r.now_nanos = kFrom + 20'000'000'000;
  return r;
}

// The profile-type ids the distributor's splitter produces for these profiles.
std::set<std::string> TypeIds(const std::vector<IngestProfile>& profiles) {
  std::set<std::string> ids;
  for (const IngestProfile& p : profiles) {
    auto series = pprof::SplitBySeries(p.profile, p.labels);
    EXPECT_TRUE(series.ok()) << series.status();
    if (!series.ok()) continue;
    for (const pprof::SeriesProfile& s : *series) ids.insert(s.type.ID());
  }
  return ids;
}

std::string Multipart(const std::vector<std::pair<std::string, std::string>>& parts) {
  std::string body;
  for (const auto& [name, data] : parts) {
    body += "--XyZzY\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\"" + name +
            "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + data + "\r\n";
  }
  body += "--XyZzY--\r\n";
  return body;
}
constexpr const char* kMultipartType = "multipart/form-data; boundary=XyZzY";

int64_t Total(const std::vector<IngestProfile>& profiles) {
  int64_t total = 0;
  for (const IngestProfile& p : profiles) total += p.profile.Total(0);
  return total;
}

TEST(LegacyIngestPprof, EveryFileConvertsWithReadmeIds) {
  EMBERS_REQUIRE_TESTDATA(dir);
  // README "expected IDs" (ingested with the default sample_type_config).
  const std::map<std::string, std::set<std::string>> expected = {
      {"go_cpu_tiny.pb.gz",
       {"process_cpu:samples:count:cpu:nanoseconds",
        "process_cpu:cpu:nanoseconds:cpu:nanoseconds"}},
      {"go_cpu_with_labels.pb.gz",
       {"process_cpu:samples:count:cpu:nanoseconds",
        "process_cpu:cpu:nanoseconds:cpu:nanoseconds"}},
      {"go_heap_large.pb.gz",
       {"memory:alloc_objects:count:space:bytes", "memory:alloc_space:bytes:space:bytes",
        "memory:inuse_objects:count:space:bytes", "memory:inuse_space:bytes:space:bytes"}},
      {"java_asyncprofiler_cpu.pb.gz", {"process_cpu:cpu:nanoseconds:cpu:nanoseconds"}},
      {"pyspy_with_labels.pb", {"process_cpu:samples:count::milliseconds"}},
      {"nodejs_cpu_wall.pb.gz",
       {"wall:sample:count:wall:microseconds", "wall:wall:microseconds:wall:microseconds"}},
      {"nodejs_heap.pb.gz",
       {"memory:inuse_objects:count:inuse_space:bytes",
        "memory:inuse_space:bytes:inuse_space:bytes"}},
      {"nodejs_heap_objects_space.pb",
       {"memory:objects:count:space:bytes", "memory:space:bytes:space:bytes"}},
  };
  int converted = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir + "/pprof")) {
    const std::string file = entry.path().filename().string();
    if (file == "invalid_utf8.pb.gz" || file == "dotnet_hyphen_types.pb") continue;
    SCOPED_TRACE(file);
    const std::string body = ReadFileOrDie(entry.path().string());
    const std::string spy = file == "pyspy_with_labels.pb" ? "scripting" : "gospy";
    auto out = ConvertLegacyIngest(Request("app{env=test}", body, "pprof", "", spy));
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_EQ(out->size(), 1u);
    const IngestProfile& p = (*out)[0];
    EXPECT_EQ(p.labels.Get("service_name"), "app");
    EXPECT_EQ(p.labels.Get("env"), "test");
    EXPECT_EQ(p.labels.Get("__delta__"), "false");
    EXPECT_EQ(p.labels.Get("pyroscope_spy"), spy);
    EXPECT_GT(p.received_bytes, 0);
    const std::set<std::string> ids = TypeIds(*out);
    EXPECT_FALSE(ids.empty());
    if (auto it = expected.find(file); it != expected.end()) {
      EXPECT_EQ(ids, it->second);
    }
    ++converted;
  }
  EXPECT_EQ(converted, 19);
}

TEST(LegacyIngestPprof, PyspyTimeFixAndFunctionNames) {
  EMBERS_REQUIRE_TESTDATA(dir);
  const std::string body = ReadFileOrDie(dir + "/pprof/pyspy_with_labels.pb");
  auto out = ConvertLegacyIngest(Request("app", body, "pprof", "", "pyspy"));
  ASSERT_TRUE(out.ok()) << out.status();
  const pprof::Profile& p = (*out)[0].profile;
  EXPECT_EQ(p.time_nanos, kFrom);  // time_nanos was in milliseconds (1970)
  ASSERT_FALSE(p.functions.empty());
  EXPECT_NE(p.String(p.functions[0].name).find(":-1 - "), std::string_view::npos);
}

TEST(LegacyIngestPprof, InvalidUtf8Is422) {
  EMBERS_REQUIRE_TESTDATA(dir);
  const std::string body = ReadFileOrDie(dir + "/pprof/invalid_utf8.pb.gz");
  auto out = ConvertLegacyIngest(Request("app", body, "pprof"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(HttpStatusOverride(out.status()), 422) << out.status();
  EXPECT_NE(out.status().message().find("UTF-8"), absl::string_view::npos) << out.status();
}

TEST(LegacyIngestPprof, OversizeIs413) {
  EMBERS_REQUIRE_TESTDATA(dir);
  const std::string body = ReadFileOrDie(dir + "/pprof/go_heap_large.pb.gz");
  LegacyIngestRequest r = Request("app", body, "pprof");
  r.limits.max_profile_size = 64 << 10;
  auto out = ConvertLegacyIngest(r);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(HttpStatusOverride(out.status()), 413) << out.status();
}

TEST(LegacyIngestMultipart, ReadmePairs) {
  EMBERS_REQUIRE_TESTDATA(dir);
  const std::map<std::string, std::set<std::string>> expected = {
      {"req_2_goroutine", {"goroutines:goroutine:count:goroutine:count"}},
      {"req_3_mutex",
       {"block:contentions:count:contentions:count", "block:delay:nanoseconds:contentions:count"}},
      {"req_4_mutex",
       {"mutex:contentions:count:contentions:count", "mutex:delay:nanoseconds:contentions:count"}},
      {"req_5_heap",
       {"memory:alloc_objects:count:space:bytes", "memory:alloc_space:bytes:space:bytes",
        "memory:inuse_objects:count:space:bytes", "memory:inuse_space:bytes:space:bytes"}},
  };
  for (const auto& [base, ids] : expected) {
    SCOPED_TRACE(base);
    const std::string body =
        Multipart({{"profile", ReadFileOrDie(dir + "/ingest-multipart/" + base + ".pprof")},
                   {"sample_type_config", ReadFileOrDie(dir + "/ingest-multipart/" + base +
                                                        ".sample_type_config.json")}});
    auto out = ConvertLegacyIngest(Request("app", body, "", kMultipartType, "gospy"));
    ASSERT_TRUE(out.ok()) << out.status();
    const std::set<std::string> got = TypeIds(*out);
    // req_5's inuse types may have no positive sample; the alloc ones must be there.
    for (const std::string& id : ids) {
      if (base == "req_5_heap" && id.find("inuse") != std::string::npos) continue;
      EXPECT_TRUE(got.contains(id)) << id;
    }
    for (const std::string& id : got) EXPECT_TRUE(ids.contains(id)) << id;
  }
}

TEST(LegacyIngestMultipart, BrokenDotnetProfileIsAccepted) {
  EMBERS_REQUIRE_TESTDATA(dir);
  const std::string body = Multipart(
      {{"profile", ReadFileOrDie(dir + "/pprof/dotnet_hyphen_types.pb")},
       {"sample_type_config",
        ReadFileOrDie(dir + "/ingest-multipart/dotnet_hyphen_types.sample_type_config.json")}});
  auto out = ConvertLegacyIngest(Request("app", body, "", kMultipartType, "dotnetspy"));
  ASSERT_TRUE(out.ok()) << out.status();
  const std::set<std::string> got = TypeIds(*out);
  for (const char* id :
       {"process_cpu:cpu:nanoseconds::nanoseconds", "process_cpu:alloc_samples:count::nanoseconds",
        "process_cpu:alloc_size:bytes::nanoseconds"}) {
    EXPECT_TRUE(got.contains(id)) << id;
  }
  for (const std::string& id : got) EXPECT_EQ(id.find('-'), std::string::npos) << id;

  // Without the .NET spy name the repair does not apply: function id 0 is rejected.
  auto raw = ConvertLegacyIngest(
      Request("app", ReadFileOrDie(dir + "/pprof/dotnet_hyphen_types.pb"), "pprof", "", "gospy"));
  ASSERT_FALSE(raw.ok());
  EXPECT_EQ(HttpStatusOverride(raw.status()), 422);
}

TEST(LegacyIngestMultipart, Errors) {
  // prev_profile: old cumulative clients.
  auto prev = ConvertLegacyIngest(
      Request("app", Multipart({{"profile", "x"}, {"prev_profile", "y"}}), "", kMultipartType));
  ASSERT_FALSE(prev.ok());
  EXPECT_NE(prev.status().message().find("unsupported client version"), absl::string_view::npos);
  // A body without the close delimiter: 400.
  auto broken = ConvertLegacyIngest(
      Request("app", "--XyZzY\r\nContent-Disposition: form-data; name=\"profile\"\r\n\r\nabc", "",
              kMultipartType));
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(HttpStatusOverride(broken.status()).has_value()) << broken.status();
  // No profile field: 400.
  auto missing =
      ConvertLegacyIngest(Request("app", Multipart({{"other", "x"}}), "", kMultipartType));
  ASSERT_FALSE(missing.ok());
  EXPECT_FALSE(HttpStatusOverride(missing.status()).has_value());
}

TEST(LegacyIngestJfr, EveryFileConverts) {
  EMBERS_REQUIRE_TESTDATA(dir);
  for (const char* file : {"kafka_cpu", "kafka_cpu_lock_alloc", "dump1_cpu_with_contexts",
                           "dump2_wall_cpu_alloc_live"}) {
    SCOPED_TRACE(file);
    const std::string jfr = ReadFileOrDie(dir + "/jfr/" + file + ".jfr.gz");
    auto out = ConvertLegacyIngest(Request("kafka.app", jfr, "jfr", "", "javaspy"));
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_FALSE(out->empty());
    for (const IngestProfile& p : *out) {
      EXPECT_EQ(p.labels.Get("service_name"), "kafka.app");
      EXPECT_EQ(p.labels.Get("pyroscope_spy"), "javaspy");
      EXPECT_FALSE(p.labels.Get("__name__").empty());
    }
    const std::set<std::string> ids = TypeIds(*out);
    if (std::string_view(file) == "kafka_cpu") {
      EXPECT_EQ(ids, std::set<std::string>{"process_cpu:cpu:nanoseconds:cpu:nanoseconds"});
      // 478 samples at 100 Hz.
      EXPECT_EQ(Total(*out), 478LL * 10'000'000);
    }
    if (std::string_view(file) == "kafka_cpu_lock_alloc") {
      EXPECT_TRUE(ids.contains("process_cpu:cpu:nanoseconds:cpu:nanoseconds"));
    }
  }
}

TEST(LegacyIngestJfr, MultipartWithLabels) {
  EMBERS_REQUIRE_TESTDATA(dir);
  for (const char* base : {"dump1", "dump2"}) {
    SCOPED_TRACE(base);
    const std::string jfr_file =
        std::string(base) == "dump1" ? "dump1_cpu_with_contexts" : "dump2_wall_cpu_alloc_live";
    const std::string body =
        Multipart({{"jfr", ReadFileOrDie(dir + "/jfr/" + jfr_file + ".jfr.gz")},
                   {"labels", ReadFileOrDie(dir + "/jfr/" + base + ".labels.pb.gz")}});
    auto out = ConvertLegacyIngest(Request("kafka.app", body, "jfr", kMultipartType, "javaspy"));
    ASSERT_TRUE(out.ok()) << out.status();
    bool thread_name = false, profile_id = false;
    for (const IngestProfile& p : *out) {
      thread_name |= p.labels.Has("thread_name");
      EXPECT_FALSE(p.labels.Has("profile_id"));
      for (const pprof::Label& l : p.profile.labels) {
        profile_id |= p.profile.String(l.key) == "profile_id";
      }
    }
    EXPECT_TRUE(thread_name);
    if (std::string_view(base) == "dump2") {
      EXPECT_TRUE(profile_id);
    }
    EXPECT_FALSE(TypeIds(*out).empty());
  }
}

TEST(LegacyIngestText, FoldedFiles) {
  EMBERS_REQUIRE_TESTDATA(dir);
  const std::string cpu = ReadFileOrDie(dir + "/folded/java_kafka_cpu.folded");
  auto out = ConvertLegacyIngest(Request("app.cpu{env=test}", cpu));
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ(TypeIds(*out), std::set<std::string>{"process_cpu:cpu:nanoseconds:cpu:nanoseconds"});
  EXPECT_EQ(Total(*out), 478LL * 10'000'000);
  const IngestProfile& p = (*out)[0];
  EXPECT_EQ(p.labels.Get("service_name"), "app");
  EXPECT_EQ(p.labels.Get("env"), "test");
  EXPECT_EQ(p.profile.time_nanos, kFrom);
  EXPECT_EQ(p.profile.duration_nanos, 10'000'000'000);

  // The same body gzip-compressed without a Content-Encoding header.
  const std::string gz = Gzip(cpu);
  auto zipped = ConvertLegacyIngest(Request("app.cpu", gz, "groups"));
  ASSERT_TRUE(zipped.ok()) << zipped.status();
  EXPECT_EQ(Total(*zipped), 478LL * 10'000'000);

  auto lines = ConvertLegacyIngest(
      Request("app.itimer", ReadFileOrDie(dir + "/folded/java_itimer_small.lines"), "lines"));
  ASSERT_TRUE(lines.ok()) << lines.status();
  EXPECT_EQ(Total(*lines), 471LL * 10'000'000);
  auto folded = ConvertLegacyIngest(
      Request("app.itimer", ReadFileOrDie(dir + "/folded/java_itimer_small.folded")));
  ASSERT_TRUE(folded.ok()) << folded.status();
  EXPECT_EQ(Total(*folded), Total(*lines));

  auto alloc = ConvertLegacyIngest(
      Request("app.alloc_in_new_tlab_bytes",
              ReadFileOrDie(dir + "/folded/java_kafka_alloc_in_new_tlab_bytes.folded")));
  ASSERT_TRUE(alloc.ok()) << alloc.status();
  EXPECT_EQ(TypeIds(*alloc).size(), 1u);
  EXPECT_EQ((*alloc)[0].labels.Get("__name__"), "memory");
}

TEST(LegacyIngestText, SpeedscopeFiles) {
  EMBERS_REQUIRE_TESTDATA(dir);
  for (const char* file : {"simple.speedscope.json", "two-sampled.speedscope.json",
                           "two-sampled-bytes.speedscope.json"}) {
    SCOPED_TRACE(file);
    auto out = ConvertLegacyIngest(
        Request("app", ReadFileOrDie(dir + "/speedscope/" + file), "speedscope"));
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_FALSE(out->empty());
    EXPECT_FALSE(TypeIds(*out).empty());
  }
}

TEST(LegacyIngestText, TrieAndTree) {
  // trie: one node "a;b" with value 3 and no children.
  const std::string trie = std::string(
      "\x03"
      "a;b"
      "\x03"
      "\x00",
      6);
  auto t = ConvertLegacyIngest(Request("app.inuse_space", trie, "trie"));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(Total(*t), 3);
  EXPECT_EQ(TypeIds(*t), std::set<std::string>{"memory:inuse_space:bytes::"});
  // tree: unnamed root with one child "a" (self 2), via the Content-Type.
  const std::string tree = std::string(
      "\x00\x00\x01"
      "\x01"
      "a"
      "\x02\x00",
      7);
  auto tr = ConvertLegacyIngest(Request("app.goroutines", tree, "", "binary/octet-stream+tree"));
  ASSERT_TRUE(tr.ok()) << tr.status();
  EXPECT_EQ(Total(*tr), 2);
}

TEST(LegacyIngestErrors, StatusCodes) {
  // Non-numeric folded count: 422.
  auto count = ConvertLegacyIngest(Request("app.cpu", "a;b;c many\n"));
  ASSERT_FALSE(count.ok());
  EXPECT_EQ(HttpStatusOverride(count.status()), 422) << count.status();
  // Unknown format: 415.
  auto format = ConvertLegacyIngest(Request("app.cpu", "a 1\n", "flamegraph"));
  ASSERT_FALSE(format.ok());
  EXPECT_EQ(HttpStatusOverride(format.status()), 415) << format.status();
  // Unparsable name, unknown suffix, bad from: 400.
  for (LegacyIngestRequest r :
       {Request("app{env", "a 1\n"), Request("app.nosuchtype", "a 1\n"), Request("", "a 1\n")}) {
    auto s = ConvertLegacyIngest(r);
    ASSERT_FALSE(s.ok()) << r.name;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_FALSE(HttpStatusOverride(s.status()).has_value()) << s.status();
  }
  LegacyIngestRequest bad_from = Request("app.cpu", "a 1\n");
  bad_from.from = "yesterday-ish";
  EXPECT_FALSE(ConvertLegacyIngest(bad_from).ok());
  // Oversize text body: 413.
  LegacyIngestRequest big = Request("app.cpu", "a;b 1\n");
  const std::string gz = Gzip(std::string(1 << 20, '\n'));
  big.body = gz;
  big.limits.max_body_size = 1000;
  auto too_big = ConvertLegacyIngest(big);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(HttpStatusOverride(too_big.status()), 413) << too_big.status();
  // A profile_id tag: ignored, as upstream.
  auto ignored = ConvertLegacyIngest(Request("app.cpu{profile_id=abc}", "a 1\n"));
  ASSERT_TRUE(ignored.ok());
  EXPECT_TRUE(ignored->empty());
  // Empty body: nothing to store.
  auto empty = ConvertLegacyIngest(Request("app.cpu", ""));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

}  // namespace
}  // namespace embers::ingest
