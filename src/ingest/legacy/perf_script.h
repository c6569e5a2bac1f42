// The text `perf script` prints for perf record samples, as a profile: one sample per event.
//
// An event is a header line that starts at column 0 ("comm pid[/tid] ... "), then its stack, one
// frame per line, leaf first ("  addr symbol (module)"), then an empty line. Each event counts 1
// on the stack root-first: the command name, then the frames from the outermost inward — as
// Pyroscope's converter (og/convert/perf) reads it. Used by adhocprofiles.v1 uploads
// (ingest/adapters/adhoc_file.h), which tell the format from the file name or its first line.
#ifndef EMBERS_INGEST_LEGACY_PERF_SCRIPT_H_
#define EMBERS_INGEST_LEGACY_PERF_SCRIPT_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "ingest/legacy/stack_samples.h"

namespace embers::ingest {

// Whether the first line of `text` is an event header and another line follows.
bool IsPerfScript(std::string_view text);

// Errors: 422 naming the line that is neither a header where one is due nor a stack frame; 413 when
// a ParseLimits bound is exceeded. The last event may end at the end of the text.
absl::StatusOr<StackSamples> ParsePerfScript(std::string_view text,
                                             const ParseLimits& limits = ParseLimits());

}  // namespace embers::ingest

#endif  // EMBERS_INGEST_LEGACY_PERF_SCRIPT_H_
