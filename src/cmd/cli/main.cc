// embers-cli: upload profiles, query, export and administer an embers server from a terminal
// (issue 17; docs/cli.md). One dispatch table of command groups (commands.h); global options on
// the root; every error ends as one line on stderr and an exit code from exit_code.h.
#include <signal.h>

#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "absl/time/time.h"
#include "base/open_files_limit.h"
#include "base/strings.h"
#include "cmd/cli/bucket/bucket_commands.h"
#include "cmd/cli/cli_context.h"
#include "cmd/cli/commands.h"
#include "cmd/cli/exit_code.h"

namespace {

using embers::cli::CliContext;

void RegisterGlobalOptions(CLI::App& app, CliContext& context, std::string* timeout,
                           std::string* output) {
  auto& o = context.options();
  app.add_option("--url", o.url, "base URL of the embers HTTP port")
      ->envname("EMBERS_URL")
      ->capture_default_str();
  app.add_option("--tenant-id", o.tenant_id, "tenant (X-Scope-OrgID); empty: none")
      ->envname("EMBERS_TENANT_ID");
  app.add_option("--username", o.username, "HTTP basic auth user")->envname("EMBERS_USERNAME");
  app.add_option("--password", o.password, "HTTP basic auth password")->envname("EMBERS_PASSWORD");
  app.add_option("--bearer-token", o.bearer_token, "bearer token (an embers API token)")
      ->envname("EMBERS_BEARER_TOKEN");
  app.add_option("--output,-o", *output, "output format: table, json or csv")
      ->check(CLI::IsMember({"table", "json", "csv"}))
      ->capture_default_str();
  app.add_option("--timeout", *timeout, "deadline of one request, retries included (e.g. 30s)")
      ->capture_default_str();
  app.add_option("--metastore-address", o.metastore_address,
                 "internal gRPC address(es) of metastore nodes, host:port,… (admin and bucket "
                 "verify); default: the --url host, port 9096")
      ->envname("EMBERS_METASTORE_ADDRESS");
  app.add_option("--cluster-secret", o.cluster_secret,
                 "the cluster's -server.cluster-secret, for the internal gRPC port")
      ->envname("EMBERS_CLUSTER_SECRET");
  app.add_flag("--quiet,-q", o.quiet, "no progress output");

  // The bucket of the `bucket` commands, with the server's storage.* option names.
  auto& b = o.bucket;
  const char* kStorage = "Storage (bucket commands)";
  app.add_option("--storage.backend", b.backend, "filesystem, s3 or azure")
      ->group(kStorage)
      ->capture_default_str();
  app.add_option("--storage.filesystem.dir", b.filesystem_dir, "filesystem bucket directory")
      ->group(kStorage)
      ->capture_default_str();
  app.add_option("--storage.prefix", b.prefix, "key prefix inside the bucket")->group(kStorage);
  app.add_option("--storage.s3.endpoint", b.s3.endpoint, "S3 host[:port]")->group(kStorage);
  app.add_option("--storage.s3.bucket-name", b.s3.bucket_name, "S3 bucket")->group(kStorage);
  app.add_option("--storage.s3.region", b.s3.region, "S3 region")->group(kStorage);
  app.add_option("--storage.s3.access-key-id", b.s3.access_key_id, "S3 access key id")
      ->group(kStorage);
  app.add_option("--storage.s3.secret-access-key", b.s3.secret_access_key, "S3 secret key")
      ->group(kStorage);
  app.add_flag("--storage.s3.insecure", b.s3.insecure, "http:// instead of https://")
      ->group(kStorage);
  app.add_option("--storage.s3.bucket-lookup-type", b.s3.bucket_lookup_type,
                 "auto, virtual-hosted or path")
      ->group(kStorage);
  app.add_option("--storage.azure.account-name", b.azure.account_name, "Azure account")
      ->group(kStorage);
  app.add_option("--storage.azure.account-key", b.azure.account_key, "Azure account key")
      ->group(kStorage);
  app.add_option("--storage.azure.connection-string", b.azure.connection_string,
                 "Azure connection string")
      ->group(kStorage);
  app.add_option("--storage.azure.container-name", b.azure.container_name, "Azure container")
      ->group(kStorage);
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "embers-cli: %s\n", std::string(status.message()).c_str());
  return embers::cli::ExitCodeFor(status);
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  // `upload` keeps one connection per file in flight (up to 2,048).
  embers::RaiseOpenFilesLimit();
  CliContext context;
  CLI::App app{
      "embers-cli: upload profiles to, query, export from and administer an embers server.",
      "embers-cli"};
  app.set_version_flag("--version", "embers-cli " EMBERS_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand
  std::string timeout = "60s";
  std::string output = "table";
  RegisterGlobalOptions(app, context, &timeout, &output);

  // The dispatch table: one entry per command group.
  using Register = void (*)(CLI::App&, CliContext&);
  constexpr Register kCommandGroups[] = {
      embers::cli::RegisterUploadCommand, embers::cli::RegisterQueryCommands,
      embers::cli::RegisterAdminCommands, embers::cli::RegisterBucketCommands,
      embers::cli::RegisterCanaryCommand,
  };
  for (Register add : kCommandGroups) add(app, context);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "embers-cli: %s (run with --help for usage)\n", e.what());
    return embers::cli::kExitUsage;
  }
  absl::Duration d;
  if (!absl::ParseDuration(timeout, &d) || d <= absl::ZeroDuration()) {
    return Fail(absl::InvalidArgumentError(
        embers::StrCat("--timeout \"", timeout, "\" is not a duration like 30s")));
  }
  context.options().timeout = d;
  context.options().output = *embers::cli::ParseOutputFormat(output);
  if (!context.command()) return Fail(absl::InvalidArgumentError("no command given (see --help)"));
  absl::Status status;
  try {
    status = context.command()();
  } catch (const std::exception& e) {
    // Nothing in the commands throws on purpose; a library that does must not crash the CLI.
    status = absl::InternalError(embers::StrCat("unexpected error: ", e.what()));
  }
  if (!status.ok()) return Fail(status);
  return embers::cli::kExitOk;
}
