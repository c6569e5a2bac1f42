#include "ingest/legacy/multipart.h"

#include <gtest/gtest.h>

#include "base/strings.h"
#include "ingest/legacy/sample_type_config.h"
#include "ingest/legacy/testdata_util.h"

namespace embers::ingest {
namespace {

constexpr char kType[] = "multipart/form-data; boundary=XyZ";

std::string Part(std::string_view name, std::string_view filename, std::string_view body,
                 std::string_view nl = "\r\n") {
  return StrCat("--XyZ", nl, "Content-Disposition: form-data; name=\"", name, "\"; filename=\"",
                filename, "\"", nl, "Content-Type: application/octet-stream", nl, nl, body, nl);
}

TEST(MultipartTest, Boundary) {
  EXPECT_EQ(*MultipartBoundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(*MultipartBoundary("Multipart/Form-Data;charset=x; BOUNDARY=\"a b;c\""), "a b;c");
  EXPECT_FALSE(MultipartBoundary("multipart/form-data").ok());
  EXPECT_FALSE(MultipartBoundary("multipart/form-data; boundary=").ok());
  EXPECT_FALSE(MultipartBoundary("text/plain; boundary=abc").ok());
  EXPECT_FALSE(MultipartBoundary("multipart/form-data; boundary=\"abc").ok());
  EXPECT_FALSE(
      MultipartBoundary(StrCat("multipart/form-data; boundary=", std::string(71, 'a'))).ok());
  EXPECT_TRUE(IsMultipartFormData(" multipart/FORM-data ; boundary=x"));
  EXPECT_FALSE(IsMultipartFormData("multipart/mixed"));
}

TEST(MultipartTest, Splits) {
  const std::string binary("\x00\r\n--XyZx\r\n--XyZ-\x01", 18);
  const std::string body = StrCat("preamble\r\n", Part("profile", "profile.pprof", binary),
                                  Part("sample_type_config", "c.json", "{}"), Part("empty", "", ""),
                                  "--XyZ--\r\nepilogue");
  auto form = ParseMultipart(kType, body);
  ASSERT_TRUE(form.ok()) << form.status();
  ASSERT_EQ(form->parts.size(), 3u);
  const MultipartPart* p = form->Find("profile");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->body, binary);
  EXPECT_EQ(p->filename, "profile.pprof");
  EXPECT_EQ(p->content_type, "application/octet-stream");
  EXPECT_EQ(form->Find("sample_type_config")->body, "{}");
  EXPECT_EQ(form->Find("empty")->body, "");
  EXPECT_EQ(form->Find("prev_profile"), nullptr);
}

TEST(MultipartTest, BareLineFeeds) {
  const std::string body =
      StrCat(Part("jfr", "jfr", "JFR\ndata", "\n"), Part("labels", "labels", "L", "\n"), "--XyZ--");
  auto form = ParseMultipart(kType, body);
  ASSERT_TRUE(form.ok()) << form.status();
  EXPECT_EQ(form->Find("jfr")->body, "JFR\ndata");
  EXPECT_EQ(form->Find("labels")->body, "L");
}

TEST(MultipartTest, BrokenBodies) {
  struct Case {
    std::string body;
    const char* want;
  };
  for (const Case& c : std::vector<Case>{
           {"", "no boundary delimiter"},
           {"hello world", "no boundary delimiter"},
           {"--XyZ\r\nContent-Disposition: form-data; name=\"a\"", "unterminated part headers"},
           {"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\ndata", "not terminated"},
           {"--XyZ\r\nno colon here\r\n\r\nx\r\n--XyZ--", "malformed part header"},
           {"--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--XyZ--",
            "unterminated quoted"},
       }) {
    auto form = ParseMultipart(kType, c.body);
    ASSERT_FALSE(form.ok()) << c.body;
    EXPECT_EQ(form.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(form.status().message().find(c.want), absl::string_view::npos)
        << c.body << " → " << form.status();
  }
  EXPECT_FALSE(ParseMultipart("multipart/form-data", "--XyZ--").ok());
}

TEST(MultipartTest, TruncatedAtEveryByte) {
  const std::string body = StrCat(Part("profile", "p", "abcdef"), "--XyZ--");
  for (size_t n = 0; n + 2 < body.size(); ++n) {
    EXPECT_FALSE(ParseMultipart(kType, body.substr(0, n)).ok()) << n;
  }
}

TEST(MultipartTest, Limits) {
  std::string body;
  for (int i = 0; i < 5; ++i) body += Part(StrCat("p", i), "", "x");
  body += "--XyZ--";
  MultipartLimits limits;
  limits.max_parts = 4;
  EXPECT_FALSE(ParseMultipart(kType, body, limits).ok());
  limits.max_parts = 5;
  EXPECT_TRUE(ParseMultipart(kType, body, limits).ok());
}

TEST(SampleTypeConfigTest, Parses) {
  auto c = ParseSampleTypeConfig(
      R"({"contentions":{"units":"lock_samples","display-name":"block_count","extra":1},
          "inuse_space":{"units":"bytes","aggregation":"average","cumulative":false,"sampled":true},
          "gone":null})");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->size(), 2u);
  EXPECT_EQ(c->at("contentions").display_name, "block_count");
  EXPECT_EQ(c->at("contentions").units, "lock_samples");
  EXPECT_EQ(c->at("inuse_space").aggregation, "average");
  EXPECT_TRUE(c->at("inuse_space").sampled);
  EXPECT_EQ(DefaultSampleTypeConfig().at("samples").display_name, "cpu");
  EXPECT_EQ(DefaultSampleTypeConfig().at("delay").display_name, "mutex_duration");
}

TEST(SampleTypeConfigTest, Errors) {
  for (const char* bad : {"{", "[]", R"({"a":1})", R"({"a":{"units":3}})",
                          R"({"a":{"sampled":"yes"}})", R"({"a":{"aggregation":"max"}})"}) {
    auto c = ParseSampleTypeConfig(bad);
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(c.status().message().substr(0, 19), "sample_type_config:");
  }
}

TEST(SampleTypeConfigTest, Testdata) {
  EMBERS_REQUIRE_TESTDATA(dir);
  for (const char* f :
       {"dotnet_hyphen_types", "req_2_goroutine", "req_3_mutex", "req_4_mutex", "req_5_heap"}) {
    auto c = ParseSampleTypeConfig(
        testing::ReadFileOrDie(StrCat(dir, "/ingest-multipart/", f, ".sample_type_config.json")));
    ASSERT_TRUE(c.ok()) << f << ": " << c.status();
    EXPECT_FALSE(c->empty());
  }
  auto c = ParseSampleTypeConfig(
      testing::ReadFileOrDie(StrCat(dir, "/ingest-multipart/req_3_mutex.sample_type_config.json")));
  EXPECT_EQ(c->at("delay").display_name, "block_duration");
}

TEST(MultipartTest, TestdataRoundTrip) {
  EMBERS_REQUIRE_TESTDATA(dir);
  const std::string pprof = testing::ReadFileOrDie(dir + "/ingest-multipart/req_2_goroutine.pprof");
  const std::string config =
      testing::ReadFileOrDie(dir + "/ingest-multipart/req_2_goroutine.sample_type_config.json");
  const std::string body =
      StrCat(Part("profile", "profile.pprof", pprof),
             Part("sample_type_config", "sample_type_config.json", config), "--XyZ--\r\n");
  auto form = ParseMultipart(kType, body);
  ASSERT_TRUE(form.ok()) << form.status();
  EXPECT_EQ(form->Find("profile")->body, pprof);
  auto c = ParseSampleTypeConfig(form->Find("sample_type_config")->body);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->at("goroutine").display_name, "goroutines");
}

}  // namespace
}  // namespace embers::ingest
