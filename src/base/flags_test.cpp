#include "base/flags.h"

#include <gtest/gtest.h>

namespace embers {
namespace {

struct Settings {
  int port = 4040;
  std::string dir = "./data";
  std::string secret_key;
  bool multitenancy = false;
  absl::Duration period = absl::Milliseconds(500);
  std::vector<std::string> targets = {"all"};
};

void Register(FlagSet& fs, Settings& s) {
  fs.Int("server.http-listen-port", &s.port, "HTTP port");
  fs.String("storage.filesystem.dir", &s.dir, "bucket dir");
  fs.String("storage.s3.secret-access-key", &s.secret_key, "secret",
            {.yaml_path = "", .secret = true});
  fs.Bool("auth.multitenancy-enabled", &s.multitenancy, "tenancy",
          {.yaml_path = "multitenancy_enabled"});
  fs.Duration("segment-writer.segment-duration", &s.period, "flush period");
  fs.StringList("target", &s.targets, "modules");
}

TEST(FlagSet, ParsesAllSpellings) {
  FlagSet fs;
  Settings s;
  Register(fs, s);
  const char* argv[] = {"embers",
                        "-server.http-listen-port=8080",
                        "--storage.filesystem.dir",
                        "/tmp/x",
                        "-auth.multitenancy-enabled",
                        "-segment-writer.segment-duration=1m30s",
                        "-target=distributor,segment-writer"};
  ASSERT_TRUE(fs.Parse(7, argv).ok());
  EXPECT_EQ(s.port, 8080);
  EXPECT_EQ(s.dir, "/tmp/x");
  EXPECT_TRUE(s.multitenancy);
  EXPECT_EQ(s.period, absl::Seconds(90));
  EXPECT_EQ(s.targets, (std::vector<std::string>{"distributor", "segment-writer"}));
}

TEST(FlagSet, RejectsUnknownFlagsAndBadValues) {
  FlagSet fs;
  Settings s;
  Register(fs, s);
  const char* unknown[] = {"embers", "-no.such-flag=1"};
  EXPECT_EQ(fs.Parse(2, unknown).code(), absl::StatusCode::kInvalidArgument);
  const char* bad[] = {"embers", "-server.http-listen-port=abc"};
  absl::Status st = fs.Parse(2, bad);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("server.http-listen-port"), std::string_view::npos);
}

TEST(FlagSet, YamlAppliesAndUnknownKeysFail) {
  FlagSet fs;
  Settings s;
  Register(fs, s);
  ASSERT_TRUE(fs.ApplyYaml("server:\n  http_listen_port: 9000\nmultitenancy_enabled: true\n"
                           "target: [metastore]\n")
                  .ok());
  EXPECT_EQ(s.port, 9000);
  EXPECT_TRUE(s.multitenancy);
  EXPECT_EQ(s.targets, std::vector<std::string>{"metastore"});
  EXPECT_FALSE(fs.ApplyYaml("server:\n  no_such: 1\n").ok());
  EXPECT_FALSE(fs.ApplyYaml("server: [unbalanced\n").ok());
}

TEST(FlagSet, EffectiveYamlMasksSecrets) {
  FlagSet fs;
  Settings s;
  Register(fs, s);
  s.secret_key = "hunter2";
  std::string y = fs.EffectiveYaml();
  EXPECT_EQ(y.find("hunter2"), std::string::npos);
  EXPECT_NE(y.find("secret_access_key: \"********\""), std::string::npos) << y;
  EXPECT_NE(y.find("http_listen_port: 4040"), std::string::npos) << y;
  // What /config prints must load back as configuration.
  FlagSet again;
  Settings s2;
  Register(again, s2);
  EXPECT_TRUE(again.ApplyYaml(y).ok());
}

TEST(FlagSet, DefaultAndDiffViews) {
  FlagSet fs;
  Settings s;
  Register(fs, s);
  ASSERT_TRUE(fs.ApplyYaml("server:\n  http_listen_port: 9000\n").ok());
  std::string defaults = fs.Yaml(FlagSet::YamlView::kDefaults);
  EXPECT_NE(defaults.find("http_listen_port: 4040"), std::string::npos) << defaults;
  std::string diff = fs.Yaml(FlagSet::YamlView::kDiff);
  EXPECT_NE(diff.find("http_listen_port: 9000"), std::string::npos) << diff;
  EXPECT_EQ(diff.find("multitenancy_enabled"), std::string::npos) << diff;
  // A changed secret shows in the diff, masked.
  s.secret_key = "hunter2";
  diff = fs.Yaml(FlagSet::YamlView::kDiff);
  EXPECT_EQ(diff.find("hunter2"), std::string::npos);
  EXPECT_NE(diff.find("secret_access_key: \"********\""), std::string::npos) << diff;
  // With nothing changed the diff is an empty document that still loads.
  FlagSet untouched;
  Settings s2;
  Register(untouched, s2);
  std::string empty = untouched.Yaml(FlagSet::YamlView::kDiff);
  EXPECT_EQ(empty, "{}\n");
  EXPECT_TRUE(untouched.ApplyYaml(empty).ok());
}

TEST(GoDuration, Units) {
  absl::Duration d;
  ASSERT_TRUE(ParseGoDuration("31d", &d).ok());
  EXPECT_EQ(d, absl::Hours(24 * 31));
  ASSERT_TRUE(ParseGoDuration("1h2m3.5s", &d).ok());
  EXPECT_EQ(d, absl::Hours(1) + absl::Minutes(2) + absl::Milliseconds(3500));
  EXPECT_FALSE(ParseGoDuration("5 parsecs", &d).ok());
  EXPECT_FALSE(ParseGoDuration("", &d).ok());
}

}  // namespace
}  // namespace embers
