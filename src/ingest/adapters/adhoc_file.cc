#include "ingest/adapters/adhoc_file.h"

#include "base/status.h"
#include "base/strings.h"
#include "ingest/adapters/pprof_builder.h"
#include "ingest/legacy/flamebearer_profile.h"
#include "ingest/legacy/folded.h"
#include "ingest/legacy/perf_script.h"
#include "pprof/decoder.h"

namespace embers::ingest {
namespace {

// What a line-format file may make a parser build: scaled to the size limit, as the /ingest
// parsers are.
ParseLimits LimitsFor(size_t max_bytes) {
  ParseLimits limits;
  if (max_bytes > 0) limits.max_total_frames = std::max<size_t>(max_bytes, 1 << 20);
  return limits;
}

absl::StatusOr<pprof::Profile> StacksToPprof(const StackSamples& stacks,
                                             std::string_view sample_type,
                                             std::string_view sample_unit) {
  PprofBuilder b;
  b.AddSampleType(sample_type, sample_unit);
  EMBERS_RETURN_IF_ERROR(AddStackSamples(stacks, 1, &b));
  return b.Finish();
}

absl::StatusOr<pprof::Profile> Decode(AdHocFormat format, std::string_view bytes,
                                      size_t max_bytes) {
  switch (format) {
    case AdHocFormat::kPprof:
      return pprof::Decode(bytes, {.max_decompressed_size = max_bytes});
    case AdHocFormat::kJson: {
      EMBERS_ASSIGN_OR_RETURN(FlamebearerProfile fb,
                              ParseFlamebearerProfile(bytes, LimitsFor(max_bytes)));
      // The document's units are flamebearer's ("samples" for CPU, "objects" for counts); what
      // it names is the sample type.
      return StacksToPprof(fb.stacks, fb.name.empty() ? "samples" : fb.name,
                           fb.units == "samples" || fb.units == "objects" ? "count" : fb.units);
    }
    case AdHocFormat::kCollapsed: {
      EMBERS_ASSIGN_OR_RETURN(StackSamples stacks, ParseFolded(bytes, LimitsFor(max_bytes)));
      return StacksToPprof(stacks, "samples", "count");
    }
    case AdHocFormat::kPerfScript: {
      EMBERS_ASSIGN_OR_RETURN(StackSamples stacks, ParsePerfScript(bytes, LimitsFor(max_bytes)));
      return StacksToPprof(stacks, "samples", "count");
    }
  }
  return absl::InternalError("unknown ad hoc format");
}

}  // namespace

std::string_view AdHocFormatName(AdHocFormat format) {
  switch (format) {
    case AdHocFormat::kPprof:
      return "pprof";
    case AdHocFormat::kJson:
      return "json";
    case AdHocFormat::kCollapsed:
      return "collapsed";
    case AdHocFormat::kPerfScript:
      return "perf_script";
  }
  return "unknown";
}

absl::StatusOr<AdHocFormat> DetectAdHocFormat(std::string_view name, std::string_view bytes) {
  const size_t dot = name.rfind('.');
  const std::string_view ext = dot == std::string_view::npos ? "" : name.substr(dot + 1);
  for (AdHocFormat f : {AdHocFormat::kPprof, AdHocFormat::kJson, AdHocFormat::kCollapsed,
                        AdHocFormat::kPerfScript}) {
    if (ext == AdHocFormatName(f)) return f;
  }
  if (ext == "txt") return IsPerfScript(bytes) ? AdHocFormat::kPerfScript : AdHocFormat::kCollapsed;
  if (bytes.size() < 2) return absl::InvalidArgumentError("profile is too short");
  if (bytes[0] == '{') return AdHocFormat::kJson;
  if (bytes[0] == '\x1f' && bytes[1] == '\x8b') return AdHocFormat::kPprof;
  for (size_t i = 0; i < bytes.size() && i < 100; ++i) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    // Go's unicode.IsPrint/IsSpace on a single byte: printable ASCII, whitespace, or Latin-1
    // letters and signs (0xA1 and up but the soft hyphen; 0x85 and 0xA0 are spaces).
    const bool print = (c >= 0x20 && c < 0x7f) || (c >= 0xa1 && c != 0xad);
    const bool space = (c >= '\t' && c <= '\r') || c == 0x85 || c == 0xa0;
    if (!print && !space) return AdHocFormat::kPprof;
  }
  if (IsPerfScript(bytes)) return AdHocFormat::kPerfScript;
  return AdHocFormat::kCollapsed;
}

absl::StatusOr<pprof::Profile> DecodeAdHocFile(std::string_view name, std::string_view bytes,
                                               size_t max_bytes) {
  EMBERS_ASSIGN_OR_RETURN(const AdHocFormat format, DetectAdHocFormat(name, bytes));
  if (format != AdHocFormat::kPprof && max_bytes > 0 && bytes.size() > max_bytes) {
    return PayloadTooLargeError(
        StrCat("profile of ", bytes.size(), " bytes exceeds the limit of ", max_bytes, " bytes"));
  }
  absl::StatusOr<pprof::Profile> profile = Decode(format, bytes, max_bytes);
  if (!profile.ok()) {
    return Annotate(profile.status(),
                    StrCat("the profile was detected as ", AdHocFormatName(format)));
  }
  return profile;
}

}  // namespace embers::ingest
