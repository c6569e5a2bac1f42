// Distributor: the entry of the write path (DESIGN §2). Every ingest API — push.v1 Push, /ingest,
// OTLP — turns its request into IngestProfiles and calls Push. The distributor validates and
// normalises each profile, splits it into series (one per sample type and sample-label set),
// applies the tenant's rate limit, places each series on a segment-writer shard and completes the
// call once every shard it used has made the data durable.
#ifndef EMBERS_DISTRIBUTOR_DISTRIBUTOR_H_
#define EMBERS_DISTRIBUTOR_DISTRIBUTOR_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "base/call_context.h"
#include "distributor/placement_rules_table.h"
#include "ingest/ingest_profile.h"
#include "model/labels.h"
#include "pprof/normalize.h"
#include "pprof/profile.h"

namespace embers::segmentwriter {
class SegmentWriterClient;
}

namespace embers::distributor {

using ingest::IngestProfile;

struct DistributorOptions {
  // Pyroscope's -distributor.ingestion-rate-limit-mb / -burst-size-mb (per tenant, MB/s of
  // uncompressed profiles). 0 disables the limit.
  double ingestion_rate_limit_mb = 4;
  double ingestion_burst_size_mb = 2;
  // Shards of the (single) segment-writer ring: segment-writers × tokens each.
  uint32_t shards = 4;
  pprof::NormalizeOptions normalize;
  model::LabelLimits label_limits;
  // Uncompressed bytes of pushes accepted but not yet acknowledged, across tenants. Beyond it
  // new pushes get 429 instead of piling up in memory while storage is slow (0 disables).
  int64_t max_inflight_bytes = 256ll << 20;
  // -validation.reject-older-than / -reject-newer-than; zero disables the check.
  absl::Duration reject_older_than = absl::Hours(1);
  absl::Duration reject_newer_than = absl::Minutes(10);
  // A tenant that has not pushed for this long is forgotten: its rate-limiter bucket and its
  // per-tenant metric series go, so that the state and /metrics stay bounded by the tenants
  // active within this window rather than every tenant ever seen (at least 1 minute).
  absl::Duration tenant_idle_timeout = absl::Minutes(15);
  // The clock (tests advance it instead of sleeping).
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

class Distributor {
 public:
  // `writer` (not owned) stores each shard's profiles: the in-process segment-writer or remote
  // ones (segmentwriter/segment_writer_client.h).
  Distributor(DistributorOptions options, segmentwriter::SegmentWriterClient* writer);
  ~Distributor();
  Distributor(const Distributor&) = delete;
  Distributor& operator=(const Distributor&) = delete;

  // Errors: InvalidArgument (400) for invalid profiles or labels, ResourceExhausted (429) when the
  // tenant is over its rate limit, Unavailable (503) when storing failed (clients retry).
  void Push(const CallContext& ctx, std::vector<IngestProfile> profiles, UnaryDone done);

  // The placement rules of adaptive placement (how many shards each service spreads over), as
  // the cluster view last brought them; pushes use the rules in force when they arrive.
  void SetPlacementRules(std::shared_ptr<const PlacementRulesTable> rules);

  // The checks that need no decoded profile, for the ingest APIs to run before decoding a body:
  // ResourceExhausted (429) when the tenant has no rate-limit budget left at all or the
  // in-flight bound is already reached, so an over-limit client costs no decompression or
  // parsing. Push() still applies the exact checks afterwards.
  absl::Status Admit(const std::string& tenant);

 private:
  class RateLimiter;
  // Records that `tenant` pushes now, and forgets the tenants idle past tenant_idle_timeout.
  void TouchTenant(const std::string& tenant, absl::Time now);

  DistributorOptions options_;
  segmentwriter::SegmentWriterClient* writer_;
  mutable std::mutex rules_mu_;
  std::shared_ptr<const PlacementRulesTable> rules_ =
      std::make_shared<PlacementRulesTable>();  // guarded by rules_mu_
  std::unique_ptr<RateLimiter> limiter_;
  std::shared_ptr<std::atomic<int64_t>> inflight_bytes_ = std::make_shared<std::atomic<int64_t>>(0);
  std::mutex tenants_mu_;
  absl::flat_hash_map<std::string, absl::Time> tenant_last_push_;  // guarded by tenants_mu_
  absl::Time last_sweep_ = absl::InfinitePast();                   // guarded by tenants_mu_

 public:
  // Tenants seen within tenant_idle_timeout (for tests and /metrics).
  size_t active_tenants();
};

}  // namespace embers::distributor

#endif  // EMBERS_DISTRIBUTOR_DISTRIBUTOR_H_
