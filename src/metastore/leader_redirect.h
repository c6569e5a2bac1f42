// How a metastore node that is not the leader tells a client where the leader is.
//
// A follower answers every leader-only call (writes, linearizable reads, membership changes)
// with Unavailable and a message naming the leader (raft/consensus.h NotLeaderError):
//   "not the metastore leader; leader_id=2 leader_address=10.0.0.2:9099
//   leader_grpc_address=10.0.0.2:9095"
// leader_address is the Raft transport; leader_grpc_address, added by the replicated service
// (raft/replicated_index_service.h) from the replicated node endpoint table, is where clients
// (client/metastore_client.h) retry. The message is the only channel because it is the part of a
// status every transport (gRPC, Connect, in-process) carries unchanged.
#ifndef EMBERS_METASTORE_LEADER_REDIRECT_H_
#define EMBERS_METASTORE_LEADER_REDIRECT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace embers::metastore {

// True for a "not the metastore leader" answer.
bool IsNotLeaderError(const absl::Status& status);
// The leader's Raft id named by a not-leader answer (nullopt when none is known).
std::optional<uint64_t> LeaderIdFromError(const absl::Status& status);
// The same status with "leader_grpc_address=<endpoint>" appended (unchanged when `endpoint` is
// empty or the status is not a not-leader answer).
absl::Status WithLeaderGrpcAddress(const absl::Status& status, std::string_view endpoint);
// The leader's gRPC address from a not-leader answer, if it names one.
std::optional<std::string> LeaderGrpcAddressFromError(const absl::Status& status);

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_LEADER_REDIRECT_H_
