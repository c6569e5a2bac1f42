#include "model/labels.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <string>

namespace embers::model {
namespace {

TEST(Labels, EnforcedOrder) {
  Labels ls({{"zeta", "1"},
             {"__service_name__", "api"},
             {"__name__", "process_cpu"},
             {"__profile_type__", "t"},
             {"a", "2"},
             {"_a", "3"}});
  std::vector<std::string> names;
  for (const Label& l : ls) names.push_back(l.name);
  EXPECT_EQ(names, (std::vector<std::string>{"__profile_type__", "__service_name__", "__name__",
                                             "_a", "a", "zeta"}));
}

TEST(Labels, GetSetDelete) {
  Labels ls({{"b", "2"}, {"a", "1"}});
  EXPECT_EQ(ls.Get("a"), "1");
  EXPECT_EQ(ls.Get("missing"), "");
  ls.Set("c", "3");
  ls.Set("a", "x");
  ls.Set("__profile_type__", "p");
  EXPECT_EQ(ls.ToString(), R"({__profile_type__="p", a="x", b="2", c="3"})");
  ls.Set("b", "");  // empty deletes, like Pyroscope's LabelsBuilder
  EXPECT_FALSE(ls.Has("b"));
  ls.Delete("c");
  EXPECT_EQ(ls.ToString(), R"({__profile_type__="p", a="x"})");
  Labels with = ls.With("d", "4");
  EXPECT_EQ(with.size(), 3u);
  EXPECT_EQ(ls.size(), 2u);
}

TEST(Labels, DuplicateNamesFirstWins) {
  Labels ls({{"a", "1"}, {"a", "2"}});
  ASSERT_EQ(ls.size(), 1u);
  EXPECT_EQ(ls.Get("a"), "1");
}

TEST(Labels, FingerprintIsXxhashOfSeparatedPairs) {
  Labels ls({{"service_name", "api"}, {"__profile_type__", "process_cpu:cpu:nanoseconds::"}});
  std::string bytes = std::string("__profile_type__\xff") + "process_cpu:cpu:nanoseconds::\xff" +
                      "service_name\xff" + "api\xff";
  EXPECT_EQ(ls.Fingerprint(), XXH64(bytes.data(), bytes.size(), 0));
  EXPECT_EQ(Labels().Fingerprint(), XXH64("", 0, 0));
  EXPECT_NE(ls.Fingerprint(), ls.With("x", "y").Fingerprint());
}

TEST(Labels, ToStringQuotes) {
  Labels ls({{"a", "q\"b\\c\n\x01"}, {"u", "héllo"}});
  EXPECT_EQ(ls.ToString(), "{a=\"q\\\"b\\\\c\\n\\x01\", u=\"héllo\"}");
}

TEST(Labels, ValidName) {
  EXPECT_TRUE(IsValidLabelName("service_name"));
  EXPECT_TRUE(IsValidLabelName("service.version"));
  EXPECT_TRUE(IsValidLabelName("__name__"));
  EXPECT_TRUE(IsValidLabelName("_1"));
  EXPECT_FALSE(IsValidLabelName(""));
  EXPECT_FALSE(IsValidLabelName("1abc"));
  EXPECT_FALSE(IsValidLabelName("a-b"));
  EXPECT_FALSE(IsValidLabelName("a b"));
}

std::vector<Label> Base() { return {{"__name__", "process_cpu"}, {"service_name", "api"}}; }

TEST(Labels, Validate) {
  EXPECT_TRUE(ValidateLabels(Base()).ok());
  EXPECT_FALSE(ValidateLabels({}).ok());

  auto ls = Base();
  ls.push_back({"bad-name", "v"});
  absl::Status st = ValidateLabels(ls);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("bad-name"), std::string::npos) << st;

  ls = Base();
  ls.push_back({std::string(1025, 'n'), "v"});
  st = ValidateLabels(ls);
  EXPECT_NE(st.message().find("label name too long"), std::string::npos) << st;

  ls = Base();
  ls.push_back({"long", std::string(2049, 'v')});
  st = ValidateLabels(ls);
  EXPECT_NE(st.message().find("label value too long"), std::string::npos) << st;
  ls.back().value.resize(2048);
  EXPECT_TRUE(ValidateLabels(ls).ok());

  ls = Base();
  ls.push_back({"dup", "1"});
  ls.push_back({"dup", "2"});
  st = ValidateLabels(ls);
  EXPECT_NE(st.message().find("duplicate label name: 'dup'"), std::string::npos) << st;

  ls = Base();
  for (int i = 0; i < 28; ++i) ls.push_back({"l" + std::to_string(i), "v"});
  EXPECT_TRUE(ValidateLabels(ls).ok());  // exactly 30
  ls.push_back({"one_more", "v"});
  st = ValidateLabels(ls);
  EXPECT_NE(st.message().find("31 label names; limit 30"), std::string::npos) << st;

  ls = Base();
  ls.push_back({"bin", "\xff\xfe"});
  st = ValidateLabels(ls);
  EXPECT_NE(st.message().find("'bin'"), std::string::npos) << st;

  EXPECT_FALSE(ValidateLabels({{"service_name", "api"}}).ok());  // no __name__
  EXPECT_FALSE(ValidateLabels({{"__name__", "cpu"}}).ok());      // no service_name
}

TEST(Labels, Utf8NamesOnlyWhenAllowed) {
  LabelLimits utf8;
  utf8.allow_utf8_names = true;
  for (const char* name : {"bad-name", "k8s/pod", "\xc3\xa9t\xc3\xa9", "1st"}) {
    auto ls = Base();
    ls.push_back({name, "v"});
    EXPECT_FALSE(ValidateLabels(ls).ok()) << name;
    EXPECT_TRUE(ValidateLabels(ls, utf8).ok()) << name;
  }
  // Still refused with the capability: not UTF-8, or empty.
  for (std::string name : {std::string("\xff"), std::string()}) {
    auto ls = Base();
    ls.push_back({name, "v"});
    EXPECT_FALSE(ValidateLabels(ls, utf8).ok());
  }
}

TEST(Utf8, Validity) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii text that is longer than eight bytes"));
  EXPECT_TRUE(IsValidUtf8("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("abcdefgh\x80"));      // stray continuation
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
}

}  // namespace
}  // namespace embers::model
