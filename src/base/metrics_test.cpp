#include "base/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "base/process_metrics.h"
#include "base/strings.h"

namespace embers::metrics {
namespace {

using ::testing::HasSubstr;

// Every line of `text` must be a HELP/TYPE comment or a sample `name{labels} value`.
void ExpectWellFormed(const std::string& text) {
  static const std::regex kComment(R"(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*)");
  static const std::regex kSample(
      R"re([a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*\})? )re"
      R"re(([-+]?[0-9.]+(e[-+][0-9]+)?|[-+]Inf|NaN))re");
  ASSERT_FALSE(text.empty());
  ASSERT_EQ(text.back(), '\n');
  for (std::string_view line : Split(std::string_view(text).substr(0, text.size() - 1), '\n')) {
    std::string l(line);
    EXPECT_TRUE(std::regex_match(l, kComment) || std::regex_match(l, kSample)) << l;
  }
}

// name{labels} → value, for the unlabelled samples of a rendering.
std::map<std::string, double> Samples(const std::string& text) {
  std::map<std::string, double> out;
  for (std::string_view line : Split(text, '\n', /*skip_empty=*/true)) {
    if (line.starts_with("#")) continue;
    size_t sp = line.rfind(' ');
    double v;
    if (line.substr(sp + 1) == "+Inf") {
      v = std::numeric_limits<double>::infinity();
    } else {
      EXPECT_TRUE(ParseDouble(line.substr(sp + 1), &v)) << line;
    }
    out[std::string(line.substr(0, sp))] = v;
  }
  return out;
}

TEST(FormatValueTest, PrometheusSpelling) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(-0.0), "0");
  EXPECT_EQ(FormatValue(3), "3");
  EXPECT_EQ(FormatValue(-2), "-2");
  EXPECT_EQ(FormatValue(1e6), "1000000");
  EXPECT_EQ(FormatValue(1e15), "1000000000000000");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(0.1), "0.1");
  EXPECT_EQ(FormatValue(1e-9), "1e-09");
  EXPECT_EQ(FormatValue(1e20), "1e+20");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(MetricsTest, CounterGolden) {
  Registry r;
  CounterFamily& f = r.Counter("http_requests_total", "Requests served.", {"method", "code"});
  f.WithLabels({"GET", "200"}).Inc();
  f.WithLabels({"GET", "200"}).Inc(2);
  f.WithLabels({"POST", "500"}).Inc(0.5);
  f.WithLabels({"DELETE", "200"});
  f.WithLabels({"GET", "200"}).Inc(-1);  // Ignored: counters never go down.
  EXPECT_EQ(r.Render(),
            "# HELP http_requests_total Requests served.\n"
            "# TYPE http_requests_total counter\n"
            "http_requests_total{method=\"DELETE\",code=\"200\"} 0\n"
            "http_requests_total{method=\"GET\",code=\"200\"} 3\n"
            "http_requests_total{method=\"POST\",code=\"500\"} 0.5\n");
  EXPECT_EQ(f.WithLabels({"GET", "200"}).Value(), 3);
}

TEST(MetricsTest, UnlabelledFamiliesExportZeroAtOnceLabelledOnesNothing) {
  Registry r;
  r.Counter("a_total", "A.");
  r.Gauge("b", "B.", {"x"});
  EXPECT_EQ(r.Render(),
            "# HELP a_total A.\n"
            "# TYPE a_total counter\n"
            "a_total 0\n");
}

TEST(MetricsTest, GaugeGolden) {
  Registry r;
  Gauge& g = r.Gauge("queue_length", "Items queued.").WithLabels({});
  g.Set(10);
  g.Add(2.5);
  g.Sub(0.5);
  g.Inc();
  g.Dec();
  g.Dec();
  Gauge& t = r.Gauge("temperature_celsius", "Temperature.", {"room"}).WithLabels({"cellar"});
  t.Set(-4.25);
  EXPECT_EQ(r.Render(),
            "# HELP queue_length Items queued.\n"
            "# TYPE queue_length gauge\n"
            "queue_length 11\n"
            "# HELP temperature_celsius Temperature.\n"
            "# TYPE temperature_celsius gauge\n"
            "temperature_celsius{room=\"cellar\"} -4.25\n");
}

TEST(MetricsTest, HistogramGoldenCumulativeBuckets) {
  Registry r;
  HistogramFamily& f = r.Histogram("rpc_duration_seconds", "RPC latency.", {"method"},
                                   {0.5, 1, 10, std::numeric_limits<double>::infinity()});
  Histogram& h = f.WithLabels({"Push"});
  h.Observe(0.25);
  h.Observe(0.5);  // On a bound: counted in le="0.5".
  h.Observe(0.75);
  h.Observe(20);
  f.WithLabels({"Query"}).Observe(2);
  EXPECT_EQ(h.Count(), 4u);
  EXPECT_EQ(h.Sum(), 21.5);
  EXPECT_EQ(r.Render(),
            "# HELP rpc_duration_seconds RPC latency.\n"
            "# TYPE rpc_duration_seconds histogram\n"
            "rpc_duration_seconds_bucket{method=\"Push\",le=\"0.5\"} 2\n"
            "rpc_duration_seconds_bucket{method=\"Push\",le=\"1\"} 3\n"
            "rpc_duration_seconds_bucket{method=\"Push\",le=\"10\"} 3\n"
            "rpc_duration_seconds_bucket{method=\"Push\",le=\"+Inf\"} 4\n"
            "rpc_duration_seconds_sum{method=\"Push\"} 21.5\n"
            "rpc_duration_seconds_count{method=\"Push\"} 4\n"
            "rpc_duration_seconds_bucket{method=\"Query\",le=\"0.5\"} 0\n"
            "rpc_duration_seconds_bucket{method=\"Query\",le=\"1\"} 0\n"
            "rpc_duration_seconds_bucket{method=\"Query\",le=\"10\"} 1\n"
            "rpc_duration_seconds_bucket{method=\"Query\",le=\"+Inf\"} 1\n"
            "rpc_duration_seconds_sum{method=\"Query\"} 2\n"
            "rpc_duration_seconds_count{method=\"Query\"} 1\n");
}

TEST(MetricsTest, HistogramUnlabelledAndNaN) {
  Registry r;
  Histogram& h = r.Histogram("size_bytes", "Sizes.", {}, {100}).WithLabels({});
  h.Observe(std::numeric_limits<double>::quiet_NaN());  // Goes to +Inf, like the Go client.
  EXPECT_EQ(h.BucketCount(0), 0u);
  EXPECT_EQ(h.BucketCount(1), 1u);
  EXPECT_EQ(r.Render(),
            "# HELP size_bytes Sizes.\n"
            "# TYPE size_bytes histogram\n"
            "size_bytes_bucket{le=\"100\"} 0\n"
            "size_bytes_bucket{le=\"+Inf\"} 1\n"
            "size_bytes_sum NaN\n"
            "size_bytes_count 1\n");
}

TEST(MetricsTest, BucketHelpers) {
  std::vector<double> d = DefaultLatencyBuckets();
  ASSERT_FALSE(d.empty());
  EXPECT_EQ(d.front(), 0.001);
  EXPECT_EQ(d.back(), 10);
  EXPECT_TRUE(std::is_sorted(d.begin(), d.end()));
  EXPECT_EQ(ExponentialBuckets(1, 2, 5), (std::vector<double>{1, 2, 4, 8, 16}));
  EXPECT_EQ(LinearBuckets(5, 5, 3), (std::vector<double>{5, 10, 15}));
}

TEST(MetricsTest, EscapingOfLabelValuesAndHelp) {
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  Registry r;
  r.Gauge("g", "Help with \\ backslash,\nnewline and \"quotes\".", {"path"})
      .WithLabels({"C:\\dir\n\"x\""})
      .Set(1);
  std::string text = r.Render();
  EXPECT_EQ(text,
            "# HELP g Help with \\\\ backslash,\\nnewline and \"quotes\".\n"
            "# TYPE g gauge\n"
            "g{path=\"C:\\\\dir\\n\\\"x\\\"\"} 1\n");
  ExpectWellFormed(text);
}

TEST(MetricsTest, FamiliesSortedByNameAndSameFamilyReturnedTwice) {
  Registry r;
  CounterFamily& z = r.Counter("z_total", "Z.", {"k"});
  r.Gauge("m", "M.").WithLabels({}).Set(2);
  r.Counter("a_total", "A.").WithLabels({}).Inc();
  EXPECT_EQ(&r.Counter("z_total", "other help is ignored", {"k"}), &z);
  z.WithLabels({"b"}).Inc();
  z.WithLabels({"a"}).Inc();
  EXPECT_EQ(r.Render(),
            "# HELP a_total A.\n# TYPE a_total counter\na_total 1\n"
            "# HELP m M.\n# TYPE m gauge\nm 2\n"
            "# HELP z_total Z.\n# TYPE z_total counter\n"
            "z_total{k=\"a\"} 1\nz_total{k=\"b\"} 1\n");
}

TEST(MetricsTest, WithLabelsAcceptsStringVectorsAndReturnsSameChild) {
  Registry r;
  CounterFamily& f = r.Counter("c_total", "C.", {"a", "b"});
  std::vector<std::string> values = {"x", "y"};
  std::vector<std::string_view> views = {"x", "y"};
  Counter& c = f.WithLabels({"x", "y"});
  EXPECT_EQ(&f.WithLabels(values), &c);
  EXPECT_EQ(&f.WithLabels(views), &c);
  EXPECT_NE(&f.WithLabels({"y", "x"}), &c);
}

TEST(MetricsTest, CollectorsMergeWithFamiliesInOrder) {
  Registry r;
  r.Gauge("b_gauge", "B.").WithLabels({}).Set(1);
  r.AddGaugeFunc("c_func", "C.", [] { return 42.0; });
  r.AddCounterFunc("a_func_total", "A.", [] { return 7.0; });
  r.AddCollector([](Writer& w) {
    w.Gauge("d_sizes", "D.", 2, {{"kind", "y"}});
    w.Gauge("d_sizes", "D.", 1, {{"kind", "x"}});
  });
  std::string text = r.Render();
  EXPECT_EQ(text,
            "# HELP a_func_total A.\n# TYPE a_func_total counter\na_func_total 7\n"
            "# HELP b_gauge B.\n# TYPE b_gauge gauge\nb_gauge 1\n"
            "# HELP c_func C.\n# TYPE c_func gauge\nc_func 42\n"
            "# HELP d_sizes D.\n# TYPE d_sizes gauge\n"
            "d_sizes{kind=\"x\"} 1\nd_sizes{kind=\"y\"} 2\n");
  ExpectWellFormed(text);
}

TEST(MetricsTest, CollectorMayUseRegistry) {
  // Render calls collectors without holding the registry lock.
  Registry r;
  r.AddCollector([&r](Writer& w) {
    w.Gauge("families", "F.", r.Counter("x_total", "X.").WithLabels({}).Value());
  });
  EXPECT_THAT(r.Render(), HasSubstr("families 0\n"));
}

TEST(MetricsTest, ConcurrentIncrementsAreExact) {
  Registry r;
  CounterFamily& f = r.Counter("ops_total", "Ops.", {"worker"});
  Counter& shared = r.Counter("shared_total", "Shared.").WithLabels({});
  Histogram& h = r.Histogram("lat_seconds", "Latency.", {}).WithLabels({});
  constexpr int kThreads = 8;
  constexpr int kIncrements = 100000;
  std::vector<Counter*> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Every thread races to create the same child; all must get the same one.
      seen[t] = &f.WithLabels({"same"});
      for (int i = 0; i < kIncrements; ++i) {
        shared.Inc();
        seen[t]->Inc();
        h.Observe(0.5);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (Counter* c : seen) EXPECT_EQ(c, seen[0]);
  EXPECT_EQ(shared.Value(), kThreads * kIncrements);
  EXPECT_EQ(seen[0]->Value(), kThreads * kIncrements);
  EXPECT_EQ(h.Count(), static_cast<uint64_t>(kThreads * kIncrements));
  EXPECT_EQ(h.Sum(), 0.5 * kThreads * kIncrements);
  EXPECT_THAT(r.Render(), HasSubstr("shared_total 800000\n"));
}

TEST(MetricsTest, RenderWhileUpdating) {
  Registry r;
  HistogramFamily& f = r.Histogram("h_seconds", "H.", {"k"});
  f.WithLabels({"first"}).Observe(1);
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i) f.WithLabels({std::to_string(i % 50)}).Observe(i % 7);
  });
  for (int i = 0; i < 50; ++i) ExpectWellFormed(r.Render());
  stop = true;
  writer.join();
}

TEST(MetricsDeathTest, MisuseAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Registry r;
        r.Counter("x_total", "X.");
        r.Gauge("x_total", "X.");
      },
      "metric x_total registered as counter, requested as gauge");
  EXPECT_DEATH(
      {
        Registry r;
        r.Counter("x_total", "X.", {"a"});
        r.Counter("x_total", "X.", {"b"});
      },
      "registered with labels \\[a\\], requested with \\[b\\]");
  EXPECT_DEATH(
      {
        Registry r;
        r.Counter("x_total", "X.", {"a", "b"}).WithLabels({"only-one"});
      },
      "got 1 label values");
  EXPECT_DEATH({ Registry().Counter("bad-name", "X."); }, "invalid metric name");
  EXPECT_DEATH({ Registry().Counter("x", "X.", {"__reserved"}); }, "invalid label name");
  EXPECT_DEATH({ Registry().Histogram("h", "H.", {"le"}); }, "reserved");
  EXPECT_DEATH({ Registry().Histogram("h", "H.", {}, {2, 1}); }, "strictly increasing");
}

TEST(ProcessMetricsTest, PresentAndPlausible) {
  Registry r;
  RegisterProcessMetrics(r);
  RegisterBuildInfo(r, "1.2.3", "abc123");
  std::string text = r.Render();
  ExpectWellFormed(text);
  EXPECT_THAT(text, HasSubstr("# TYPE process_cpu_seconds_total counter\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE process_resident_memory_bytes gauge\n"));
  EXPECT_THAT(text,
              HasSubstr("embers_build_info{version=\"1.2.3\",revision=\"abc123\",compiler=\""));

  std::map<std::string, double> s = Samples(text);
  ASSERT_TRUE(s.contains("process_cpu_seconds_total")) << text;
  EXPECT_GE(s["process_cpu_seconds_total"], 0);
  EXPECT_GT(s["process_resident_memory_bytes"], 0);
  EXPECT_GE(s["process_virtual_memory_bytes"], s["process_resident_memory_bytes"]);
  EXPECT_GE(s["process_threads"], 1);
  EXPECT_GE(s["process_open_fds"], 1);
  EXPECT_GE(s["process_max_fds"], s["process_open_fds"]);
  double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(s["process_start_time_seconds"], now + 1);
  EXPECT_GT(s["process_start_time_seconds"], now - 3600);

  // A second thread shows up in process_threads.
  std::atomic<bool> stop{false};
  std::thread t([&] {
    while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  EXPECT_GE(Samples(r.Render())["process_threads"], 2);
  stop = true;
  t.join();
}

TEST(Metrics, RemovedChildrenLeaveTheExposition) {
  Registry r;
  CounterFamily& f = r.Counter("removal_test_total", "Removal.", {"tenant"});
  f.WithLabels({"a"}).Inc(2);
  f.WithLabels({"b"}).Inc(3);
  EXPECT_EQ(f.size(), 2u);
  EXPECT_TRUE(f.Remove({"a"}));
  EXPECT_FALSE(f.Remove({"a"}));
  EXPECT_EQ(f.size(), 1u);
  std::string text = r.Render();
  EXPECT_EQ(text.find("tenant=\"a\""), std::string::npos) << text;
  EXPECT_NE(text.find("removal_test_total{tenant=\"b\"} 3"), std::string::npos) << text;
  // Coming back starts from zero, as a restarted counter.
  f.WithLabels({"a"}).Inc();
  EXPECT_NE(r.Render().find("removal_test_total{tenant=\"a\"} 1"), std::string::npos);
}

}  // namespace
}  // namespace embers::metrics
