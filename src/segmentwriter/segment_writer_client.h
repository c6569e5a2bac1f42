// SegmentWriterClient: how the distributor hands a shard's profiles to its segment-writer.
//
// In one process (-target=all) that is the SegmentWriter itself (LocalSegmentWriterClient); with
// -distributor.segment-writer-addresses it is RemoteSegmentWriters (remote_segment_writers.h),
// which sends them over gRPC. Either way `done` runs once the profiles are durable (OK) or could
// not be stored (Unavailable: clients retry).
#ifndef EMBERS_SEGMENTWRITER_SEGMENT_WRITER_CLIENT_H_
#define EMBERS_SEGMENTWRITER_SEGMENT_WRITER_CLIENT_H_

#include <string>
#include <vector>

#include "base/call_context.h"
#include "segmentwriter/segment_writer.h"

namespace embers::segmentwriter {

class SegmentWriterClient {
 public:
  virtual ~SegmentWriterClient() = default;
  virtual void Push(const std::string& tenant, uint32_t shard, std::vector<ProfileToWrite> profiles,
                    UnaryDone done) = 0;
  // The number of shards placement spreads over now; 0: the distributor's configured count (an
  // in-process writer). Changes as segment-writers join and leave a cluster.
  virtual uint32_t shard_count() const { return 0; }
};

class LocalSegmentWriterClient final : public SegmentWriterClient {
 public:
  explicit LocalSegmentWriterClient(SegmentWriter* writer) : writer_(writer) {}
  void Push(const std::string& tenant, uint32_t shard, std::vector<ProfileToWrite> profiles,
            UnaryDone done) override {
    writer_->Push(tenant, shard, std::move(profiles), std::move(done));
  }

 private:
  SegmentWriter* writer_;
};

}  // namespace embers::segmentwriter

#endif  // EMBERS_SEGMENTWRITER_SEGMENT_WRITER_CLIENT_H_
