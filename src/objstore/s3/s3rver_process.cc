#include "objstore/s3/s3rver_process.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>
#include <vector>

#include "base/strings.h"

namespace embers::objstore::s3 {

using ::embers::objstore::http::HttpClient;
using ::embers::objstore::http::HttpResponse;
using ::embers::objstore::http::NodeServerProcess;

absl::StatusOr<std::unique_ptr<S3rverProcess>> S3rverProcess::Start(const std::string& dir,
                                                                    const std::string& bucket,
                                                                    const Tls& tls) {
  const std::string data_dir = dir + "/s3rver-data";
  if (::mkdir(data_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return absl::InternalError(StrCat("mkdir ", data_dir, " failed"));
  }
  const bool https = !tls.cert_path.empty();
  // s3rver with S3's atomic overwrites and byte-ordered listings (see the script).
  const std::string script = StrCat(EMBERS_SOURCE_DIR, "/tests/node/s3rver_s3_semantics.cjs");
  http::NodeServerSpec spec{
      .name = "s3rver",
      .script = StrCat(EMBERS_SOURCE_DIR, "/tests/node/node_modules/s3rver/bin/s3rver.js"),
      .log_path = dir + "/s3rver.log",
      .install_hint =
          "run scripts/install-deps.sh --test (it installs node and the npm packages "
          "of tests/node, s3rver among them)",
      .args =
          [&](int port) {
            std::vector<std::string> args = {"--openssl-legacy-provider",
                                             script,
                                             "-d",
                                             data_dir,
                                             "-a",
                                             "127.0.0.1",
                                             "-p",
                                             StrCat(port),
                                             "--service-endpoint",
                                             "localhost",
                                             "--configure-bucket",
                                             bucket,
                                             "--silent"};
            if (https) args.insert(args.end(), {"--cert", tls.cert_path, "--key", tls.key_path});
            return args;
          },
      // The bucket's listing: 200 once the server is up and the bucket configured.
      .answers =
          [&](HttpClient& client, int port) {
            absl::StatusOr<HttpResponse> r =
                client.Send({.url = StrCat(https ? "https://" : "http://", "127.0.0.1:", port, "/",
                                           bucket, "?list-type=2&max-keys=1")});
            return r.ok() && r->status == 200;
          },
  };
  absl::StatusOr<std::unique_ptr<NodeServerProcess>> process = NodeServerProcess::Start(spec);
  if (!process.ok()) return process.status();
  const std::string endpoint = StrCat("127.0.0.1:", (*process)->port());
  return std::unique_ptr<S3rverProcess>(new S3rverProcess(*std::move(process), endpoint, https));
}

S3rverProcess::~S3rverProcess() = default;

std::string S3rverProcess::vhost_endpoint() const {
  return StrCat("s3.localhost", endpoint_.substr(endpoint_.rfind(':')));
}

absl::Status S3rverProcess::CreateBucket(const std::string& bucket) const {
  absl::StatusOr<std::unique_ptr<HttpClient>> http = NodeServerProcess::FixtureClient();
  if (!http.ok()) return http.status();
  absl::StatusOr<HttpResponse> r = (*http)->Send(
      {.method = "PUT", .url = StrCat(tls_ ? "https://" : "http://", endpoint_, "/", bucket)});
  if (!r.ok()) return r.status();
  if (r->status != 200) {
    return absl::InternalError(
        StrCat("creating bucket ", bucket, " on s3rver: HTTP ", r->status, " ", r->body));
  }
  return absl::OkStatus();
}

S3BucketOptions S3rverProcess::BucketOptions(const std::string& bucket) const {
  S3BucketOptions options;
  options.endpoint = endpoint_;
  options.bucket = bucket;
  options.credentials = {.access_key_id = kAccessKeyId, .secret_access_key = kSecretAccessKey};
  options.insecure = !tls_;
  options.force_path_style = true;
  return options;
}

}  // namespace embers::objstore::s3
