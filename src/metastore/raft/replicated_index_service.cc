#include "metastore/raft/replicated_index_service.h"

#include <chrono>
#include <utility>

#include "base/strings.h"
#include "metastore/leader_redirect.h"
#include "metastore/raft/command_encoding.h"
#include "metastore/raft/metastore_fsm.h"

namespace embers::metastore::raft {

namespace {

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ReplicatedIndexService::ReplicatedIndexService(Consensus* consensus, const BlockIndex* index,
                                               const TenantSettings* settings, Clock clock,
                                               EndpointOf endpoint_of,
                                               ProposalBatcherOptions batching)
    : consensus_(consensus),
      index_(index),
      settings_(settings),
      clock_(clock ? std::move(clock) : &SystemNowMs),
      endpoint_of_(std::move(endpoint_of)),
      batcher_(batching, [this](std::string command, UnaryDone done) {
        ProposeEncoded(std::move(command), std::move(done));
      }) {}

UnaryDone ReplicatedIndexService::Redirecting(UnaryDone done) const {
  if (!endpoint_of_) return done;
  return [this, done = std::move(done)](absl::Status s) {
    if (IsNotLeaderError(s)) {
      if (std::optional<uint64_t> leader = LeaderIdFromError(s)) {
        s = WithLeaderGrpcAddress(s, endpoint_of_(*leader));
      }
    }
    done(std::move(s));
  };
}

// Runs `query` after a read barrier, so its answer reflects every write acknowledged before the
// call (linearizable; libraft 0.15 has no ReadIndex, notes gotcha 4). Followers answer with the
// leader: the client reads there.
template <class Query>
void ReplicatedIndexService::ReadAfterBarrier(UnaryDone done, Query query) {
  consensus_->Barrier(
      [done = Redirecting(std::move(done)), query = std::move(query)](absl::Status s) {
        if (!s.ok()) return done(s);
        done(query());
      });
}

void ReplicatedIndexService::Propose(v1::RaftCommand command, UnaryDone done) {
  if (command.leader_time_ms() == 0) command.set_leader_time_ms(clock_());
  consensus_->Propose(MetastoreFsm::EncodeCommand(command), Redirecting(std::move(done)));
}

void ReplicatedIndexService::ProposeEncoded(std::string command, UnaryDone done) {
  AppendLeaderTime(&command, clock_());
  consensus_->Propose(std::move(command), Redirecting(std::move(done)));
}

void ReplicatedIndexService::AddBlock(const CallContext& /*ctx*/,
                                      const v1::AddBlockRequest& request,
                                      v1::AddBlockResponse* /*response*/, UnaryDone done) {
  // Reject malformed blocks before they reach the log: every replica would reject them again.
  absl::Status valid = BlockIndex::ValidateBlock(request.block());
  if (!valid.ok()) return done(valid);
  // Ingestion statistics for adaptive placement: only the leader acts on them (a follower's
  // caller is redirected to the leader, which records the block then).
  if (block_observer_ && consensus_->Status().role == Role::kLeader) {
    block_observer_(request.block());
  }
  // The block id is the natural request id: a writer retrying after an unknown outcome sends the
  // same block.
  batcher_.Add(EncodeAddBlockCommand(StrCat("add_block/", request.block().id()), request),
               std::move(done));
}

void ReplicatedIndexService::ReplaceBlocks(const v1::ReplaceBlocksRequest& request,
                                           UnaryDone done) {
  if (request.tombstones().name().empty()) {
    return done(absl::InvalidArgumentError("ReplaceBlocks: tombstone name is empty"));
  }
  for (const v1::BlockMeta& block : request.blocks()) {
    absl::Status valid = BlockIndex::ValidateBlock(block);
    if (!valid.ok()) return done(valid);
  }
  v1::RaftCommand command;
  command.set_request_id(StrCat("replace_blocks/", request.tombstones().name()));
  *command.mutable_replace_blocks() = request;
  Propose(std::move(command), std::move(done));
}

void ReplicatedIndexService::DeleteTombstones(const std::vector<std::string>& names,
                                              UnaryDone done) {
  v1::RaftCommand command;
  // Deleting is idempotent by itself; no request id needed.
  for (const std::string& n : names) command.mutable_delete_tombstones()->add_names(n);
  Propose(std::move(command), std::move(done));
}

// The reads: the request and response stay alive until `done` (call_context.h).

void ReplicatedIndexService::QueryMetadata(const CallContext& /*ctx*/,
                                           const v1::QueryMetadataRequest& request,
                                           v1::QueryMetadataResponse* response, UnaryDone done) {
  // Malformed requests fail before the barrier, on any node.
  if (request.tenant_id().empty() || request.end_time() < request.start_time()) {
    return done(index_->QueryMetadata(request).status());
  }
  ReadAfterBarrier(std::move(done), [this, &request, response]() -> absl::Status {
    absl::StatusOr<v1::QueryMetadataResponse> r = index_->QueryMetadata(request);
    if (!r.ok()) return r.status();
    *response = std::move(*r);
    return absl::OkStatus();
  });
}

void ReplicatedIndexService::QueryMetadataLabels(const CallContext& /*ctx*/,
                                                 const v1::QueryMetadataLabelsRequest& request,
                                                 v1::QueryMetadataLabelsResponse* response,
                                                 UnaryDone done) {
  ReadAfterBarrier(std::move(done), [this, &request, response]() -> absl::Status {
    absl::StatusOr<v1::QueryMetadataLabelsResponse> r = index_->QueryMetadataLabels(request);
    if (!r.ok()) return r.status();
    *response = std::move(*r);
    return absl::OkStatus();
  });
}

void ReplicatedIndexService::GetBlockMetadata(const v1::GetBlockMetadataRequest& request,
                                              v1::GetBlockMetadataResponse* response,
                                              UnaryDone done) {
  ReadAfterBarrier(std::move(done), [this, &request, response]() -> absl::Status {
    absl::StatusOr<v1::GetBlockMetadataResponse> r = index_->GetBlockMetadata(request);
    if (!r.ok()) return r.status();
    *response = std::move(*r);
    return absl::OkStatus();
  });
}

void ReplicatedIndexService::GetTenants(const v1::GetTenantsRequest& /*request*/,
                                        v1::GetTenantsResponse* response, UnaryDone done) {
  ReadAfterBarrier(std::move(done), [this, response]() -> absl::Status {
    *response = index_->GetTenants();
    return absl::OkStatus();
  });
}

void ReplicatedIndexService::GetTenant(const v1::GetTenantRequest& request,
                                       v1::GetTenantResponse* response, UnaryDone done) {
  if (request.tenant_id().empty()) {
    return done(absl::InvalidArgumentError("GetTenant: tenant_id is empty"));
  }
  ReadAfterBarrier(std::move(done), [this, &request, response]() -> absl::Status {
    *response = index_->GetTenant(request);
    return absl::OkStatus();
  });
}

void ReplicatedIndexService::GetTenantSettings(const CallContext& /*ctx*/,
                                               const v1::GetTenantSettingsRequest& request,
                                               v1::GetTenantSettingsResponse* response,
                                               UnaryDone done) {
  if (request.tenant_id().empty()) {
    return done(absl::InvalidArgumentError("GetTenantSettings: tenant_id is empty"));
  }
  ReadAfterBarrier(std::move(done), [this, &request, response]() -> absl::Status {
    for (v1::TenantSetting& s : settings_->Get(request.tenant_id())) {
      *response->add_settings() = std::move(s);
    }
    return absl::OkStatus();
  });
}

void ReplicatedIndexService::SetTenantSetting(const CallContext& /*ctx*/,
                                              const v1::SetTenantSettingRequest& request,
                                              v1::SetTenantSettingResponse* response,
                                              UnaryDone done) {
  if (absl::Status st = TenantSettings::Validate(request); !st.ok()) return done(st);
  v1::RaftCommand command;
  v1::SetTenantSettingRequest* set = command.mutable_set_tenant_setting();
  *set = request;
  const int64_t now = clock_();
  command.set_leader_time_ms(now);
  if (set->setting().modified_at_ms() == 0) set->mutable_setting()->set_modified_at_ms(now);
  // No request id: applying the same write twice stores the same value and time, so a retry
  // after an unknown outcome is harmless.
  v1::TenantSetting stored = set->setting();
  Propose(std::move(command),
          [response, stored = std::move(stored), done = std::move(done)](absl::Status st) mutable {
            if (st.ok()) *response->mutable_setting() = std::move(stored);
            done(std::move(st));
          });
}

}  // namespace embers::metastore::raft
