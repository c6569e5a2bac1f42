// Where the S3 credentials come from: flags, then the environment, then the shared credentials
// file, as the AWS SDKs read them.

#include "objstore/s3/aws_credentials.h"

#include <fstream>
#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "objstore/test_temp_dir.h"

namespace embers::objstore::s3 {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kFile = R"(# written by `aws configure`
[default]
aws_access_key_id = AKIDEFAULT
aws_secret_access_key=secret/default+key

[profile-with-token]
; temporary credentials
aws_access_key_id=ASIATEMP
aws_secret_access_key = temp-secret
aws_session_token = FwoGZXIvYXdzE
region = eu-west-1

[incomplete]
aws_access_key_id = AKIONLY
)";

using Vars = std::map<std::string, std::string>;

class Env {
 public:
  explicit Env(Vars vars) : vars_(std::move(vars)) {}
  std::function<const char*(const char*)> Getter() const {
    return [this](const char* name) -> const char* {
      auto it = vars_.find(name);
      return it == vars_.end() ? nullptr : it->second.c_str();
    };
  }

 private:
  std::map<std::string, std::string> vars_;
};

TEST(AwsCredentialsTest, ParsesProfilesOfASharedCredentialsFile) {
  absl::StatusOr<SigV4Credentials> c = ParseAwsSharedCredentials(kFile, "default");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "AKIDEFAULT");
  EXPECT_EQ(c->secret_access_key, "secret/default+key");
  EXPECT_EQ(c->session_token, "");
  c = ParseAwsSharedCredentials(kFile, "profile-with-token");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "ASIATEMP");
  EXPECT_EQ(c->session_token, "FwoGZXIvYXdzE");
  EXPECT_EQ(ParseAwsSharedCredentials(kFile, "nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ParseAwsSharedCredentials(kFile, "incomplete").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseAwsSharedCredentials("", "default").status().code(), absl::StatusCode::kNotFound);
}

TEST(AwsCredentialsTest, FlagsThenEnvironmentThenSharedFile) {
  TempDir home;
  std::filesystem::create_directories(home.path() + "/.aws");
  std::ofstream(home.path() + "/.aws/credentials") << kFile;

  Env all(Vars{{"AWS_ACCESS_KEY_ID", "ENVKEY"},
               {"AWS_SECRET_ACCESS_KEY", "envsecret"},
               {"AWS_SESSION_TOKEN", "envtoken"},
               {"HOME", home.path()}});
  absl::StatusOr<ResolvedAwsCredentials> r =
      ResolveAwsCredentials("FLAGKEY", "flagsecret", all.Getter());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->source, "flags");
  EXPECT_EQ(r->credentials.access_key_id, "FLAGKEY");
  EXPECT_EQ(r->credentials.session_token, "");  // belongs to the environment's key only

  r = ResolveAwsCredentials("", "", all.Getter());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->source, "environment");
  EXPECT_EQ(r->credentials.access_key_id, "ENVKEY");
  EXPECT_EQ(r->credentials.session_token, "envtoken");

  Env file_only(Vars{{"HOME", home.path()}});
  r = ResolveAwsCredentials("", "", file_only.Getter());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->source, HasSubstr("shared credentials file"));
  EXPECT_THAT(r->source, HasSubstr("profile default"));
  EXPECT_THAT(r->source, ::testing::Not(HasSubstr("secret")));
  EXPECT_EQ(r->credentials.access_key_id, "AKIDEFAULT");

  Env profile(Vars{{"HOME", home.path()}, {"AWS_PROFILE", "profile-with-token"}});
  r = ResolveAwsCredentials("", "", profile.Getter());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->credentials.session_token, "FwoGZXIvYXdzE");

  Env nothing(Vars{{"HOME", home.path() + "/nowhere"}});
  r = ResolveAwsCredentials("", "", nothing.Getter());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->source, "none");
  EXPECT_TRUE(r->credentials.access_key_id.empty());
}

TEST(AwsCredentialsTest, HalfGivenCredentialsAreErrorsNotAnonymous) {
  Env none(Vars{});
  absl::StatusOr<ResolvedAwsCredentials> r = ResolveAwsCredentials("KEY", "", none.Getter());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("-storage.s3.secret-access-key"));
  Env half(Vars{{"AWS_ACCESS_KEY_ID", "K"}});
  r = ResolveAwsCredentials("", "", half.Getter());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("AWS_SECRET_ACCESS_KEY"));
  Env missing_file(Vars{{"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"}});
  r = ResolveAwsCredentials("", "", missing_file.Getter());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("/nonexistent/credentials"));
  TempDir home;
  std::filesystem::create_directories(home.path() + "/.aws");
  std::ofstream(home.path() + "/.aws/credentials") << kFile;
  Env wrong_profile(Vars{{"HOME", home.path()}, {"AWS_PROFILE", "nope"}});
  r = ResolveAwsCredentials("", "", wrong_profile.Getter());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("no profile [nope]"));
}

}  // namespace
}  // namespace embers::objstore::s3
