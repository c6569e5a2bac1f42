// OTLP profiles (OpenTelemetry protocol `v1development`, the 1.8 layout with one dictionary
// shared by every profile of a request) → the profiles the distributor takes (reference §2.3;
// upstream pkg/ingester/otlp).
//
// Used by the HTTP route POST /v1development/profiles (through ParseOtlpHttpBody) and the gRPC
// ProfilesService/Export handler (which already has the message).
//
// Each OTel profile becomes one pprof profile per service: samples may carry a `service.name`
// attribute, and samples of different services go to different profiles. Per profile:
//   * one sample type (the profile's), the period type and period, time and duration (missing
//     ones become now and 10 s, as upstream);
//   * "samples:count" with period "cpu:nanoseconds" becomes "cpu:nanoseconds" (values × period,
//     __name__ process_cpu); "off_cpu:nanoseconds" without a period sums each sample's values
//     (__name__ off_cpu); any other type takes __name__ from the period type, as upstream does,
//     falling back to the sample type when there is no period type;
//   * locations keep their mapping and address (the eBPF profiler sends unsymbolised native
//     frames), and lines/functions when present; kernel frames (`profile.frame.type=kernel`) get
//     a copy of their mapping named "[kernel] <file>"; mapping build ids come from
//     `process.executable.build_id.gnu`;
//   * string sample attributes become pprof sample labels (the distributor lifts them into
//     series labels); a link adds span_id / trace_id labels.
// Series labels: __delta__=false, __otel__=true, __name__, the resource's and then the scope's
// string attributes (first occurrence of a key wins) and service_name = the samples' service,
// else the resource's service.name, else unknown_service[:<process.executable.name>].
//
// Errors are InvalidArgument (400) naming the broken reference.
#ifndef EMBERS_INGEST_ADAPTERS_OTLP_H_
#define EMBERS_INGEST_ADAPTERS_OTLP_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ingest/ingest_profile.h"
#include "opentelemetry/proto/collector/profiles/v1development/profiles_service.pb.h"

namespace embers::ingest {

using OtlpExportRequest =
    ::opentelemetry::proto::collector::profiles::v1development::ExportProfilesServiceRequest;

struct OtlpConvertOptions {
  // Used for profiles without a timestamp; 0 means the current time.
  int64_t now_nanos = 0;
};

absl::StatusOr<std::vector<IngestProfile>> ConvertOtlp(const OtlpExportRequest& request,
                                                       const OtlpConvertOptions& options = {});

// Parses an HTTP body by its Content-Type: application/x-protobuf or application/protobuf
// (binary) or application/json (protobuf JSON mapping; unknown fields are ignored). Other types
// are a 415; a body that does not parse is a 400.
absl::StatusOr<OtlpExportRequest> ParseOtlpHttpBody(std::string_view content_type,
                                                    std::string_view body);

}  // namespace embers::ingest

#endif  // EMBERS_INGEST_ADAPTERS_OTLP_H_
