#include "objstore/azure/azurite_process.h"

#include <sys/stat.h>

#include <cerrno>
#include <utility>

#include "base/strings.h"
#include "objstore/azure/shared_key.h"

namespace embers::objstore::azure {

using ::embers::objstore::http::HttpClient;
using ::embers::objstore::http::HttpResponse;
using ::embers::objstore::http::NodeServerProcess;

absl::StatusOr<std::unique_ptr<AzuriteProcess>> AzuriteProcess::Start(
    const std::string& dir, const std::string& container) {
  const std::string data_dir = dir + "/azurite-data";
  if (::mkdir(data_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return absl::InternalError(StrCat("mkdir ", data_dir, " failed"));
  }
  const std::string script =
      StrCat(EMBERS_SOURCE_DIR, "/tests/node/node_modules/azurite/dist/src/blob/main.js");
  http::NodeServerSpec spec{
      .name = "azurite",
      .script = script,
      .log_path = dir + "/azurite.log",
      .install_hint =
          "run scripts/install-deps.sh --test (it installs node and the npm packages "
          "of tests/node, azurite among them)",
      .args =
          [&](int port) {
            return std::vector<std::string>{script,       "--blobHost", "127.0.0.1",
                                            "--blobPort", StrCat(port), "--location",
                                            data_dir,     "--silent",   "--disableTelemetry"};
          },
      // Any answer (an unsigned request is refused) means the server is up.
      .answers =
          [](HttpClient& client, int port) {
            return client
                .Send({.url = StrCat("http://127.0.0.1:", port, "/", kAccountName, "?comp=list")})
                .ok();
          },
  };
  absl::StatusOr<std::unique_ptr<NodeServerProcess>> process = NodeServerProcess::Start(spec);
  if (!process.ok()) return process.status();
  const std::string endpoint = StrCat("127.0.0.1:", (*process)->port());
  auto azurite = std::unique_ptr<AzuriteProcess>(new AzuriteProcess(*std::move(process), endpoint));
  if (absl::Status created = azurite->CreateBucket(container); !created.ok()) return created;
  return azurite;
}

AzuriteProcess::~AzuriteProcess() = default;

std::string AzuriteProcess::endpoint_url() const {
  return StrCat("http://", endpoint_, "/", kAccountName);
}

absl::Status AzuriteProcess::CreateBucket(const std::string& container) const {
  absl::StatusOr<std::unique_ptr<HttpClient>> http = NodeServerProcess::FixtureClient();
  if (!http.ok()) return http.status();
  const std::string path = StrCat("/", kAccountName, "/", container);
  http::HttpRequest request{.method = "PUT",
                            .url = StrCat("http://", endpoint_, path, "?restype=container"),
                            .headers = {{"x-ms-date", AzureDate(absl::Now())},
                                        {"x-ms-version", std::string(kAzureApiVersion)}}};
  SharedKeyRequest to_sign{.method = "PUT",
                           .encoded_path = path,
                           .query = {{"restype", "container"}},
                           .headers = request.headers};
  absl::StatusOr<std::string> key = DecodeAccountKey(kAccountKey);
  if (!key.ok()) return key.status();
  request.headers.emplace_back("Authorization",
                               SharedKeyAuthorization(to_sign, kAccountName, *key));
  absl::StatusOr<HttpResponse> r = (*http)->Send(request);
  if (!r.ok()) return r.status();
  if (r->status != 201) {
    return absl::InternalError(
        StrCat("creating container ", container, " on azurite: HTTP ", r->status, " ", r->body));
  }
  return absl::OkStatus();
}

AzureBucketOptions AzuriteProcess::BucketOptions(const std::string& container) const {
  AzureBucketOptions options;
  options.account_name = kAccountName;
  options.account_key = kAccountKey;
  options.container = container;
  options.endpoint_url = endpoint_url();
  return options;
}

}  // namespace embers::objstore::azure
