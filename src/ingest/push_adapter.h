// The push.v1 Push API (Connect and gRPC) as IngestProfiles: each RawSample of each series is a
// pprof (gzip, zstd or raw) decoded with the series' labels. Used by the distributor's Push
// handlers in src/server.
#ifndef EMBERS_INGEST_PUSH_ADAPTER_H_
#define EMBERS_INGEST_PUSH_ADAPTER_H_

#include <vector>

#include "absl/status/statusor.h"
#include "ingest/ingest_profile.h"
#include "pprof/decoder.h"
#include "push/v1/push.pb.h"

namespace embers::ingest {

// InvalidArgument (naming the series and sample) for a profile that does not decode;
// ResourceExhausted/413 when one is larger than `options.max_decompressed_size`.
absl::StatusOr<std::vector<IngestProfile>> ConvertPushRequest(const push::v1::PushRequest& request,
                                                              const pprof::DecodeOptions& options);

}  // namespace embers::ingest

#endif  // EMBERS_INGEST_PUSH_ADAPTER_H_
