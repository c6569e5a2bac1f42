// ReplicatedIndexService: the IndexService of a metastore node that replicates its BlockIndex
// with Raft.
//
// Used by MetastoreNode, which hands it to the server (gRPC/Connect adapters, and in-process
// callers with -target=all). Writes become RaftCommands proposed through the Consensus and
// complete once applied on this node; reads wait for a linearizable read barrier and then query
// the local BlockIndex.
//
// On a node that is not the leader every call fails with Unavailable and a message naming the
// leader (consensus.h NotLeaderError) and, when the leader has announced it, its gRPC address
// (leader_redirect.h). Following the leader is the client's job (client/metastore_client.h).
// Concurrent AddBlock calls are proposed together (proposal_batcher.h).
// A write whose outcome is unknown (leadership lost) also fails with Unavailable; retrying the
// same request is safe (request ids are derived from the block id / tombstone name).
//
// Threading: methods may be called from any thread; `done` runs on the consensus callback
// thread (queries run there too, after the barrier) or inline for requests rejected up front.
#ifndef EMBERS_METASTORE_RAFT_REPLICATED_INDEX_SERVICE_H_
#define EMBERS_METASTORE_RAFT_REPLICATED_INDEX_SERVICE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "metastore/index/block_index.h"
#include "metastore/index_service.h"
#include "metastore/raft/consensus.h"
#include "metastore/raft/proposal_batcher.h"
#include "metastore/v1/raft_log.pb.h"

namespace embers::metastore::raft {

class ReplicatedIndexService final : public IndexService {
 public:
  // Wall clock for leader_time_ms (ms since the epoch); replaceable in tests.
  using Clock = std::function<int64_t()>;
  // The gRPC address of a node ("" when unknown), for not-leader answers.
  using EndpointOf = std::function<std::string(uint64_t node_id)>;

  // No pointer is owned; all must outlive the service. `settings` is the state machine's table
  // (MetastoreFsm::settings()).
  ReplicatedIndexService(Consensus* consensus, const BlockIndex* index,
                         const TenantSettings* settings, Clock clock = nullptr,
                         EndpointOf endpoint_of = nullptr,
                         ProposalBatcherOptions batching = ProposalBatcherOptions());

  void AddBlock(const CallContext& ctx, const v1::AddBlockRequest& request,
                v1::AddBlockResponse* response, UnaryDone done) override;
  void QueryMetadata(const CallContext& ctx, const v1::QueryMetadataRequest& request,
                     v1::QueryMetadataResponse* response, UnaryDone done) override;
  void QueryMetadataLabels(const CallContext& ctx, const v1::QueryMetadataLabelsRequest& request,
                           v1::QueryMetadataLabelsResponse* response, UnaryDone done) override;

  // Not in IndexService (compaction, the gRPC services and the admin API call these).
  void ReplaceBlocks(const v1::ReplaceBlocksRequest& request, UnaryDone done);
  void DeleteTombstones(const std::vector<std::string>& names, UnaryDone done);
  void GetBlockMetadata(const v1::GetBlockMetadataRequest& request,
                        v1::GetBlockMetadataResponse* response, UnaryDone done);
  void GetTenants(const v1::GetTenantsRequest& request, v1::GetTenantsResponse* response,
                  UnaryDone done);
  void GetTenant(const v1::GetTenantRequest& request, v1::GetTenantResponse* response,
                 UnaryDone done);
  void GetTenant(const CallContext& /*ctx*/, const v1::GetTenantRequest& request,
                 v1::GetTenantResponse* response, UnaryDone done) override {
    GetTenant(request, response, std::move(done));
  }
  // Settings are read after a barrier like the index; a write takes the leader's time when it
  // has none, so every replica stores the same modification time.
  void GetTenantSettings(const CallContext& ctx, const v1::GetTenantSettingsRequest& request,
                         v1::GetTenantSettingsResponse* response, UnaryDone done) override;
  void SetTenantSetting(const CallContext& ctx, const v1::SetTenantSettingRequest& request,
                        v1::SetTenantSettingResponse* response, UnaryDone done) override;

  // Proposes a command as is (request_id must be set by the caller; leader_time_ms is filled
  // in when zero).
  void Propose(v1::RaftCommand command, UnaryDone done);
  // Proposes an encoded command (command_encoding.h), stamped with the leader's time.
  void ProposeEncoded(std::string command, UnaryDone done);

  // The clock that stamps proposals (ms since the epoch).
  int64_t NowMs() const { return clock_(); }

  // Sees every valid block an AddBlock brings to the leader (adaptive placement's statistics).
  // Set before the service is used.
  void SetBlockObserver(std::function<void(const v1::BlockMeta&)> observer) {
    block_observer_ = std::move(observer);
  }

  // `done` with a not-leader answer completed by the leader's gRPC address.
  UnaryDone Redirecting(UnaryDone done) const;

 private:
  template <class Query>
  void ReadAfterBarrier(UnaryDone done, Query query);

  Consensus* consensus_;
  const BlockIndex* index_;
  const TenantSettings* settings_;
  Clock clock_;
  EndpointOf endpoint_of_;
  ProposalBatcher batcher_;
  std::function<void(const v1::BlockMeta&)> block_observer_;
};

}  // namespace embers::metastore::raft

#endif  // EMBERS_METASTORE_RAFT_REPLICATED_INDEX_SERVICE_H_
