// Builds the bytes of RaftCommands directly in protobuf wire format, without building messages.
//
// Used on the leader's AddBlock path (ReplicatedIndexService, ProposalBatcher): copying each
// request into a RaftCommand message, moving it into a batch message and destroying that after
// serialising cost dozens of small allocations per block, and glibc's malloc (consolidating the
// freed chunks on the next large allocation) was the largest CPU item of a loaded leader. The
// bytes produced parse as the same RaftCommand a message would serialise to (field order aside),
// which command_encoding_test.cpp checks.
#ifndef EMBERS_METASTORE_RAFT_COMMAND_ENCODING_H_
#define EMBERS_METASTORE_RAFT_COMMAND_ENCODING_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "metastore/v1/index.pb.h"

namespace embers::metastore::raft {

namespace v1 = ::metastore::v1;

// RaftCommand{request_id, add_block = request}.
std::string EncodeAddBlockCommand(std::string_view request_id, const v1::AddBlockRequest& request);
// RaftCommand{batch = RaftCommandBatch{commands}} from encoded commands.
std::string EncodeBatchCommand(const std::vector<std::string>& commands);
// Sets leader_time_ms of an encoded command (a later occurrence of a scalar field wins).
void AppendLeaderTime(std::string* command, int64_t leader_time_ms);

}  // namespace embers::metastore::raft

#endif  // EMBERS_METASTORE_RAFT_COMMAND_ENCODING_H_
