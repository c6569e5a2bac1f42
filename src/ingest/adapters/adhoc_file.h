// AdHocFile: a profile file a user uploads to adhocprofiles.v1, decoded to pprof whatever its
// format.
//
// Upstream accepts pprof, flamebearer JSON, collapsed (folded) stacks and `perf script` output,
// and tells them apart as its converter does (og/structs/flamebearer/convert): by the file name's
// extension (.pprof, .json, .collapsed, .perf_script; .txt is perf script when its first line is
// an event header, else collapsed), else by the bytes — '{' starts JSON, gzip or any unprintable
// byte among the first 100 is pprof, a perf script header, and anything else collapsed. The
// adhocprofiles service (server/adhoc_profiles_service.h) renders the result one sample type at a
// time. Collapsed and perf script files have one sample type, "samples" (count); upstream names
// it after the file, which would keep two such files from being compared in a diff.
#ifndef EMBERS_INGEST_ADAPTERS_ADHOC_FILE_H_
#define EMBERS_INGEST_ADAPTERS_ADHOC_FILE_H_

#include <cstddef>
#include <string_view>

#include "absl/status/statusor.h"
#include "pprof/profile.h"

namespace embers::ingest {

enum class AdHocFormat { kPprof, kJson, kCollapsed, kPerfScript };

std::string_view AdHocFormatName(AdHocFormat format);
// The format of a file named `name` holding `bytes`; InvalidArgument when it is too short to tell.
absl::StatusOr<AdHocFormat> DetectAdHocFormat(std::string_view name, std::string_view bytes);

// Decodes the file. `max_bytes` bounds the decoded (decompressed) size as
// -validation.max-profile-size-bytes bounds pushes. Errors name the detected format; malformed
// files are InvalidArgument (400/422), oversized ones ResourceExhausted (413).
absl::StatusOr<pprof::Profile> DecodeAdHocFile(std::string_view name, std::string_view bytes,
                                               size_t max_bytes);

}  // namespace embers::ingest

#endif  // EMBERS_INGEST_ADAPTERS_ADHOC_FILE_H_
