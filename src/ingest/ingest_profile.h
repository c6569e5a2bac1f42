// IngestProfile: what every ingest API hands to the distributor — one decoded profile and the
// series labels the client sent with it.
//
// Produced by the adapters in src/ingest (push.v1 Push, /ingest in all its formats, OTLP) and
// consumed by distributor::Distributor::Push, which adds `unknown_service` when service_name is
// missing, validates, normalises and splits it into series.
#ifndef EMBERS_INGEST_INGEST_PROFILE_H_
#define EMBERS_INGEST_INGEST_PROFILE_H_

#include <cstdint>

#include "model/labels.h"
#include "model/profile_id.h"
#include "pprof/profile.h"

namespace embers::ingest {

struct IngestProfile {
  // `__name__`, `service_name` and user labels.
  model::Labels labels;
  pprof::Profile profile;
  // Uncompressed size of what the client sent, for the rate limit and metrics.
  int64_t received_bytes = 0;
  // push.v1 RawSample.ID when it is a UUID (zero otherwise, and for the other ingest APIs).
  model::ProfileId profile_id;
};

}  // namespace embers::ingest

#endif  // EMBERS_INGEST_INGEST_PROFILE_H_
