// The hand-built RaftCommand bytes parse as the messages they stand for.
#include "metastore/raft/command_encoding.h"

#include <gtest/gtest.h>

#include "metastore/index/block_index.h"
#include "metastore/index/test_blocks.h"
#include "metastore/v1/raft_log.pb.h"

namespace embers::metastore::raft {
namespace {

using testing::BlockBuilder;
using testing::DatasetSpec;
using testing::TestId;

v1::AddBlockRequest Request(uint64_t seq) {
  v1::AddBlockRequest r;
  *r.mutable_block() =
      BlockBuilder(TestId(1700000000000, seq), "t1", 3)
          .Add(DatasetSpec{"t1", "api", 1, 2, {{{"service_name", std::string(300, 'x')}}}})
          .Build();
  return r;
}

// Parsed and re-serialised, so that field order does not matter.
std::string Canonical(const std::string& bytes) {
  v1::RaftCommand c;
  EXPECT_TRUE(c.ParseFromString(bytes));
  return c.SerializeAsString();
}

TEST(CommandEncodingTest, AddBlockBatchAndLeaderTimeParseAsTheMessages) {
  v1::RaftCommand a;
  a.set_request_id("add_block/1");
  *a.mutable_add_block() = Request(1);
  std::string encoded_a = EncodeAddBlockCommand("add_block/1", Request(1));
  EXPECT_EQ(Canonical(encoded_a), a.SerializeAsString());

  v1::RaftCommand b;
  b.set_request_id("add_block/2");
  *b.mutable_add_block() = Request(2);
  v1::RaftCommand batch;
  *batch.mutable_batch()->add_commands() = a;
  *batch.mutable_batch()->add_commands() = b;
  batch.set_leader_time_ms(1700000000123);
  std::string encoded =
      EncodeBatchCommand({encoded_a, EncodeAddBlockCommand("add_block/2", Request(2))});
  AppendLeaderTime(&encoded, 1700000000123);
  EXPECT_EQ(Canonical(encoded), batch.SerializeAsString());

  // Negative times survive too (two's complement varint, as protobuf writes int64).
  v1::RaftCommand t;
  t.set_leader_time_ms(-5);
  std::string only_time;
  AppendLeaderTime(&only_time, -5);
  EXPECT_EQ(Canonical(only_time), t.SerializeAsString());
  EXPECT_EQ(Canonical(EncodeBatchCommand({})), [] {
    v1::RaftCommand empty;
    empty.mutable_batch();
    return empty.SerializeAsString();
  }());
}

}  // namespace
}  // namespace embers::metastore::raft
