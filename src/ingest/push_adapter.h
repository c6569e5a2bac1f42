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
// ResourceExhausted/413 when one is larger than `options.max_decompressed_size`, or when all of
// them together decompress to more than `max_total_bytes` (0: no such bound). Every decoded
// profile of a push is held until the push is stored, so without the aggregate bound one small
// request of many compressed profiles could inflate to many times the per-profile limit; each
// profile is decoded with at most the budget left, so a bomb stops where the budget ends.
absl::StatusOr<std::vector<IngestProfile>> ConvertPushRequest(const push::v1::PushRequest& request,
                                                              const pprof::DecodeOptions& options,
                                                              size_t max_total_bytes = 0);

}  // namespace embers::ingest

#endif  // EMBERS_INGEST_PUSH_ADAPTER_H_
