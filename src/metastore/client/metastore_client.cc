#include "metastore/client/metastore_client.h"

#include <algorithm>
#include <random>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "base/cluster_secret.h"
#include "base/logging.h"
#include "base/strings.h"
#include "metastore/client/address_resolver.h"
#include "metastore/leader_redirect.h"
#include "metastore/v1/compaction.grpc.pb.h"
#include "metastore/v1/index.grpc.pb.h"
#include "metastore/v1/membership.grpc.pb.h"
#include "metastore/v1/query.grpc.pb.h"
#include "metastore/v1/raft_node.grpc.pb.h"
#include "metastore/v1/tenant.grpc.pb.h"

namespace embers::metastore {

struct MetastoreClient::Stubs {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::IndexService::Stub> index;
  std::unique_ptr<v1::MetadataQueryService::Stub> query;
  std::unique_ptr<v1::TenantService::Stub> tenant;
  std::unique_ptr<v1::RaftNodeService::Stub> raft_node;
  std::unique_ptr<v1::CompactionService::Stub> compaction;
  std::unique_ptr<v1::MembershipService::Stub> membership;
};

// One logical call across its attempts.
struct MetastoreClient::Call {
  // Starts one attempt with `context` on `stubs`; `cb` gets the gRPC status.
  std::function<void(Stubs&, grpc::ClientContext*, std::function<void(grpc::Status)>)> invoke;
  UnaryDone done;
  absl::Time deadline;
  // Longest single attempt (options' attempt_timeout unless the method waits on purpose).
  absl::Duration attempt_timeout;
  std::string target;  // "" → pick one
  std::shared_ptr<Stubs> stubs;
  std::unique_ptr<grpc::ClientContext> context;
  absl::Duration backoff;
  absl::Status
      last_error;  // of the latest retried attempt, reported if the deadline cuts a later one
  int attempts = 0;
  int redirects_in_a_row = 0;
};

namespace {

// gRPC and absl share the canonical codes. Messages pass unchanged (callers match the leader
// redirect in them), except a refused cluster secret, which is this process's misconfiguration.
absl::Status FromGrpc(const grpc::Status& s) {
  const auto code = static_cast<absl::StatusCode>(s.error_code());
  if (code == absl::StatusCode::kUnauthenticated) {
    return InternalCallStatus(code, "metastore", s.error_message());
  }
  return absl::Status(code, s.error_message());
}

absl::Duration Jitter(absl::Duration d) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  std::uniform_real_distribution<double> f(0.5, 1.0);
  return d * f(rng);
}

}  // namespace

std::vector<std::string> MetastoreClient::ParseAddresses(std::string_view list) {
  std::vector<std::string> out;
  for (std::string_view a : Split(list, ',', /*skip_empty=*/true)) {
    a = StripWhitespace(a);
    if (!a.empty()) out.emplace_back(a);
  }
  return out;
}

absl::StatusOr<std::unique_ptr<MetastoreClient>> MetastoreClient::Create(
    MetastoreClientOptions options) {
  if (options.addresses.empty()) {
    return absl::InvalidArgumentError("metastore client: no metastore address");
  }
  bool dns = false;
  for (const std::string& a : options.addresses) dns |= a.starts_with(kDnsAddressPrefix);
  absl::StatusOr<std::vector<std::string>> resolved = ResolveAddresses(options.addresses);
  if (!resolved.ok() && resolved.status().code() != absl::StatusCode::kUnavailable) {
    return absl::InvalidArgumentError(
        StrCat("metastore client: ", ToStd(resolved.status().message())));
  }
  if (!resolved.ok()) {
    // A name that does not resolve yet (a headless Service with no ready pod): calls wait and
    // the retry thread resolves it again.
    log::Warn("metastore client: no metastore address resolves yet; retrying",
              {{"err", resolved.status()}});
  }
  return std::unique_ptr<MetastoreClient>(new MetastoreClient(
      std::move(options), dns, resolved.ok() ? std::move(*resolved) : std::vector<std::string>()));
}

MetastoreClient::MetastoreClient(MetastoreClientOptions options, bool dns,
                                 std::vector<std::string> addresses)
    : options_(std::move(options)),
      dns_(dns),
      addresses_(std::move(addresses)),
      next_resolve_(absl::Now() + (addresses_.empty() ? absl::Seconds(1) : absl::Seconds(10))),
      retry_thread_([this] { RetryLoop(); }) {}

MetastoreClient::~MetastoreClient() {
  std::unique_lock<std::mutex> lock(mu_);
  closing_ = true;
  for (Call* call : in_flight_) call->context->TryCancel();
  cv_.notify_all();
  // Attempts in flight end within attempt_timeout; waiting calls end at once (RetryLoop).
  cv_.wait(lock, [this] { return calls_ == 0; });
  lock.unlock();
  retry_thread_.join();
}

std::string MetastoreClient::leader_hint() const {
  std::lock_guard<std::mutex> lock(mu_);
  return leader_hint_;
}

std::shared_ptr<MetastoreClient::Stubs> MetastoreClient::StubsFor(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  std::shared_ptr<Stubs>& s = stubs_[address];
  if (s == nullptr) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(100 << 20);
    args.SetMaxSendMessageSize(100 << 20);
    // A restarted node is used again within ~100 ms-1 s, not gRPC's default of up to 2 min.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    s = std::make_shared<Stubs>();
    s->channel =
        grpc::CreateCustomChannel(address,
                                  options_.channel_credentials ? options_.channel_credentials
                                                               : grpc::InsecureChannelCredentials(),
                                  args);
    s->index = v1::IndexService::NewStub(s->channel);
    s->query = v1::MetadataQueryService::NewStub(s->channel);
    s->tenant = v1::TenantService::NewStub(s->channel);
    s->raft_node = v1::RaftNodeService::NewStub(s->channel);
    s->compaction = v1::CompactionService::NewStub(s->channel);
    s->membership = v1::MembershipService::NewStub(s->channel);
  }
  return s;
}

void MetastoreClient::Start(std::shared_ptr<Call> call) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) {
      call->done(absl::UnavailableError("metastore client is shutting down"));
      return;
    }
    calls_++;
  }
  call->backoff = options_.min_backoff;
  if (call->attempt_timeout <= absl::ZeroDuration())
    call->attempt_timeout = options_.attempt_timeout;
  StartAttempt(call);
}

void MetastoreClient::StartAttempt(const std::shared_ptr<Call>& call) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (call->target.empty()) {
      if (!leader_hint_.empty()) {
        call->target = leader_hint_;
      } else if (!addresses_.empty()) {
        call->target = addresses_[next_address_++ % addresses_.size()];
      } else {
        lock.unlock();
        call->attempts++;
        return OnAttemptDone(call,
                             absl::UnavailableError(StrCat("no metastore address resolves from ",
                                                           Join(options_.addresses, ","))));
      }
    }
  }
  call->attempts++;
  call->stubs = StubsFor(call->target);
  auto context = std::make_unique<grpc::ClientContext>();
  AttachClusterSecret(context.get(), options_.cluster_secret);
  context->set_deadline(
      absl::ToChronoTime(std::min(call->deadline, absl::Now() + call->attempt_timeout)));
  {
    // Registered so that the destructor can cancel it (a watch may be waiting for seconds).
    std::lock_guard<std::mutex> lock(mu_);
    call->context = std::move(context);
    if (closing_) call->context->TryCancel();
    in_flight_.insert(call.get());
  }
  call->invoke(*call->stubs, call->context.get(),
               [this, call](grpc::Status s) { OnAttemptDone(call, FromGrpc(s)); });
}

void MetastoreClient::OnAttemptDone(const std::shared_ptr<Call>& call, absl::Status status) {
  bool closing;
  {
    std::lock_guard<std::mutex> lock(mu_);
    in_flight_.erase(call.get());
    closing = closing_;
  }
  if (closing && !status.ok()) {
    return Finish(call, absl::UnavailableError("metastore client is shutting down"));
  }
  if (status.ok()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      leader_hint_ = call->target;
    }
    return Finish(call, std::move(status));
  }
  absl::Time now = absl::Now();
  bool retryable = status.code() == absl::StatusCode::kUnavailable ||
                   (status.code() == absl::StatusCode::kDeadlineExceeded && now < call->deadline);
  if (!retryable) {
    // An attempt cut by the call's deadline says less than the error that made us retry.
    if (status.code() == absl::StatusCode::kDeadlineExceeded && !call->last_error.ok()) {
      return GiveUp(call, call->last_error);
    }
    return Finish(call, std::move(status));
  }
  call->last_error = status;
  std::optional<std::string> leader = LeaderGrpcAddressFromError(status);
  std::unique_lock<std::mutex> lock(mu_);
  if (leader && *leader != call->target && call->redirects_in_a_row < 3) {
    // A follower named the leader: go there now.
    leader_hint_ = *leader;
    call->target = *leader;
    call->redirects_in_a_row++;
    lock.unlock();
    return StartAttempt(call);
  }
  // No leader known, or the node is down: try the next address after a backoff.
  call->redirects_in_a_row = 0;
  if (leader_hint_ == call->target) leader_hint_.clear();
  call->target.clear();
  absl::Time retry_at = now + Jitter(call->backoff);
  call->backoff = std::min(call->backoff * 2, options_.max_backoff);
  if (retry_at >= call->deadline) {
    lock.unlock();
    return GiveUp(call, status);
  }
  retries_.emplace(retry_at, call);
  cv_.notify_all();
}

void MetastoreClient::GiveUp(const std::shared_ptr<Call>& call, const absl::Status& last) {
  Finish(call, absl::Status(last.code(), StrCat(ToStd(last.message()), " (gave up after ",
                                                call->attempts, " metastore attempts)")));
}

void MetastoreClient::Finish(const std::shared_ptr<Call>& call, absl::Status status) {
  UnaryDone done = std::move(call->done);
  done(std::move(status));
  std::lock_guard<std::mutex> lock(mu_);
  calls_--;
  cv_.notify_all();
}

void MetastoreClient::RetryLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (closing_) {
      // Calls waiting for a retry end now; attempts in flight end by themselves.
      while (!retries_.empty()) {
        std::shared_ptr<Call> call = std::move(retries_.begin()->second);
        retries_.erase(retries_.begin());
        lock.unlock();
        Finish(call, absl::UnavailableError("metastore client is shutting down"));
        lock.lock();
      }
      if (calls_ == 0) return;
      cv_.wait(lock);
      continue;
    }
    if (dns_ && absl::Now() >= next_resolve_) {
      // dns+ entries are looked up again now and then: metastore pods come and go.
      lock.unlock();
      absl::StatusOr<std::vector<std::string>> resolved = ResolveAddresses(options_.addresses);
      lock.lock();
      if (resolved.ok() && !resolved->empty()) addresses_ = std::move(*resolved);
      next_resolve_ = absl::Now() + (addresses_.empty() ? absl::Seconds(1) : absl::Seconds(10));
      continue;
    }
    absl::Time next = retries_.empty() ? absl::InfiniteFuture() : retries_.begin()->first;
    if (dns_) next = std::min(next, next_resolve_);
    if (absl::Now() < next) {
      if (next == absl::InfiniteFuture()) {
        cv_.wait(lock);
      } else {
        cv_.wait_until(lock, absl::ToChronoTime(next));
      }
      continue;
    }
    if (retries_.empty()) continue;
    std::shared_ptr<Call> call = std::move(retries_.begin()->second);
    retries_.erase(retries_.begin());
    lock.unlock();
    StartAttempt(call);
    lock.lock();
  }
}

// ---- Methods -----------------------------------------------------------------------------------

namespace {

absl::Time CallDeadline(const CallContext& ctx, absl::Duration fallback) {
  return ctx.deadline == absl::InfiniteFuture() ? absl::Now() + fallback : ctx.deadline;
}

}  // namespace

// Each method binds its stub call; the request and response outlive the call (call_context.h).
#define EMBERS_METASTORE_CLIENT_METHOD(Method, Req, Resp, stub)                            \
  void MetastoreClient::Method(const CallContext& ctx, const Req& request, Resp* response, \
                               UnaryDone done) {                                           \
    auto call = std::make_shared<Call>();                                                  \
    call->deadline = CallDeadline(ctx, options_.call_timeout);                             \
    call->done = std::move(done);                                                          \
    call->invoke = [&request, response](Stubs& s, grpc::ClientContext* context,            \
                                        std::function<void(grpc::Status)> cb) {            \
      s.stub->async()->Method(context, &request, response, std::move(cb));                 \
    };                                                                                     \
    Start(std::move(call));                                                                \
  }

EMBERS_METASTORE_CLIENT_METHOD(AddBlock, v1::AddBlockRequest, v1::AddBlockResponse, index)
EMBERS_METASTORE_CLIENT_METHOD(GetBlockMetadata, v1::GetBlockMetadataRequest,
                               v1::GetBlockMetadataResponse, index)
EMBERS_METASTORE_CLIENT_METHOD(QueryMetadata, v1::QueryMetadataRequest, v1::QueryMetadataResponse,
                               query)
EMBERS_METASTORE_CLIENT_METHOD(QueryMetadataLabels, v1::QueryMetadataLabelsRequest,
                               v1::QueryMetadataLabelsResponse, query)
EMBERS_METASTORE_CLIENT_METHOD(GetTenants, v1::GetTenantsRequest, v1::GetTenantsResponse, tenant)
EMBERS_METASTORE_CLIENT_METHOD(GetTenant, v1::GetTenantRequest, v1::GetTenantResponse, tenant)
EMBERS_METASTORE_CLIENT_METHOD(GetTenantSettings, v1::GetTenantSettingsRequest,
                               v1::GetTenantSettingsResponse, tenant)
EMBERS_METASTORE_CLIENT_METHOD(SetTenantSetting, v1::SetTenantSettingRequest,
                               v1::SetTenantSettingResponse, tenant)
EMBERS_METASTORE_CLIENT_METHOD(AddNode, v1::AddNodeRequest, v1::AddNodeResponse, raft_node)
EMBERS_METASTORE_CLIENT_METHOD(RemoveNode, v1::RemoveNodeRequest, v1::RemoveNodeResponse, raft_node)
EMBERS_METASTORE_CLIENT_METHOD(TransferLeadership, v1::TransferLeadershipRequest,
                               v1::TransferLeadershipResponse, raft_node)
EMBERS_METASTORE_CLIENT_METHOD(PollCompactionJobs, v1::PollCompactionJobsRequest,
                               v1::PollCompactionJobsResponse, compaction)
EMBERS_METASTORE_CLIENT_METHOD(GetCompactionStatus, v1::GetCompactionStatusRequest,
                               v1::GetCompactionStatusResponse, compaction)

EMBERS_METASTORE_CLIENT_METHOD(Heartbeat, v1::HeartbeatRequest, v1::HeartbeatResponse, membership)
EMBERS_METASTORE_CLIENT_METHOD(Leave, v1::LeaveRequest, v1::LeaveResponse, membership)

#undef EMBERS_METASTORE_CLIENT_METHOD

void MetastoreClient::WatchCluster(const CallContext& ctx, const v1::WatchClusterRequest& request,
                                   v1::ClusterView* response, UnaryDone done) {
  auto call = std::make_shared<Call>();
  const absl::Duration wait = absl::Milliseconds(std::max<int64_t>(0, request.wait_ms()));
  call->attempt_timeout = wait + options_.attempt_timeout;
  call->deadline = CallDeadline(ctx, wait + options_.call_timeout);
  call->done = std::move(done);
  call->invoke = [&request, response](Stubs& s, grpc::ClientContext* context,
                                      std::function<void(grpc::Status)> cb) {
    s.membership->async()->WatchCluster(context, &request, response, std::move(cb));
  };
  Start(std::move(call));
}

void MetastoreClient::NodeInfo(const std::string& address, absl::Duration timeout,
                               v1::NodeInfoResponse* response, UnaryDone done) {
  struct State {
    grpc::ClientContext context;
    v1::NodeInfoRequest request;
    std::shared_ptr<Stubs> stubs;
  };
  auto state = std::make_shared<State>();
  state->stubs = StubsFor(address);
  state->context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  AttachClusterSecret(&state->context, options_.cluster_secret);
  state->stubs->raft_node->async()->NodeInfo(
      &state->context, &state->request, response,
      [state, done = std::move(done)](grpc::Status s) { done(FromGrpc(s)); });
}

}  // namespace embers::metastore
