// The output of the bucket commands as titled tables (cli::TableSection), which CliContext::Print
// renders per --output: headed text tables, one JSON object keyed by title, or CSV blocks.
#ifndef EMBERS_CMD_CLI_BUCKET_BUCKET_REPORT_TABLES_H_
#define EMBERS_CMD_CLI_BUCKET_BUCKET_REPORT_TABLES_H_

#include <vector>

#include "cmd/cli/bucket/bucket_verifier.h"
#include "cmd/cli/bucket/object_inspection.h"
#include "cmd/cli/table_output.h"

namespace embers::cli {

// "object" (the footer, one row) and "datasets" (one row each).
std::vector<TableSection> InspectionSections(const ObjectInspection& inspection);

// "summary" (one row: objects, bytes, seconds, MB/s, whether the index was compared and how many
// blocks it holds, a count per kind of finding)
// and "findings" (kind, key, detail; by kind then key).
std::vector<TableSection> VerifySections(const VerifyReport& report);

}  // namespace embers::cli

#endif  // EMBERS_CMD_CLI_BUCKET_BUCKET_REPORT_TABLES_H_
