// RemoteSegmentWriters: the distributor's client of segment-writer processes — discovered from
// the cluster's member table (SetWriters, fed by a ClusterWatcher) or from a static list of
// addresses (-distributor.segment-writer-addresses, for tests).
//
// Writers sit in slots (member_table.h: the lowest free slot when a writer first registers; a
// static list's i-th address is slot i). Placement numbers shards 0..N-1 with N = (highest slot +
// 1) × tokens per writer; the writer in slot k owns shards [k × tokens, (k + 1) × tokens). A push
// for shard s goes to its owner; when the owner is not taking pushes (LEAVING, UNHEALTHY, or no
// writer in that slot), or the push fails with a retryable error (Unavailable, DeadlineExceeded,
// ResourceExhausted), or its circuit breaker is open, the next writers in slot order are tried
// with the *same shard id* — so the data still lands in that shard's objects and the service
// stays on few shards — up to 6 attempts, as upstream. Each series profile is encoded to pprof
// once per push, not per attempt.
//
// A new writer set is swapped in whole; a push in flight finishes on the set it started with.
// Connections and circuit breakers are kept per address across sets, and dropped with the
// address.
#ifndef EMBERS_SEGMENTWRITER_REMOTE_SEGMENT_WRITERS_H_
#define EMBERS_SEGMENTWRITER_REMOTE_SEGMENT_WRITERS_H_

#include <map>
#include <memory>
#include <mutex>
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

// One segment-writer as the member table describes it.
struct SegmentWriterEndpoint {
  std::string address;
  uint32_t slot = 0;
  // ACTIVE: sent pushes. A LEAVING or UNHEALTHY writer keeps its slot (its shards stay put) but
  // is skipped.
  bool accepting = true;
};

class RemoteSegmentWriters final : public SegmentWriterClient,
                                   public std::enable_shared_from_this<RemoteSegmentWriters> {
 public:
  // A static list: address i in slot i, all accepting.
  static absl::StatusOr<std::shared_ptr<RemoteSegmentWriters>> Create(
      const std::vector<std::string>& addresses, RemoteSegmentWritersOptions options = {});
  // No writers until SetWriters (pushes fail with Unavailable meanwhile).
  static absl::StatusOr<std::shared_ptr<RemoteSegmentWriters>> CreateDiscovered(
      RemoteSegmentWritersOptions options = {});

  // Replaces the writer set. InvalidArgument (and nothing changes) for an empty address or two
  // writers in one slot.
  absl::Status SetWriters(std::vector<SegmentWriterEndpoint> writers);

  uint32_t shard_count() const override;
  // Writers accepting pushes now.
  size_t accepting_writers() const;
  // The addresses tried for `shard`, in order (at most max_attempts): for tests and logs.
  std::vector<std::string> Candidates(uint32_t shard) const;

  void Push(const std::string& tenant, uint32_t shard, std::vector<ProfileToWrite> profiles,
            UnaryDone done) override;

 private:
  struct Writer {
    std::string address;
    std::unique_ptr<swv1::SegmentWriterService::Stub> stub;
    std::unique_ptr<CircuitBreaker> breaker;
  };
  // Writers by slot (null: an empty slot or a writer not accepting pushes).
  struct WriterSet {
    std::vector<std::shared_ptr<Writer>> by_slot;
    size_t accepting = 0;
  };
  struct Call;

  explicit RemoteSegmentWriters(RemoteSegmentWritersOptions options) : options_(options) {}
  std::shared_ptr<const WriterSet> writers() const;
  static std::vector<std::shared_ptr<Writer>> CandidatesIn(const WriterSet& set, uint32_t shard,
                                                           uint32_t tokens, int max_attempts);
  void Attempt(std::shared_ptr<Call> call, size_t candidate);

  const RemoteSegmentWritersOptions options_;
  mutable std::mutex mu_;
  std::shared_ptr<const WriterSet> set_ = std::make_shared<WriterSet>();  // guarded by mu_
  std::map<std::string, std::shared_ptr<Writer>> by_address_;             // guarded by mu_
};

// The request for one shard's profiles (exposed for the segment-writer service's tests).
swv1::PushRequest EncodePush(const std::string& tenant, uint32_t shard,
                             const std::vector<ProfileToWrite>& profiles);
// Its inverse, on the segment-writer side: decodes and validates every profile.
absl::StatusOr<std::vector<ProfileToWrite>> DecodePush(const swv1::PushRequest& request);

}  // namespace embers::segmentwriter

#endif  // EMBERS_SEGMENTWRITER_REMOTE_SEGMENT_WRITERS_H_
