#include "metastore/raft/command_encoding.h"

#include "base/varint.h"
#include "metastore/v1/raft_log.pb.h"

namespace embers::metastore::raft {

namespace {

constexpr uint32_t kVarint = 0, kLengthDelimited = 2;

void PutTag(std::string* out, int field, uint32_t wire_type) {
  PutVarint64(out, (static_cast<uint64_t>(field) << 3) | wire_type);
}

void PutBytes(std::string* out, int field, std::string_view bytes) {
  PutTag(out, field, kLengthDelimited);
  PutVarint64(out, bytes.size());
  out->append(bytes);
}

}  // namespace

std::string EncodeAddBlockCommand(std::string_view request_id, const v1::AddBlockRequest& request) {
  size_t size = request.ByteSizeLong();
  std::string out;
  out.reserve(request_id.size() + size + 16);
  PutBytes(&out, v1::RaftCommand::kRequestIdFieldNumber, request_id);
  PutTag(&out, v1::RaftCommand::kAddBlockFieldNumber, kLengthDelimited);
  PutVarint64(&out, size);
  request.AppendToString(&out);
  return out;
}

std::string EncodeBatchCommand(const std::vector<std::string>& commands) {
  size_t body = 0;
  for (const std::string& c : commands) body += 1 + VarintLength(c.size()) + c.size();
  std::string out;
  out.reserve(body + 16);
  PutTag(&out, v1::RaftCommand::kBatchFieldNumber, kLengthDelimited);
  PutVarint64(&out, body);
  for (const std::string& c : commands) {
    PutBytes(&out, v1::RaftCommandBatch::kCommandsFieldNumber, c);
  }
  return out;
}

void AppendLeaderTime(std::string* command, int64_t leader_time_ms) {
  PutTag(command, v1::RaftCommand::kLeaderTimeMsFieldNumber, kVarint);
  PutVarint64(command, static_cast<uint64_t>(leader_time_ms));
}

}  // namespace embers::metastore::raft
