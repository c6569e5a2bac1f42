#include "segmentwriter/remote_segment_writers.h"

#include <algorithm>
#include <limits>

#include "absl/time/clock.h"
#include "base/cluster_secret.h"
#include "base/logging.h"
#include "base/metrics.h"
#include "base/status.h"
#include "base/strings.h"
#include "model/tenant_id.h"
#include "pprof/decoder.h"
#include "pprof/encoder.h"
#include "segmentwriter/segment_writer.h"

namespace embers::segmentwriter {
namespace {

metrics::CounterFamily& Requests() {
  static auto& c = metrics::Registry::Global().Counter(
      "embers_distributor_segment_writer_requests_total",
      "Pushes sent to segment-writers, by writer address and outcome (ok, error, skipped: "
      "circuit breaker open).",
      {"writer", "outcome"});
  return c;
}

bool Retryable(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED ||
         code == grpc::StatusCode::RESOURCE_EXHAUSTED;
}

}  // namespace

swv1::PushRequest EncodePush(const std::string& tenant, uint32_t shard,
                             const std::vector<ProfileToWrite>& profiles) {
  swv1::PushRequest req;
  req.set_tenant_id(tenant);
  req.set_shard(shard);
  for (const ProfileToWrite& p : profiles) {
    swv1::SeriesProfile* out = req.add_profiles();
    out->set_service(p.service);
    for (const model::Label& l : p.series) {
      types::v1::LabelPair* pair = out->add_labels();
      pair->set_name(l.name);
      pair->set_value(l.value);
    }
    out->set_timestamp_ms(p.timestamp_ms);
    out->set_duration_ns(p.duration_ns);
    if (p.symbols == nullptr) {
      pprof::EncodeTo(p.profile, out->mutable_profile());
    } else {
      // The series' samples with the shared symbol tables of the profile it was split from.
      pprof::Profile standalone = *p.symbols;
      standalone.sample_types = p.profile.sample_types;
      standalone.samples = p.profile.samples;
      standalone.location_ids = p.profile.location_ids;
      standalone.values = p.profile.values;
      standalone.labels = p.profile.labels;
      pprof::EncodeTo(standalone, out->mutable_profile());
    }
    for (uint64_t id : p.span_ids) out->add_span_ids(id);
    for (model::TraceId id : p.trace_ids) {
      out->add_trace_ids(id.hi);
      out->add_trace_ids(id.lo);
    }
    out->set_profile_id_hi(p.profile_id.hi);
    out->set_profile_id_lo(p.profile_id.lo);
  }
  return req;
}

// The last millisecond whose nanoseconds fit in int64 (year 2262).
constexpr int64_t kMaxTimestampMs = std::numeric_limits<int64_t>::max() / 1'000'000;

absl::StatusOr<std::vector<ProfileToWrite>> DecodePush(const swv1::PushRequest& request) {
  // The caller is another component, but one that may be impersonated: every field is checked
  // as if it came from a client (the tenant names object keys; timestamps become nanoseconds).
  if (absl::Status st = model::ValidateTenantId(request.tenant_id()); !st.ok()) return st;
  std::vector<ProfileToWrite> out;
  out.reserve(static_cast<size_t>(request.profiles_size()));
  for (int i = 0; i < request.profiles_size(); ++i) {
    const swv1::SeriesProfile& in = request.profiles(i);
    ProfileToWrite p;
    p.service = in.service();
    std::vector<model::Label> labels;
    for (const auto& l : in.labels()) labels.push_back({l.name(), l.value()});
    p.series = model::Labels(std::move(labels));
    p.timestamp_ms = in.timestamp_ms();
    p.duration_ns = in.duration_ns();
    if (p.timestamp_ms < 0 || p.timestamp_ms > kMaxTimestampMs || p.duration_ns < 0) {
      return absl::InvalidArgumentError(StrCat("profile ", i, ": timestamp ", p.timestamp_ms,
                                               " ms or duration ", p.duration_ns,
                                               " ns out of range"));
    }
    if (in.service().empty()) {
      return absl::InvalidArgumentError(StrCat("profile ", i, ": service is empty"));
    }
    absl::StatusOr<pprof::Profile> profile =
        pprof::DecodeRaw(std::make_shared<const std::string>(in.profile()));
    if (!profile.ok()) {
      return absl::InvalidArgumentError(
          StrCat("profile ", i, ": ", ToStd(profile.status().message())));
    }
    if (profile->sample_types.size() != 1) {
      return absl::InvalidArgumentError(
          StrCat("profile ", i, " has ", profile->sample_types.size(), " sample types, want 1"));
    }
    p.profile = std::move(*profile);
    if (in.span_ids_size() != 0 &&
        static_cast<size_t>(in.span_ids_size()) != p.profile.samples.size()) {
      return absl::InvalidArgumentError(StrCat("profile ", i, ": span ids do not match samples"));
    }
    p.span_ids.assign(in.span_ids().begin(), in.span_ids().end());
    if (in.trace_ids_size() != 0 &&
        static_cast<size_t>(in.trace_ids_size()) != 2 * p.profile.samples.size()) {
      return absl::InvalidArgumentError(StrCat("profile ", i, ": trace ids do not match samples"));
    }
    p.trace_ids.resize(static_cast<size_t>(in.trace_ids_size()) / 2);
    for (size_t k = 0; k < p.trace_ids.size(); ++k) {
      p.trace_ids[k] = {in.trace_ids(static_cast<int>(2 * k)),
                        in.trace_ids(static_cast<int>(2 * k + 1))};
    }
    p.profile_id = {in.profile_id_hi(), in.profile_id_lo()};
    out.push_back(std::move(p));
  }
  return out;
}

absl::StatusOr<std::shared_ptr<RemoteSegmentWriters>> RemoteSegmentWriters::CreateDiscovered(
    RemoteSegmentWritersOptions options) {
  if (options.tokens_per_writer == 0) return absl::InvalidArgumentError("tokens must be > 0");
  return std::shared_ptr<RemoteSegmentWriters>(new RemoteSegmentWriters(options));
}

absl::StatusOr<std::shared_ptr<RemoteSegmentWriters>> RemoteSegmentWriters::Create(
    const std::vector<std::string>& addresses, RemoteSegmentWritersOptions options) {
  if (addresses.empty()) return absl::InvalidArgumentError("no segment-writer addresses");
  EMBERS_ASSIGN_OR_RETURN(std::shared_ptr<RemoteSegmentWriters> r, CreateDiscovered(options));
  std::vector<SegmentWriterEndpoint> writers;
  for (size_t i = 0; i < addresses.size(); ++i) {
    writers.push_back({.address = addresses[i], .slot = static_cast<uint32_t>(i)});
  }
  EMBERS_RETURN_IF_ERROR(r->SetWriters(std::move(writers)));
  return r;
}

absl::Status RemoteSegmentWriters::SetWriters(std::vector<SegmentWriterEndpoint> writers) {
  uint32_t slots = 0;
  for (const SegmentWriterEndpoint& w : writers) {
    if (w.address.empty()) return absl::InvalidArgumentError("empty segment-writer address");
    if (w.slot >= SegmentWriterOptions{}.max_shards) {
      return absl::InvalidArgumentError(StrCat("segment-writer slot ", w.slot, " out of range"));
    }
    slots = std::max(slots, w.slot + 1);
  }
  auto set = std::make_shared<WriterSet>();
  set->by_slot.resize(slots);
  std::vector<bool> taken(slots, false);
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, std::shared_ptr<Writer>> by_address;
  for (const SegmentWriterEndpoint& w : writers) {
    if (taken[w.slot]) {
      return absl::InvalidArgumentError(StrCat("two segment-writers in slot ", w.slot));
    }
    taken[w.slot] = true;
    std::shared_ptr<Writer>& writer = by_address[w.address];
    if (auto it = by_address_.find(w.address); it != by_address_.end()) writer = it->second;
    if (writer == nullptr) {
      grpc::ChannelArguments args;
      args.SetMaxSendMessageSize(static_cast<int>(options_.max_message_bytes));
      // A restarted writer is used again within ~100 ms-1 s, not gRPC's default of minutes.
      args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
      args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
      args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
      writer = std::make_shared<Writer>(
          Writer{.address = w.address,
                 .stub = swv1::SegmentWriterService::NewStub(grpc::CreateCustomChannel(
                     w.address,
                     options_.channel_credentials ? options_.channel_credentials
                                                  : grpc::InsecureChannelCredentials(),
                     args)),
                 .breaker = std::make_unique<CircuitBreaker>(options_.breaker)});
    }
    if (w.accepting) {
      set->by_slot[w.slot] = writer;
      set->accepting++;
    }
  }
  by_address_ = std::move(by_address);
  set_ = std::move(set);
  return absl::OkStatus();
}

std::shared_ptr<const RemoteSegmentWriters::WriterSet> RemoteSegmentWriters::writers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return set_;
}

uint32_t RemoteSegmentWriters::shard_count() const {
  return static_cast<uint32_t>(writers()->by_slot.size()) * options_.tokens_per_writer;
}

size_t RemoteSegmentWriters::accepting_writers() const { return writers()->accepting; }

std::vector<std::shared_ptr<RemoteSegmentWriters::Writer>> RemoteSegmentWriters::CandidatesIn(
    const WriterSet& set, uint32_t shard, uint32_t tokens, int max_attempts) {
  std::vector<std::shared_ptr<Writer>> out;
  const size_t n = set.by_slot.size();
  if (n == 0) return out;
  // A shard from a larger set (placement raced a change) still maps to some slot.
  const size_t owner = (shard / tokens) % n;
  for (size_t i = 0; i < n && static_cast<int>(out.size()) < max_attempts; ++i) {
    const std::shared_ptr<Writer>& w = set.by_slot[(owner + i) % n];
    if (w != nullptr) out.push_back(w);
  }
  return out;
}

std::vector<std::string> RemoteSegmentWriters::Candidates(uint32_t shard) const {
  std::vector<std::string> out;
  for (const auto& w :
       CandidatesIn(*writers(), shard, options_.tokens_per_writer, options_.max_attempts)) {
    out.push_back(w->address);
  }
  return out;
}

struct RemoteSegmentWriters::Call {
  swv1::PushRequest request;
  std::vector<std::shared_ptr<Writer>> candidates;
  UnaryDone done;
  absl::Status last_error = absl::UnavailableError("no segment-writer is taking pushes");
};

void RemoteSegmentWriters::Push(const std::string& tenant, uint32_t shard,
                                std::vector<ProfileToWrite> profiles, UnaryDone done) {
  auto call = std::make_shared<Call>();
  call->request = EncodePush(tenant, shard, profiles);
  call->candidates =
      CandidatesIn(*writers(), shard, options_.tokens_per_writer, options_.max_attempts);
  call->done = std::move(done);
  Attempt(std::move(call), 0);
}

void RemoteSegmentWriters::Attempt(std::shared_ptr<Call> call, size_t candidate) {
  // Skip writers whose breaker is open: falling through to the next is the point.
  while (candidate < call->candidates.size() && !call->candidates[candidate]->breaker->Allow()) {
    Requests().WithLabels({call->candidates[candidate]->address, "skipped"}).Inc();
    ++candidate;
  }
  if (candidate >= call->candidates.size()) {
    return call->done(absl::UnavailableError(
        StrCat("no segment-writer stored the push: ", ToStd(call->last_error.message()))));
  }
  Writer& w = *call->candidates[candidate];
  struct Rpc {
    grpc::ClientContext context;
    swv1::PushResponse response;
  };
  auto rpc = std::make_shared<Rpc>();
  rpc->context.set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
  rpc->context.AddMetadata("x-scope-orgid", call->request.tenant_id());
  AttachClusterSecret(&rpc->context, options_.cluster_secret);
  w.stub->async()->Push(&rpc->context, &call->request, &rpc->response,
                        [self = shared_from_this(), call, candidate, rpc](grpc::Status st) {
                          Writer& w = *call->candidates[candidate];
                          if (st.ok()) {
                            w.breaker->RecordSuccess();
                            Requests().WithLabels({w.address, "ok"}).Inc();
                            return call->done(absl::OkStatus());
                          }
                          Requests().WithLabels({w.address, "error"}).Inc();
                          const absl::Status error = InternalCallStatus(
                              static_cast<absl::StatusCode>(st.error_code()),
                              StrCat("segment-writer ", w.address), st.error_message());
                          if (!Retryable(st.error_code())) {
                            // The writer answered: it is up, the request is bad (or the data was
                            // rejected).
                            w.breaker->RecordSuccess();
                            return call->done(error);
                          }
                          w.breaker->RecordFailure();
                          call->last_error = error;
                          log::Warn("segment-writer push failed, trying the next writer",
                                    {{"writer", w.address},
                                     {"shard", call->request.shard()},
                                     {"error", st.error_message()}});
                          self->Attempt(call, candidate + 1);
                        });
}

}  // namespace embers::segmentwriter
