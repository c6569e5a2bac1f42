#include "ingest/legacy/app_name.h"

#include <gtest/gtest.h>

namespace embers::ingest {
namespace {

using Tags = std::vector<std::pair<std::string, std::string>>;

TEST(AppNameTest, NameOnly) {
  auto a = ParseAppName("  my-app/x.cpu ");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->name, "my-app/x.cpu");
  EXPECT_TRUE(a->tags.empty());
}

TEST(AppNameTest, Tags) {
  auto a = ParseAppName("app.cpu{ env = prod ,region=eu-west-1,url=a=b c,empty=,x.y=1,env=dev}");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->name, "app.cpu");
  EXPECT_EQ(a->tags,
            (Tags{{"env", "dev"}, {"region", "eu-west-1"}, {"url", "a=b c"}, {"x.y", "1"}}));
  ASSERT_NE(a->FindTag("region"), nullptr);
  EXPECT_EQ(a->FindTag("nope"), nullptr);
}

TEST(AppNameTest, EmptyBracesAndTrailingComma) {
  EXPECT_TRUE(ParseAppName("app{}").ok());
  auto a = ParseAppName("app{a=b,} ");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->tags, (Tags{{"a", "b"}}));
}

TEST(AppNameTest, NameTagReplacesName) {
  auto a = ParseAppName("ignored{__name__=real.wall,k=v}");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->name, "real.wall");
  EXPECT_EQ(a->tags, (Tags{{"k", "v"}}));
}

struct BadCase {
  const char* input;
  const char* want;  // a substring of the message
};

TEST(AppNameTest, Errors) {
  for (const BadCase& c : {
           BadCase{"", "application name is required at position 0"},
           BadCase{"  {a=b}", "required"},
           BadCase{"app name",
                   "character ' ' is not allowed in the application name at position 3"},
           BadCase{"app\xc3\xa9", "position 3"},
           BadCase{"app{a=b", "missing '}' at position 7"},
           BadCase{"app{a}", "tag \"a\" has no '=' at position 4"},
           BadCase{"app{a-b=c}", "character '-' is not allowed in tag name \"a-b\" at position 5"},
           BadCase{"app{,a=b}", "position 4"},
           BadCase{"app{=b}", "tag name is required"},
           BadCase{"app{a=b}x", "unexpected text after '}' at position 8"},
           BadCase{"app{__name__=bad name}", "not allowed in the application name"},
       }) {
    auto a = ParseAppName(c.input);
    ASSERT_FALSE(a.ok()) << c.input;
    EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(a.status().message().find(c.want), absl::string_view::npos)
        << c.input << " → " << a.status();
  }
}

}  // namespace
}  // namespace embers::ingest
