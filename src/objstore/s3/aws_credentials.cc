#include "objstore/s3/aws_credentials.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "base/strings.h"

namespace embers::objstore::s3 {
namespace {

// "AK…" with the rest hidden: enough to tell keys apart in an error, not enough to use one.
std::string Redacted(std::string_view key_id) {
  return StrCat(key_id.substr(0, 4), key_id.size() > 4 ? "…" : "");
}

absl::Status PairError(std::string_view where, std::string_view have, std::string_view missing) {
  return absl::InvalidArgumentError(
      StrCat("S3 credentials from ", where, ": ", have, " is set but ", missing, " is not"));
}

}  // namespace

absl::StatusOr<SigV4Credentials> ParseAwsSharedCredentials(std::string_view text,
                                                           std::string_view profile) {
  SigV4Credentials out;
  bool in_profile = false;
  bool found = false;
  for (std::string_view line : Split(text, '\n')) {
    line = StripWhitespace(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      const size_t close = line.find(']');
      in_profile =
          close != std::string_view::npos && StripWhitespace(line.substr(1, close - 1)) == profile;
      found |= in_profile;
      continue;
    }
    if (!in_profile) continue;
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view name = StripWhitespace(line.substr(0, eq));
    const std::string value(StripWhitespace(line.substr(eq + 1)));
    if (name == "aws_access_key_id") out.access_key_id = value;
    if (name == "aws_secret_access_key") out.secret_access_key = value;
    if (name == "aws_session_token") out.session_token = value;
  }
  if (!found) return absl::NotFoundError(StrCat("no profile [", profile, "]"));
  if (out.access_key_id.empty() || out.secret_access_key.empty()) {
    return absl::InvalidArgumentError(
        StrCat("profile [", profile, "] needs aws_access_key_id and aws_secret_access_key"));
  }
  return out;
}

absl::StatusOr<ResolvedAwsCredentials> ResolveAwsCredentials(
    const std::string& flag_access_key_id, const std::string& flag_secret_access_key,
    const std::function<const char*(const char*)>& getenv) {
  auto env = [&getenv](const char* name) {
    const char* v = getenv(name);
    return std::string(v == nullptr ? "" : v);
  };
  if (!flag_access_key_id.empty() || !flag_secret_access_key.empty()) {
    if (flag_secret_access_key.empty()) {
      return PairError("flags", "-storage.s3.access-key-id", "-storage.s3.secret-access-key");
    }
    if (flag_access_key_id.empty()) {
      return PairError("flags", "-storage.s3.secret-access-key", "-storage.s3.access-key-id");
    }
    return ResolvedAwsCredentials{.credentials = {.access_key_id = flag_access_key_id,
                                                  .secret_access_key = flag_secret_access_key},
                                  .source = "flags"};
  }
  const std::string env_key = env("AWS_ACCESS_KEY_ID");
  const std::string env_secret = env("AWS_SECRET_ACCESS_KEY");
  if (!env_key.empty() || !env_secret.empty()) {
    if (env_secret.empty()) {
      return PairError("the environment", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY");
    }
    if (env_key.empty()) {
      return PairError("the environment", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID");
    }
    return ResolvedAwsCredentials{.credentials = {.access_key_id = env_key,
                                                  .secret_access_key = env_secret,
                                                  .session_token = env("AWS_SESSION_TOKEN")},
                                  .source = "environment"};
  }
  std::string path = env("AWS_SHARED_CREDENTIALS_FILE");
  const bool explicit_path = !path.empty();
  if (!explicit_path && !env("HOME").empty()) path = env("HOME") + "/.aws/credentials";
  std::string profile = env("AWS_PROFILE");
  if (profile.empty()) profile = "default";
  if (!path.empty()) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      // A file named on purpose must be there; the default location is only a maybe.
      if (explicit_path) {
        return absl::InvalidArgumentError(
            StrCat("S3 credentials: AWS_SHARED_CREDENTIALS_FILE ", path, " cannot be read"));
      }
    } else {
      std::stringstream text;
      text << in.rdbuf();
      absl::StatusOr<SigV4Credentials> parsed = ParseAwsSharedCredentials(text.str(), profile);
      // Without AWS_PROFILE a file without [default] just means "not from here".
      if (parsed.status().code() == absl::StatusCode::kNotFound && env("AWS_PROFILE").empty()) {
        return ResolvedAwsCredentials{.credentials = {}, .source = "none"};
      }
      if (!parsed.ok()) {
        return absl::InvalidArgumentError(StrCat("S3 credentials: shared credentials file ", path,
                                                 ": ", parsed.status().message()));
      }
      std::string source = StrCat("shared credentials file ", path, " (profile ", profile, ", key ",
                                  Redacted(parsed->access_key_id), ")");
      return ResolvedAwsCredentials{.credentials = *std::move(parsed), .source = std::move(source)};
    }
  }
  return ResolvedAwsCredentials{.credentials = {}, .source = "none"};
}

}  // namespace embers::objstore::s3
