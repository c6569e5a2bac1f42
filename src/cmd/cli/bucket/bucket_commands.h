// `embers-cli bucket …`: the bucket itself, read directly (the storage.* options name it) — no
// server needed, except the metastore for verify's comparison with the index.
//
//   bucket inspect KEY|FILE   what one object holds (footer, datasets, sections, symbols)
//   bucket verify             every object's checksums; orphans and missing objects vs the index
//
// The logic lives in the library beside (object_inspection.h, bucket_verifier.h); this file is
// the CLI11 glue: options, help text, progress and output.
#ifndef EMBERS_CMD_CLI_BUCKET_BUCKET_COMMANDS_H_
#define EMBERS_CMD_CLI_BUCKET_BUCKET_COMMANDS_H_

#include "cmd/cli/cli_context.h"

namespace CLI {
class App;
}

namespace embers::cli {

// Adds `bucket` with its `inspect` and `verify` subcommands to `root`.
void RegisterBucketCommands(CLI::App& root, CliContext& context);

}  // namespace embers::cli

#endif  // EMBERS_CMD_CLI_BUCKET_BUCKET_COMMANDS_H_
