// CliContext: what every embers-cli subcommand shares — the global options (server URL, tenant,
// credentials, output format, metastore and bucket settings) and the clients built from them on
// first use. main.cc registers the options on the root CLI::App; each command file registers its
// subcommands with a Register*Commands(CLI::App&, CliContext&) function (one dispatch table:
// main.cc's list of those functions).
//
// Errors cross out of a command as absl::Status; main.cc prints one line on stderr and turns the
// code into the process's exit code (exit_code.h).
#ifndef EMBERS_CMD_CLI_CLI_CONTEXT_H_
#define EMBERS_CMD_CLI_CLI_CONTEXT_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cmd/cli/embers_api.h"
#include "cmd/cli/table_output.h"
#include "objstore/bucket.h"
#include "objstore/bucket_config.h"

namespace embers::metastore {
class MetastoreClient;
}

namespace embers::cli {

struct GlobalOptions {
  // Base URL of an embers HTTP port (all-in-one, distributor or query-frontend). EMBERS_URL.
  std::string url = "http://localhost:4040";
  // X-Scope-OrgID on every call; empty sends none (the server's anonymous tenant).
  // EMBERS_TENANT_ID.
  std::string tenant_id;
  // HTTP basic auth, or a bearer token (an API token); at most one of the two.
  std::string username;
  std::string password;
  std::string bearer_token;
  OutputFormat output = OutputFormat::kTable;
  // One HTTP request, retries included.
  absl::Duration timeout = absl::Seconds(60);
  // Internal gRPC addresses of metastore nodes (admin, bucket verify); empty: the --url host on
  // port 9096. EMBERS_METASTORE_ADDRESS.
  std::string metastore_address;
  // -server.cluster-secret of the cluster, for the internal gRPC port. EMBERS_CLUSTER_SECRET.
  std::string cluster_secret;
  // The bucket for `bucket` commands, with the server's option names (storage.*).
  // The default is the server's: `make run` keeps its bucket in ./data/bucket.
  objstore::BucketConfig bucket = {.backend = "filesystem", .filesystem_dir = "./data/bucket"};
  bool quiet = false;  // no progress output
};

class CliContext {
 public:
  CliContext();
  ~CliContext();
  CliContext(const CliContext&) = delete;
  CliContext& operator=(const CliContext&) = delete;

  GlobalOptions& options() { return options_; }
  const GlobalOptions& options() const { return options_; }

  // The client of the public HTTP API, built on first use from the options, with connections
  // for `max_in_flight` requests at once.
  absl::StatusOr<EmbersApi*> Api(int max_in_flight = 4);
  // --metastore-address as a list, or the --url host on port 9096.
  std::vector<std::string> MetastoreAddresses() const;
  // A metastore call's error as a CLI user should read it: an unreachable metastore names where
  // it was looked for (`hint` adds what else the command can do); a refused cluster secret says
  // to pass --cluster-secret (Unauthenticated).
  absl::Status MetastoreError(const absl::Status& status, std::string_view hint = "") const;
  // The metastore's internal gRPC services, built on first use.
  absl::StatusOr<metastore::MetastoreClient*> Metastore();
  // The bucket the options name, opened on first use.
  absl::StatusOr<objstore::Bucket*> Bucket();

  // Prints `table` on stdout in the chosen --output format.
  void Print(const Table& table) const;
  void Print(const std::vector<TableSection>& sections) const;

  // The command to run once the whole command line is parsed and checked. A subcommand's CLI11
  // callback chooses it: `sub->callback([&] { context.SetCommand([&] { return Run(...); }); })`;
  // main.cc runs it and turns its status into the exit code.
  void SetCommand(std::function<absl::Status()> command) { command_ = std::move(command); }
  const std::function<absl::Status()>& command() const { return command_; }

  // Whether progress bars may redraw in place (stderr is a terminal).
  bool InteractiveProgress() const;

 private:
  GlobalOptions options_;
  std::unique_ptr<EmbersApi> api_;
  std::unique_ptr<metastore::MetastoreClient> metastore_;
  std::unique_ptr<objstore::Bucket> bucket_;
  std::function<absl::Status()> command_;
};

}  // namespace embers::cli

#endif  // EMBERS_CMD_CLI_CLI_CONTEXT_H_
