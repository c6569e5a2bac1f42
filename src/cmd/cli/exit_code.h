// Exit codes of embers-cli, one per kind of failure, so scripts and monitors can tell a bad
// command line from an unreachable server from a check that found something wrong. docs/cli.md
// lists them.
#ifndef EMBERS_CMD_CLI_EXIT_CODE_H_
#define EMBERS_CMD_CLI_EXIT_CODE_H_

#include <string_view>

#include "absl/status/status.h"

namespace embers::cli {

enum ExitCode : int {
  kExitOk = 0,
  // The server or the bucket refused or failed the request (any other error).
  kExitFailure = 1,
  // A bad command line: unknown flag, bad time range, bad selector, unreadable input file.
  kExitUsage = 2,
  // The server (or metastore, or bucket) could not be reached or timed out.
  kExitUnavailable = 3,
  // Credentials refused (401/403).
  kExitUnauthorized = 4,
  // A check failed: `bucket verify` found problems, `canary` did not read back its profile,
  // `upload` had files rejected.
  kExitCheckFailed = 5,
};

// The exit code for an error that ended a command.
ExitCode ExitCodeFor(const absl::Status& status);

// The error a command returns when the check it ran failed (kExitCheckFailed). Its code is
// DataLoss, which the CLI uses for nothing else.
absl::Status CheckFailedError(std::string_view message);

}  // namespace embers::cli

#endif  // EMBERS_CMD_CLI_EXIT_CODE_H_
