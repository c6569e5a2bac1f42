// The files `embers-cli upload` sends: which files a list of paths names (directories walked
// recursively, hidden entries skipped), and each file's format, told from its bytes as Pyroscope's
// converters tell them (a gzip stream is looked into) so a directory of mixed profiles needs no
// flags. Each format maps to a `format=` of POST /ingest, which every embers HTTP port accepts.
#ifndef EMBERS_CMD_CLI_UPLOAD_SOURCE_H_
#define EMBERS_CMD_CLI_UPLOAD_SOURCE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace embers::cli {

enum class UploadFormat { kPprof, kFolded, kJfr, kSpeedscope };

// The /ingest `format=` value.
std::string_view UploadFormatName(UploadFormat format);
// --format: pprof, folded (or collapsed), jfr, speedscope; InvalidArgument otherwise.
absl::StatusOr<UploadFormat> ParseUploadFormat(std::string_view name);
// The format of a file called `name` holding `bytes`: JFR by its magic ("FLR\0", also inside
// gzip), speedscope JSON by its schema, pprof by gzip or binary bytes, folded stacks when the
// text's first line ends in a count. InvalidArgument naming what was found otherwise.
absl::StatusOr<UploadFormat> DetectUploadFormat(std::string_view name, std::string_view bytes);

struct UploadFile {
  std::string path;
  uint64_t size = 0;
};

// The regular files `paths` name, in order, directories expanded (sorted, recursively, skipping
// names that start with '.'). InvalidArgument for a path that does not exist or cannot be read.
absl::StatusOr<std::vector<UploadFile>> CollectUploadFiles(const std::vector<std::string>& paths);

// The /ingest `name=` value: "service{k=v,…}" (Pyroscope's application name with labels).
// InvalidArgument for an empty service or a label not written k=v.
absl::StatusOr<std::string> IngestApplicationName(std::string_view service,
                                                  const std::vector<std::string>& labels);

}  // namespace embers::cli

#endif  // EMBERS_CMD_CLI_UPLOAD_SOURCE_H_
