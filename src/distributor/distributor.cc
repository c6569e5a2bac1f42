#include "distributor/distributor.h"

#include <atomic>
#include <map>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "base/logging.h"
#include "base/metrics.h"
#include "base/strings.h"
#include "distributor/placement.h"
#include "pprof/split.h"
#include "segmentwriter/segment_writer_client.h"

namespace embers::distributor {
namespace {

struct Metrics {
  metrics::CounterFamily& received_bytes = metrics::Registry::Global().Counter(
      "embers_distributor_received_bytes_total",
      "Uncompressed bytes of profiles received, by tenant.", {"tenant"});
  metrics::CounterFamily& profiles = metrics::Registry::Global().Counter(
      "embers_distributor_profiles_total", "Profiles accepted, by tenant.", {"tenant"});
  metrics::CounterFamily& series = metrics::Registry::Global().Counter(
      "embers_distributor_series_profiles_total",
      "Per-series profiles sent to segment-writers (one per sample type and label set).");
  metrics::CounterFamily& rejected = metrics::Registry::Global().Counter(
      "embers_distributor_rejected_profiles_total", "Profiles rejected, by reason.", {"reason"});
};

Metrics& M() {
  static Metrics m;
  return m;
}

// Completes the caller once every shard it used has answered; the first error wins.
class FanIn {
 public:
  FanIn(size_t pending, UnaryDone done) : pending_(pending), done_(std::move(done)) {}
  void Complete(absl::Status st) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!st.ok() && first_error_.ok()) first_error_ = std::move(st);
      if (--pending_ > 0) return;
    }
    done_(first_error_);
  }

 private:
  std::mutex mu_;
  size_t pending_;
  absl::Status first_error_;
  UnaryDone done_;
};

}  // namespace

// A token bucket per tenant on uncompressed bytes (Pyroscope's ingestion rate limit).
class Distributor::RateLimiter {
 public:
  RateLimiter(double rate_bytes_per_s, double burst_bytes)
      : rate_(rate_bytes_per_s), burst_(burst_bytes) {}
  bool Allow(const std::string& tenant, double bytes, absl::Time now) {
    if (rate_ <= 0) return true;
    std::lock_guard<std::mutex> lock(mu_);
    Bucket& b = buckets_[tenant];
    if (b.last == absl::InfinitePast())
      b.tokens = burst_;
    else
      b.tokens = std::min(burst_, b.tokens + rate_ * absl::ToDoubleSeconds(now - b.last));
    b.last = now;
    // A single request larger than the burst is allowed when the bucket is full, as Pyroscope's
    // limiter does for its burst check; otherwise large profiles could never be sent.
    if (b.tokens >= bytes || b.tokens >= burst_) {
      b.tokens -= bytes;
      return true;
    }
    return false;
  }
  // Whether the tenant has any budget now (a bucket never seen is full).
  bool HasBudget(const std::string& tenant, absl::Time now) {
    if (rate_ <= 0) return true;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = buckets_.find(tenant);
    if (it == buckets_.end()) return true;
    const Bucket& b = it->second;
    return b.tokens + rate_ * absl::ToDoubleSeconds(now - b.last) > 0;
  }
  void Forget(const std::string& tenant) {
    std::lock_guard<std::mutex> lock(mu_);
    buckets_.erase(tenant);
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return buckets_.size();
  }

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time last = absl::InfinitePast();
  };
  double rate_, burst_;
  std::mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_;
};

Distributor::Distributor(DistributorOptions options, segmentwriter::SegmentWriterClient* writer)
    : options_(std::move(options)),
      writer_(writer),
      limiter_(std::make_unique<RateLimiter>(options_.ingestion_rate_limit_mb * 1e6,
                                             options_.ingestion_burst_size_mb * 1e6)) {}

Distributor::~Distributor() = default;

void Distributor::TouchTenant(const std::string& tenant, absl::Time now) {
  const absl::Duration idle = std::max(options_.tenant_idle_timeout, absl::Minutes(1));
  std::vector<std::string> forgotten;
  {
    std::lock_guard<std::mutex> lock(tenants_mu_);
    tenant_last_push_[tenant] = now;
    // A sweep every quarter of the timeout keeps the cost off most pushes; a tenant is forgotten
    // between 1 and 1.25 timeouts after its last push.
    if (now - last_sweep_ < idle / 4) return;
    last_sweep_ = now;
    for (auto it = tenant_last_push_.begin(); it != tenant_last_push_.end();) {
      if (now - it->second > idle) {
        forgotten.push_back(it->first);
        tenant_last_push_.erase(it++);
      } else {
        ++it;
      }
    }
  }
  // A push of these tenants updates their series within this call, long before they could be
  // idle, so no caller holds a reference to the series removed here.
  for (const std::string& t : forgotten) {
    limiter_->Forget(t);
    M().received_bytes.Remove({t});
    M().profiles.Remove({t});
  }
  if (!forgotten.empty()) {
    log::Debug("forgot idle tenants", {{"tenants", static_cast<int64_t>(forgotten.size())}});
  }
}

size_t Distributor::active_tenants() {
  std::lock_guard<std::mutex> lock(tenants_mu_);
  return tenant_last_push_.size();
}

absl::Status Distributor::Admit(const std::string& tenant) {
  if (!limiter_->HasBudget(tenant, options_.now())) {
    M().rejected.WithLabels({"rate_limited"}).Inc();
    return absl::ResourceExhaustedError(
        StrCat("tenant ", tenant, " is over its ingestion rate limit of ",
               options_.ingestion_rate_limit_mb, " MB/s (burst ", options_.ingestion_burst_size_mb,
               " MB); retry later"));
  }
  if (options_.max_inflight_bytes > 0 && inflight_bytes_->load() >= options_.max_inflight_bytes) {
    M().rejected.WithLabels({"overloaded"}).Inc();
    return absl::ResourceExhaustedError(
        StrCat("ingestion is overloaded: more than ", options_.max_inflight_bytes,
               " bytes of pushes are waiting to be stored; retry later"));
  }
  return absl::OkStatus();
}

void Distributor::Push(const CallContext& ctx, std::vector<IngestProfile> profiles,
                       UnaryDone done) {
  const std::string& tenant = ctx.tenant;
  double bytes = 0;
  for (const auto& p : profiles) bytes += static_cast<double>(p.received_bytes);
  const absl::Time now = options_.now();
  TouchTenant(tenant, now);
  if (!limiter_->Allow(tenant, bytes, now)) {
    M().rejected.WithLabels({"rate_limited"}).Inc(static_cast<double>(profiles.size()));
    done(absl::ResourceExhaustedError(
        StrCat("tenant ", tenant, " is over its ingestion rate limit of ",
               options_.ingestion_rate_limit_mb, " MB/s (burst ", options_.ingestion_burst_size_mb,
               " MB); retry later")));
    return;
  }
  const int64_t held = static_cast<int64_t>(bytes);
  if (options_.max_inflight_bytes > 0 &&
      inflight_bytes_->fetch_add(held) + held > options_.max_inflight_bytes) {
    inflight_bytes_->fetch_sub(held);
    M().rejected.WithLabels({"overloaded"}).Inc(static_cast<double>(profiles.size()));
    done(absl::ResourceExhaustedError(
        StrCat("ingestion is overloaded: more than ", options_.max_inflight_bytes,
               " bytes of pushes are waiting to be stored; retry later")));
    return;
  }
  if (options_.max_inflight_bytes <= 0) inflight_bytes_->fetch_add(held);
  // Releases the in-flight bytes whichever way the push completes.
  done = [inflight = inflight_bytes_, held, done = std::move(done)](absl::Status st) {
    inflight->fetch_sub(held);
    done(std::move(st));
  };
  M().received_bytes.WithLabels({tenant}).Inc(bytes);

  const uint32_t writer_shards = writer_->shard_count();
  const uint32_t shards = writer_shards > 0 ? writer_shards : options_.shards;
  Placement placement({.shards = shards});
  std::shared_ptr<const PlacementRulesTable> rules;
  {
    std::lock_guard<std::mutex> lock(rules_mu_);
    rules = rules_;
  }
  std::map<uint32_t, std::vector<segmentwriter::ProfileToWrite>> by_shard;
  size_t series_count = 0;
  model::LabelLimits label_limits = options_.label_limits;
  label_limits.allow_utf8_names = ctx.allow_utf8_label_names;
  for (size_t i = 0; i < profiles.size(); ++i) {
    IngestProfile& in = profiles[i];
    auto reject = [&](std::string_view reason, const absl::Status& st) {
      M().rejected.WithLabels({reason}).Inc();
      done(profiles.size() == 1
               ? st
               : absl::Status(st.code(), StrCat("profile ", i, ": ", st.message())));
    };
    if (in.labels.Get(model::kLabelServiceName).empty()) {
      in.labels.Set(model::kLabelServiceName, model::kServiceNameFallback);
    }
    if (absl::Status st = model::ValidateLabels(in.labels.labels(), label_limits); !st.ok()) {
      return reject("invalid_labels", st);
    }
    pprof::NormalizeOptions normalize = options_.normalize;
    normalize.now_nanos = absl::ToUnixNanos(now);
    if (absl::Status st = pprof::Normalize(&in.profile, normalize); !st.ok()) {
      return reject("invalid_profile", st);
    }
    const absl::Time ts = absl::FromUnixNanos(in.profile.time_nanos);
    if (options_.reject_older_than > absl::ZeroDuration() &&
        ts < now - options_.reject_older_than) {
      return reject("too_old", absl::InvalidArgumentError(StrCat(
                                   "profile timestamp ", absl::FormatTime(ts), " is older than ",
                                   absl::FormatDuration(options_.reject_older_than))));
    }
    if (options_.reject_newer_than > absl::ZeroDuration() &&
        ts > now + options_.reject_newer_than) {
      return reject("too_new",
                    absl::InvalidArgumentError(StrCat("profile timestamp ", absl::FormatTime(ts),
                                                      " is too far in the future")));
    }
    const std::string service(in.labels.Get(model::kLabelServiceName));
    absl::StatusOr<std::vector<pprof::SeriesProfile>> series =
        pprof::SplitBySeries(std::move(in.profile), in.labels);
    if (!series.ok()) return reject("invalid_profile", series.status());
    for (pprof::SeriesProfile& sp : *series) {
      if (sp.samples.samples.empty()) continue;
      segmentwriter::ProfileToWrite w;
      w.service = service;
      w.timestamp_ms = sp.samples.time_nanos / 1000000;
      w.duration_ns = sp.samples.duration_nanos;
      w.span_ids = std::move(sp.span_ids);
      w.trace_ids = std::move(sp.trace_ids);
      w.profile_id = in.profile_id;
      uint32_t shard = placement.Shard(tenant, service, sp.fingerprint,
                                       rules->DatasetShards(tenant, service), shards);
      w.series = std::move(sp.labels);
      w.profile = std::move(sp.samples);
      w.symbols = std::move(sp.symbols);
      by_shard[shard].push_back(std::move(w));
      ++series_count;
    }
  }
  M().profiles.WithLabels({tenant}).Inc(static_cast<double>(profiles.size()));
  M().series.WithLabels({}).Inc(static_cast<double>(series_count));
  if (by_shard.empty()) {  // every sample was empty: nothing to store, nothing lost
    done(absl::OkStatus());
    return;
  }
  auto fan_in = std::make_shared<FanIn>(by_shard.size(), std::move(done));
  for (auto& [shard, items] : by_shard) {
    writer_->Push(tenant, shard, std::move(items),
                  [fan_in](absl::Status st) { fan_in->Complete(std::move(st)); });
  }
}

void Distributor::SetPlacementRules(std::shared_ptr<const PlacementRulesTable> rules) {
  std::lock_guard<std::mutex> lock(rules_mu_);
  rules_ = std::move(rules);
}

}  // namespace embers::distributor
