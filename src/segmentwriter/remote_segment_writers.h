// RemoteSegmentWriters: the distributor's client of segment-writer processes, from a static list
// of addresses (-distributor.segment-writer-addresses; cluster discovery comes later).
//
// Placement numbers shards 0..N-1 with N = writers × tokens per writer; writer i owns shards
// [i × tokens, (i + 1) × tokens). A push for shard s goes to its owner; when that fails with a
// retryable error (Unavailable, DeadlineExceeded, ResourceExhausted) or its circuit breaker is
// open, the next writers in list order are tried with the *same shard id* — so the data still
// lands in that shard's objects and the service stays on few shards — up to 6 attempts, as
// upstream. Each series profile is encoded to pprof once per push, not per attempt.
#ifndef EMBERS_SEGMENTWRITER_REMOTE_SEGMENT_WRITERS_H_
#define EMBERS_SEGMENTWRITER_REMOTE_SEGMENT_WRITERS_H_

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "segmentwriter/circuit_breaker.h"
#include "segmentwriter/segment_writer_client.h"
#include "segmentwriter/v1/segment_writer.grpc.pb.h"

namespace embers::segmentwriter {

namespace swv1 = ::segmentwriter::v1;

struct RemoteSegmentWritersOptions {
  uint32_t tokens_per_writer = 4;
  int max_attempts = 6;
  absl::Duration timeout = absl::Seconds(10);
  CircuitBreakerOptions breaker;
  int64_t max_message_bytes = 100ll << 20;
  // -server.cluster-secret: sent on every Push (base/cluster_secret.h); empty sends none.
  std::string cluster_secret;
  // -server.internal-grpc-tls-*: mutual TLS to the segment-writers (null: cleartext).
  std::shared_ptr<grpc::ChannelCredentials> channel_credentials;
};

class RemoteSegmentWriters final : public SegmentWriterClient,
                                   public std::enable_shared_from_this<RemoteSegmentWriters> {
 public:
  static absl::StatusOr<std::shared_ptr<RemoteSegmentWriters>> Create(
      const std::vector<std::string>& addresses, RemoteSegmentWritersOptions options = {});

  uint32_t shard_count() const {
    return static_cast<uint32_t>(writers_.size()) * options_.tokens_per_writer;
  }
  // The writers tried for `shard`, in order (at most max_attempts): for tests and logs.
  std::vector<size_t> Candidates(uint32_t shard) const;

  void Push(const std::string& tenant, uint32_t shard, std::vector<ProfileToWrite> profiles,
            UnaryDone done) override;

 private:
  struct Writer {
    std::string address;
    std::unique_ptr<swv1::SegmentWriterService::Stub> stub;
    std::unique_ptr<CircuitBreaker> breaker;
  };
  struct Call;

  explicit RemoteSegmentWriters(RemoteSegmentWritersOptions options) : options_(options) {}
  void Attempt(std::shared_ptr<Call> call, size_t candidate);

  RemoteSegmentWritersOptions options_;
  std::vector<Writer> writers_;
};

// The request for one shard's profiles (exposed for the segment-writer service's tests).
swv1::PushRequest EncodePush(const std::string& tenant, uint32_t shard,
                             const std::vector<ProfileToWrite>& profiles);
// Its inverse, on the segment-writer side: decodes and validates every profile.
absl::StatusOr<std::vector<ProfileToWrite>> DecodePush(const swv1::PushRequest& request);

}  // namespace embers::segmentwriter

#endif  // EMBERS_SEGMENTWRITER_REMOTE_SEGMENT_WRITERS_H_
