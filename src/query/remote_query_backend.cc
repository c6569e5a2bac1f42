#include "query/remote_query_backend.h"

#include <map>
#include <mutex>
#include <optional>

#include "absl/time/clock.h"
#include "base/cluster_secret.h"
#include "base/logging.h"
#include "base/status.h"
#include "base/strings.h"
#include "query/report_codec.h"

namespace embers::query {
namespace qb = querybackend::v1;

// One Invoke of one share, with what gRPC needs to outlive the call.
struct RemoteQueryBackend::Share {
  qb::InvokeRequest request;
  std::optional<absl::StatusOr<QueryReport>> result;
};

struct RemoteQueryBackend::Call {
  std::shared_ptr<const ReadQuery> query;
  // The backends this query uses (the set when it started).
  std::shared_ptr<const BackendSet> backends;
  std::vector<Share> shares;
  std::atomic<size_t> remaining{0};
  ReportDone done;

  void Finish() {
    // Merge in shard order, so the result does not depend on which backend answered first.
    QueryReport merged;
    bool first = true;
    for (Share& s : shares) {
      if (!s.result->ok()) return done(s.result->status());
      if (first) {
        merged = std::move(**s.result);
        first = false;
      } else {
        merged.Merge(**s.result);
      }
      s.result.reset();
    }
    done(std::move(merged));
  }
};

absl::StatusOr<std::shared_ptr<RemoteQueryBackend>> RemoteQueryBackend::Create(
    const std::vector<std::string>& addresses, RemoteQueryBackendOptions options) {
  if (addresses.empty()) return absl::InvalidArgumentError("no query-backend addresses");
  std::shared_ptr<RemoteQueryBackend> r(new RemoteQueryBackend(options));
  EMBERS_RETURN_IF_ERROR(r->SetAddresses(addresses));
  return r;
}

std::shared_ptr<RemoteQueryBackend> RemoteQueryBackend::CreateDiscovered(
    RemoteQueryBackendOptions options) {
  return std::shared_ptr<RemoteQueryBackend>(new RemoteQueryBackend(options));
}

absl::Status RemoteQueryBackend::SetAddresses(const std::vector<std::string>& addresses) {
  for (const std::string& a : addresses) {
    if (a.empty()) return absl::InvalidArgumentError("empty query-backend address");
  }
  auto set = std::make_shared<BackendSet>();
  std::map<std::string, std::shared_ptr<Backend>> by_address;
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::string& a : addresses) {
    std::shared_ptr<Backend>& b = by_address[a];
    if (b != nullptr) continue;  // listed twice
    if (auto it = by_address_.find(a); it != by_address_.end()) b = it->second;
    if (b == nullptr) {
      grpc::ChannelArguments args;
      args.SetMaxReceiveMessageSize(static_cast<int>(options_.max_message_bytes));
      args.SetMaxSendMessageSize(static_cast<int>(options_.max_message_bytes));
      args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
      args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
      args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
      b = std::make_shared<Backend>(
          Backend{.address = a,
                  .stub = qb::QueryBackendService::NewStub(grpc::CreateCustomChannel(
                      a,
                      options_.channel_credentials ? options_.channel_credentials
                                                   : grpc::InsecureChannelCredentials(),
                      args))});
    }
    set->push_back(b);
  }
  by_address_ = std::move(by_address);
  backends_ = std::move(set);
  return absl::OkStatus();
}

size_t RemoteQueryBackend::backend_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return backends_->size();
}

void RemoteQueryBackend::Invoke(std::shared_ptr<const ReadQuery> query,
                                std::vector<metastore::v1::BlockMeta> blocks, ReportDone done) {
  if (blocks.empty()) return done(QueryReport());
  std::shared_ptr<const BackendSet> backends;
  {
    std::lock_guard<std::mutex> lock(mu_);
    backends = backends_;
  }
  if (backends->empty()) {
    return done(absl::UnavailableError("no query-backend is registered in the cluster"));
  }
  // One share per shard: a profile stored twice (a client retry) stays within its shard, so
  // each backend de-duplicates everything compaction would (profile_dedup.h). Shares are in
  // shard order, blocks keep the metastore's order within a share.
  std::map<uint32_t, std::vector<uint32_t>> by_shard;
  for (uint32_t b = 0; b < blocks.size(); ++b) by_shard[blocks[b].shard()].push_back(b);
  std::vector<std::vector<uint32_t>> shares;
  for (auto& [shard, list] : by_shard) shares.push_back(std::move(list));
  auto call = std::make_shared<Call>();
  call->query = std::move(query);
  call->done = std::move(done);
  call->backends = std::move(backends);
  call->shares.resize(shares.size());
  call->remaining = shares.size();
  for (size_t i = 0; i < shares.size(); ++i) {
    qb::InvokeRequest& req = call->shares[i].request;
    EncodeReadQuery(*call->query, &req);
    for (uint32_t b : shares[i]) *req.add_blocks() = std::move(blocks[b]);
  }
  for (size_t i = 0; i < shares.size(); ++i) {
    Send(call, i, next_.fetch_add(1, std::memory_order_relaxed) % call->backends->size(), 0);
  }
}

void RemoteQueryBackend::Send(std::shared_ptr<Call> call, size_t share, size_t backend,
                              size_t attempt) {
  struct Rpc {
    grpc::ClientContext context;
    qb::InvokeResponse response;
  };
  auto rpc = std::make_shared<Rpc>();
  rpc->context.set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
  rpc->context.AddMetadata("x-scope-orgid", call->query->tenant);
  AttachClusterSecret(&rpc->context, options_.cluster_secret);
  const Backend& target = *(*call->backends)[backend];
  target.stub->async()->Invoke(
      &rpc->context, &call->shares[share].request, &rpc->response,
      // The backend object stays alive until every call it sent has answered.
      [self = shared_from_this(), call, share, backend, attempt, rpc](grpc::Status st) {
        Share& s = call->shares[share];
        if (!st.ok()) {
          const bool retry = st.error_code() == grpc::StatusCode::UNAVAILABLE ||
                             st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
          const BackendSet& backends = *call->backends;
          if (retry && attempt + 1 < backends.size()) {
            log::Warn("query-backend call failed, trying the next one",
                      {{"backend", backends[backend]->address}, {"error", st.error_message()}});
            return self->Send(call, share, (backend + 1) % backends.size(), attempt + 1);
          }
          s.result = InternalCallStatus(static_cast<absl::StatusCode>(st.error_code()),
                                        StrCat("query-backend ", backends[backend]->address),
                                        st.error_message());
        } else {
          s.result = DecodeReport(rpc->response);
        }
        if (call->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) call->Finish();
      });
}

}  // namespace embers::query
