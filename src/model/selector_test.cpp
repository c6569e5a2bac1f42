#include "model/selector.h"

#include <gtest/gtest.h>

#include <map>

namespace embers::model {
namespace {

using Pairs = std::vector<std::pair<std::string_view, std::string_view>>;

Selector MustParse(std::string_view text) {
  auto s = Selector::Parse(text);
  EXPECT_TRUE(s.ok()) << text << ": " << s.status();
  return s.ok() ? *std::move(s) : Selector();
}

TEST(SelectorTest, ParsesAllOperators) {
  Selector s = MustParse(R"({service_name="api", env=~"prod.*", x!="y", z!~"a|b"})");
  ASSERT_EQ(s.matchers().size(), 4u);
  EXPECT_EQ(s.matchers()[0].type(), MatchType::kEqual);
  EXPECT_EQ(s.matchers()[0].name(), "service_name");
  EXPECT_EQ(s.matchers()[0].value(), "api");
  EXPECT_EQ(s.matchers()[1].type(), MatchType::kRegexMatch);
  EXPECT_EQ(s.matchers()[2].type(), MatchType::kNotEqual);
  EXPECT_EQ(s.matchers()[3].type(), MatchType::kRegexNoMatch);
  EXPECT_EQ(s.ToString(), R"({service_name="api",env=~"prod.*",x!="y",z!~"a|b"})");
}

TEST(SelectorTest, EmptyMatchesEverything) {
  for (std::string_view text : {"", "  ", "{}", " { } "}) {
    Selector s = MustParse(text);
    EXPECT_TRUE(s.MatchesAll()) << text;
    EXPECT_TRUE(s.Matches(Pairs{{"a", "b"}}));
    EXPECT_TRUE(s.Matches(Pairs{}));
  }
}

TEST(SelectorTest, MetricNameAndTrailingCommaAndQuotes) {
  Selector s = MustParse(R"(process_cpu{a='x\'y', "service.name"=`c:\d`,})");
  ASSERT_EQ(s.matchers().size(), 3u);
  EXPECT_EQ(s.matchers()[0].name(), "__name__");
  EXPECT_EQ(s.matchers()[0].value(), "process_cpu");
  EXPECT_EQ(s.matchers()[1].value(), "x'y");
  EXPECT_EQ(s.matchers()[2].name(), "service.name");
  EXPECT_EQ(s.matchers()[2].value(), "c:\\d");
  EXPECT_EQ(MustParse("up").matchers().size(), 1u);
}

// Prometheus 3's UTF-8 metric names: a quoted string alone inside the braces is `__name__`, in
// any position; quoted label names take any characters. Giving the name twice is an error.
TEST(SelectorTest, QuotedMetricNameInsideTheBraces) {
  Selector s = MustParse(R"({"process.cpu", "service.name"="api", env!="dev"})");
  ASSERT_EQ(s.matchers().size(), 3u);
  EXPECT_EQ(s.matchers()[0].name(), "__name__");
  EXPECT_EQ(s.matchers()[0].value(), "process.cpu");
  EXPECT_EQ(s.matchers()[1].name(), "service.name");
  EXPECT_EQ(s.matchers()[2].type(), MatchType::kNotEqual);
  Selector last = MustParse(R"({ "k8s.pod"="a" , 'm.x' })");
  ASSERT_EQ(last.matchers().size(), 2u);
  EXPECT_EQ(last.matchers()[1].name(), "__name__");
  EXPECT_EQ(last.matchers()[1].value(), "m.x");
  EXPECT_EQ(Selector::Parse(last.ToString())->ToString(), last.ToString());
  for (const char* bad : {R"(cpu{"mem"})", R"({"a", "b"})", R"({""})", R"({"a" "b"})"}) {
    EXPECT_EQ(Selector::Parse(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(SelectorTest, Escapes) {
  Selector s = MustParse(R"({a="\n\t\\\"\x41\101\u00e9\U0001F600"})");
  EXPECT_EQ(s.matchers()[0].value(), "\n\t\\\"AA\xc3\xa9\xf0\x9f\x98\x80");
  // ToString round-trips, including control bytes.
  auto again = Selector::Parse(s.ToString());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->matchers()[0].value(), s.matchers()[0].value());
  Selector ctl = MustParse("{a=\"\\x01\\x7f\"}");
  EXPECT_EQ(MustParse(ctl.ToString()).matchers()[0].value(), "\x01\x7f");
}

TEST(SelectorTest, ErrorsNamePosition) {
  struct Case {
    std::string_view text;
    std::string_view position;
  };
  for (const Case& c : std::vector<Case>{
           {"{a=\"b\"", "position 7"},
           {"{a}", "position 3"},
           {"{a=b}", "position 4"},
           {"{a=\"b\" c=\"d\"}", "position 8"},
           {"{a=\"b\"} x", "position 9"},
           {"{1=\"b\"}", "position 2"},
           {"{a=~\"(\"}", "position 5"},
           {"{a=\"\\q\"}", "position 5"},
           {"{a=\"b", "position 4"},
           {"{a!\"b\"}", "position 4"},
           {"{\"\"=\"b\"}", "position 2"},
           {"[", "position 1"},
       }) {
    auto s = Selector::Parse(c.text);
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(s.status().message()).find(c.position), std::string::npos)
        << c.text << " -> " << s.status().message();
  }
}

TEST(SelectorTest, PrometheusSemantics) {
  Pairs set = {{"service_name", "api"}, {"env", "prod-eu"}};
  EXPECT_TRUE(MustParse(R"({service_name="api"})").Matches(set));
  EXPECT_FALSE(MustParse(R"({service_name="ap"})").Matches(set));
  // Regexes are anchored at both ends.
  EXPECT_TRUE(MustParse(R"({env=~"prod.*"})").Matches(set));
  EXPECT_FALSE(MustParse(R"({env=~"prod"})").Matches(set));
  EXPECT_FALSE(MustParse(R"({env=~"rod-eu"})").Matches(set));
  EXPECT_TRUE(MustParse(R"({env!~"prod"})").Matches(set));
  EXPECT_FALSE(MustParse(R"({env!~"prod-.."})").Matches(set));
  // An absent label has the value "".
  EXPECT_TRUE(MustParse(R"({x=""})").Matches(set));
  EXPECT_TRUE(MustParse(R"({x!="y"})").Matches(set));
  EXPECT_FALSE(MustParse(R"({x="y"})").Matches(set));
  EXPECT_FALSE(MustParse(R"({x=~".+"})").Matches(set));
  EXPECT_TRUE(MustParse(R"({x=~".*"})").Matches(set));
  EXPECT_TRUE(MustParse(R"({x!~"a|b"})").Matches(set));
  EXPECT_FALSE(MustParse(R"({service_name=""})").Matches(set));
  // `.` matches a newline.
  EXPECT_TRUE(MustParse(R"({a=~"x.y"})").Matches(Pairs{{"a", "x\ny"}}));
  // All matchers must pass.
  EXPECT_FALSE(MustParse(R"({service_name="api", env="dev"})").Matches(set));
}

TEST(SelectorTest, LookupAccessor) {
  std::map<std::string, std::string, std::less<>> labels = {{"a", "1"}, {"b", "2"}};
  Selector::LabelLookup lookup = [&](std::string_view name) -> std::optional<std::string_view> {
    auto it = labels.find(name);
    if (it == labels.end()) return std::nullopt;
    return it->second;
  };
  EXPECT_TRUE(MustParse(R"({a="1", b=~"[0-9]", c!="3"})").Matches(lookup));
  EXPECT_FALSE(MustParse(R"({a="1", c="3"})").Matches(lookup));
}

}  // namespace
}  // namespace embers::model
