// Parsers for the two line-oriented /ingest formats.
//
//   format=groups (the default; a.k.a. "folded" or "collapsed"): one stack per line,
//     "frame1;frame2;...;leaf <count>", root first; the LAST space separates the count, so frame
//     names may contain spaces. Lines without a space are skipped, as Pyroscope does.
//   format=lines: one stack per line, each line is one sample (the same stack may repeat).
//
// Both accept "\n" or "\r\n" line ends and skip empty lines. Used by the /ingest handler; the
// result feeds the text-format → pprof conversion (see stack_samples.h).
#ifndef EMBERS_INGEST_LEGACY_FOLDED_H_
#define EMBERS_INGEST_LEGACY_FOLDED_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "ingest/legacy/stack_samples.h"

namespace embers::ingest {

// Errors: 422 (InvalidArgument) naming the line for a count that is not a non-negative integer;
// 413 when a ParseLimits bound is exceeded.
absl::StatusOr<StackSamples> ParseFolded(std::string_view body,
                                         const ParseLimits& limits = ParseLimits());

absl::StatusOr<StackSamples> ParseLines(std::string_view body,
                                        const ParseLimits& limits = ParseLimits());

}  // namespace embers::ingest

#endif  // EMBERS_INGEST_LEGACY_FOLDED_H_
