#include "base/logging.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "base/strings.h"

namespace embers::log {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using namespace std::chrono_literals;

// 2026-11-26T23:40:01.123Z
const std::chrono::system_clock::time_point kTs =
    std::chrono::sys_days{std::chrono::year{2026} / 11 / 26} + 23h + 40min + 1s + 123ms;

std::string Line(std::initializer_list<Field> fields) {
  return FormatLine(kTs, Level::kInfo, "", "m", fields);
}

TEST(FormatLineTest, Example) {
  std::string addr = "0.0.0.0:4040";
  EXPECT_EQ(FormatLine(kTs, Level::kInfo, "http_server.cc:87", "listening",
                       {{"addr", addr}, {"port", 4040}}),
            "ts=2026-11-26T23:40:01.123Z level=info caller=http_server.cc:87 msg=\"listening\" "
            "addr=0.0.0.0:4040 port=4040\n");
}

TEST(FormatLineTest, LevelsAndNoCaller) {
  EXPECT_EQ(FormatLine(kTs, Level::kDebug, "", "a", {}),
            "ts=2026-11-26T23:40:01.123Z level=debug msg=\"a\"\n");
  EXPECT_EQ(FormatLine(kTs, Level::kWarn, "", "a", {}),
            "ts=2026-11-26T23:40:01.123Z level=warn msg=\"a\"\n");
  EXPECT_EQ(FormatLine(kTs, Level::kError, "", "a", {}),
            "ts=2026-11-26T23:40:01.123Z level=error msg=\"a\"\n");
}

TEST(FormatLineTest, TimestampPadding) {
  auto ts = std::chrono::sys_days{std::chrono::year{2027} / 1 / 2} + 3h + 4min + 5s + 6ms;
  EXPECT_EQ(FormatLine(ts, Level::kInfo, "", "", {}),
            "ts=2027-01-02T03:04:05.006Z level=info msg=\"\"\n");
  // Sub-millisecond precision is truncated, not rounded.
  EXPECT_THAT(FormatLine(kTs + 999us, Level::kInfo, "", "", {}), HasSubstr("01.123Z"));
}

TEST(FormatLineTest, Quoting) {
  EXPECT_EQ(Line({{"k", "plain"}}), Line({}).substr(0, Line({}).size() - 1) + " k=plain\n");
  auto value = [](std::string_view v) {
    std::string line = Line({{"k", v}});
    size_t at = line.find(" k=");
    return line.substr(at + 3, line.size() - at - 4);
  };
  EXPECT_EQ(value(""), "\"\"");
  EXPECT_EQ(value("two words"), "\"two words\"");
  EXPECT_EQ(value("a=b"), "\"a=b\"");
  EXPECT_EQ(value("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(value("line1\nline2"), "\"line1\\nline2\"");
  EXPECT_EQ(value("tab\there"), "\"tab\\there\"");
  EXPECT_EQ(value(std::string_view("nul\0", 4)), "\"nul\\u0000\"");
  EXPECT_EQ(value("C:\\dir"), "C:\\dir");              // A backslash alone needs no quotes,
  EXPECT_EQ(value("C:\\my dir"), "\"C:\\\\my dir\"");  // but is escaped inside them.
  EXPECT_EQ(value("/path/ok-chars_1.2:3"), "/path/ok-chars_1.2:3");
  EXPECT_EQ(value("ünïcödé"), "ünïcödé");
}

TEST(FormatLineTest, MessageAlwaysQuotedAndEscaped) {
  EXPECT_EQ(FormatLine(kTs, Level::kInfo, "", "bad \"input\"\nhere", {}),
            "ts=2026-11-26T23:40:01.123Z level=info msg=\"bad \\\"input\\\"\\nhere\"\n");
}

TEST(FormatLineTest, KeysAreSanitised) {
  EXPECT_THAT(Line({{"a key=", 1}, {"", 2}}), HasSubstr(" a_key_=1 _=2\n"));
}

TEST(FieldTest, Types) {
  std::string s = "str";
  std::string_view sv = "view";
  EXPECT_EQ(Line({{"s", s},
                  {"sv", sv},
                  {"lit", "lit"},
                  {"i", -42},
                  {"i64", std::numeric_limits<int64_t>::min()},
                  {"u64", std::numeric_limits<uint64_t>::max()},
                  {"sz", size_t{7}},
                  {"d", 0.25},
                  {"big", 1e20},
                  {"f", 1.5f},
                  {"t", true},
                  {"n", false}}),
            "ts=2026-11-26T23:40:01.123Z level=info msg=\"m\" s=str sv=view lit=lit i=-42 "
            "i64=-9223372036854775808 u64=18446744073709551615 sz=7 d=0.25 big=1e+20 f=1.5 "
            "t=true n=false\n");
}

TEST(FieldTest, Status) {
  EXPECT_THAT(Line({{"err", absl::OkStatus()}}), HasSubstr(" err=OK\n"));
  EXPECT_THAT(Line({{"err", absl::NotFoundError("no such block")}}),
              HasSubstr(" err=\"NOT_FOUND: no such block\"\n"));
}

TEST(FieldTest, CopiesKeepTheirValue) {
  std::vector<Field> fields = {{"a", 1}, {"b", absl::InternalError("x")}, {"c", "s"}};
  std::vector<Field> copy = fields;  // Values held inline or owned survive the copy.
  fields.clear();
  EXPECT_EQ(copy[0].value(), "1");
  EXPECT_EQ(copy[1].value(), "INTERNAL: x");
  EXPECT_EQ(copy[2].value(), "s");
  EXPECT_THAT(FormatLine(kTs, Level::kInfo, "", "m", copy),
              HasSubstr("a=1 b=\"INTERNAL: x\" c=s\n"));
}

TEST(LevelTest, ParseAndName) {
  EXPECT_EQ(*ParseLevel("debug"), Level::kDebug);
  EXPECT_EQ(*ParseLevel("INFO"), Level::kInfo);
  EXPECT_EQ(*ParseLevel("warn"), Level::kWarn);
  EXPECT_EQ(*ParseLevel("Warning"), Level::kWarn);
  EXPECT_EQ(*ParseLevel("error"), Level::kError);
  absl::StatusOr<Level> bad = ParseLevel("verbose");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("verbose"));
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    EXPECT_EQ(*ParseLevel(LevelName(l)), l);
  }
}

// Restores the process-wide level when a test that changes it ends.
class LogOutputTest : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = GetLevel(); }
  void TearDown() override { SetLevel(saved_); }
  Level saved_;
};

TEST_F(LogOutputTest, WritesEnabledLinesWithCaller) {
  SetLevel(Level::kInfo);
  EXPECT_FALSE(Enabled(Level::kDebug));
  EXPECT_TRUE(Enabled(Level::kWarn));
  ::testing::internal::CaptureStderr();
  Debug("hidden");
  int line = __LINE__ + 1;
  Info("listening", {{"port", 4040}});
  Error("plain");
  std::string out = ::testing::internal::GetCapturedStderr();
  std::vector<std::string_view> lines = Split(out, '\n', /*skip_empty=*/true);
  ASSERT_EQ(lines.size(), 2u) << out;
  EXPECT_THAT(lines[0], MatchesRegex("ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z "
                                     "level=info caller=logging_test.cpp:" +
                                     std::to_string(line) + " msg=\"listening\" port=4040"));
  EXPECT_THAT(lines[1], HasSubstr("level=error caller=logging_test.cpp:"));

  SetLevel(Level::kDebug);
  ::testing::internal::CaptureStderr();
  Debug("shown");
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), HasSubstr("msg=\"shown\""));
}

TEST_F(LogOutputTest, ConcurrentLinesDoNotInterleave) {
  SetLevel(Level::kInfo);
  constexpr int kThreads = 8;
  constexpr int kLines = 500;
  ::testing::internal::CaptureStderr();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      std::string payload(100, static_cast<char>('a' + t));
      for (int i = 0; i < kLines; ++i) Info("concurrent", {{"thread", t}, {"payload", payload}});
    });
  }
  for (auto& th : threads) th.join();
  std::string out = ::testing::internal::GetCapturedStderr();
  std::vector<std::string_view> lines = Split(out, '\n', /*skip_empty=*/true);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kLines));
  std::vector<int> per_thread(kThreads);
  for (std::string_view l : lines) {
    // Each line is whole: its payload is 100 copies of its own thread's letter, then the end.
    constexpr std::string_view kPrefix = " msg=\"concurrent\" thread=";
    size_t at = l.find(kPrefix);
    ASSERT_NE(at, std::string::npos) << l;
    at += kPrefix.size();
    int t = l[at] - '0';
    ASSERT_TRUE(t >= 0 && t < kThreads) << l;
    EXPECT_EQ(l.substr(at + 1), " payload=" + std::string(100, static_cast<char>('a' + t)));
    ++per_thread[t];
  }
  for (int n : per_thread) EXPECT_EQ(n, kLines);
}

}  // namespace
}  // namespace embers::log
