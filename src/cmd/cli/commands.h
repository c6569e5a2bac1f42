// The command groups of embers-cli. Each function adds its subcommands (with their options, help
// text and callback) to the root CLI::App; main.cc calls them in order, which is the order
// `embers-cli --help` lists them in. The bucket group lives in bucket/bucket_commands.h.
#ifndef EMBERS_CMD_CLI_COMMANDS_H_
#define EMBERS_CMD_CLI_COMMANDS_H_

#include "cmd/cli/cli_context.h"

namespace CLI {
class App;
}

namespace embers::cli {

// upload FILE|DIR…  (upload_command.cc)
void RegisterUploadCommand(CLI::App& root, CliContext& context);
// query merge|top|series|diff, labels, label-values, profile-types  (query_commands.cc)
void RegisterQueryCommands(CLI::App& root, CliContext& context);
// admin status|blocks ls|compaction status  (admin_commands.cc)
void RegisterAdminCommands(CLI::App& root, CliContext& context);
// canary  (canary_command.cc)
void RegisterCanaryCommand(CLI::App& root, CliContext& context);

}  // namespace embers::cli

#endif  // EMBERS_CMD_CLI_COMMANDS_H_
