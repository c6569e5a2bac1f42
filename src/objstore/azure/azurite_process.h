// AzuriteProcess: Microsoft's Azure Storage emulator (the npm package azurite, pinned in
// tests/node/package.json), its blob service on a free loopback port with its data in a test's
// temporary directory, started and killed by the test that needs it. Test-only; used by the Azure
// instantiation of the bucket conformance suite and by azure_bucket_test.cpp.
//
// Unlike s3rver, azurite checks Shared Key signatures (with the emulator's well-known account and
// key), so a request signed wrong fails here as it would on Azure. It runs with telemetry off.
#ifndef EMBERS_OBJSTORE_AZURE_AZURITE_PROCESS_H_
#define EMBERS_OBJSTORE_AZURE_AZURITE_PROCESS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "objstore/azure/azure_bucket.h"
#include "objstore/http/node_server_process.h"

namespace embers::objstore::azure {

class AzuriteProcess {
 public:
  // The emulator's well-known development account and its published key.
  static constexpr const char* kAccountName = "devstoreaccount1";
  static constexpr const char* kAccountKey =
      "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

  // Starts azurite-blob storing its data under `dir` (which must exist), with an empty container
  // `container`, and waits until it answers. FailedPrecondition, saying to run
  // scripts/install-deps.sh --test, when node or azurite is not installed.
  static absl::StatusOr<std::unique_ptr<AzuriteProcess>> Start(const std::string& dir,
                                                               const std::string& container);
  // Stops the server (SIGTERM, then SIGKILL).
  ~AzuriteProcess();
  AzuriteProcess(const AzuriteProcess&) = delete;
  AzuriteProcess& operator=(const AzuriteProcess&) = delete;

  // "127.0.0.1:<port>"
  const std::string& endpoint() const { return endpoint_; }
  // "http://127.0.0.1:<port>/devstoreaccount1": the account's blob endpoint, path style.
  std::string endpoint_url() const;
  // Creates another empty container, the bucket of Azure (3 to 63 characters: lower-case letters,
  // digits, '-').
  absl::Status CreateBucket(const std::string& container) const;
  // Options for an AzureBucket on `container` of this server (path style, the dev account).
  AzureBucketOptions BucketOptions(const std::string& container) const;

 private:
  AzuriteProcess(std::unique_ptr<http::NodeServerProcess> process, std::string endpoint)
      : process_(std::move(process)), endpoint_(std::move(endpoint)) {}

  std::unique_ptr<http::NodeServerProcess> process_;
  std::string endpoint_;
};

}  // namespace embers::objstore::azure

#endif  // EMBERS_OBJSTORE_AZURE_AZURITE_PROCESS_H_
