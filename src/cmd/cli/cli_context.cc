#include "cmd/cli/cli_context.h"

#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <system_error>

#include "absl/strings/str_split.h"
#include "base/status.h"
#include "base/strings.h"
#include "metastore/client/metastore_client.h"

namespace embers::cli {
namespace {

// The host of an http(s):// URL, for the default metastore address.
std::string UrlHost(std::string_view url) {
  size_t start = url.find("://");
  start = start == std::string_view::npos ? 0 : start + 3;
  std::string_view rest = url.substr(start);
  rest = rest.substr(0, rest.find('/'));
  if (!rest.empty() && rest.front() == '[') return std::string(rest.substr(0, rest.find(']') + 1));
  return std::string(rest.substr(0, rest.find(':')));
}

}  // namespace

CliContext::CliContext() = default;
CliContext::~CliContext() = default;

absl::StatusOr<EmbersApi*> CliContext::Api(int max_in_flight) {
  if (api_ == nullptr) {
    EmbersApiOptions o;
    o.url = options_.url;
    o.tenant_id = options_.tenant_id;
    o.username = options_.username;
    o.password = options_.password;
    o.bearer_token = options_.bearer_token;
    o.timeout = options_.timeout;
    o.max_connections = max_in_flight;
    EMBERS_ASSIGN_OR_RETURN(api_, EmbersApi::Create(std::move(o)));
  }
  return api_.get();
}

std::vector<std::string> CliContext::MetastoreAddresses() const {
  std::string addresses = options_.metastore_address;
  if (addresses.empty()) addresses = StrCat(UrlHost(options_.url), ":9096");
  return metastore::MetastoreClient::ParseAddresses(addresses);
}

absl::Status CliContext::MetastoreError(const absl::Status& status, std::string_view hint) const {
  // base/cluster_secret.h reports a refused secret as Internal, naming the secret: an operator's
  // mistake between two servers. Here it is the user's flag.
  if (absl::IsInternal(status) &&
      ToStd(status.message()).find("cluster secret") != std::string_view::npos) {
    return absl::UnauthenticatedError(
        StrCat("the metastore refused the cluster secret: pass the cluster's "
               "-server.cluster-secret as --cluster-secret (or EMBERS_CLUSTER_SECRET)"));
  }
  if (!absl::IsUnavailable(status) && !absl::IsDeadlineExceeded(status)) return status;
  return absl::Status(
      status.code(),
      StrCat("no metastore answered at ",
             options_.metastore_address.empty() ? "the --url host, port 9096"
                                                : options_.metastore_address,
             " (set --metastore-address to the internal gRPC address of a metastore node, and "
             "--cluster-secret if the cluster has one",
             hint, "): ", status.message()));
}

absl::StatusOr<metastore::MetastoreClient*> CliContext::Metastore() {
  if (metastore_ == nullptr) {
    metastore::MetastoreClientOptions o;
    o.addresses = MetastoreAddresses();
    if (o.addresses.empty()) {
      return absl::InvalidArgumentError("--metastore-address names no address");
    }
    o.call_timeout = options_.timeout;
    o.cluster_secret = options_.cluster_secret;
    EMBERS_ASSIGN_OR_RETURN(metastore_, metastore::MetastoreClient::Create(std::move(o)));
  }
  return metastore_.get();
}

absl::StatusOr<objstore::Bucket*> CliContext::Bucket() {
  if (bucket_ == nullptr) {
    // Opening a filesystem bucket creates its directory: a read-only tool pointed at the wrong
    // place must say so instead of reporting an empty bucket.
    std::error_code ec;
    if (options_.bucket.backend == "filesystem" &&
        !std::filesystem::is_directory(options_.bucket.filesystem_dir, ec)) {
      return absl::InvalidArgumentError(StrCat("no filesystem bucket at ",
                                               options_.bucket.filesystem_dir,
                                               " (set --storage.filesystem.dir)"));
    }
    absl::StatusOr<std::unique_ptr<objstore::Bucket>> bucket =
        objstore::OpenBucket(options_.bucket);
    if (!bucket.ok()) return Annotate(bucket.status(), "opening the bucket");
    bucket_ = std::move(*bucket);
  }
  return bucket_.get();
}

void CliContext::Print(const Table& table) const { table.Render(options_.output, std::cout); }

void CliContext::Print(const std::vector<TableSection>& sections) const {
  RenderSections(sections, options_.output, std::cout);
}

bool CliContext::InteractiveProgress() const { return isatty(STDERR_FILENO) == 1; }

}  // namespace embers::cli
