// CompactionService: the metastore's compaction-job service as compaction-workers see it
// (reference §7.3, compaction.proto).
//
// A worker polls with the status of the jobs it holds, its free capacity and the tombstones it
// has executed; the answer names the jobs it may work on (new ones with their source metadata)
// and the tombstones due for deletion. Implementations: the metastore leader's
// raft::CompactionPollService (in-process with -target=all, and behind the gRPC service), the gRPC
// client (client/metastore_client.h) for a worker in a process without a metastore, and
// CompactionServiceProxy below while the process starts.
#ifndef EMBERS_METASTORE_COMPACTION_SERVICE_H_
#define EMBERS_METASTORE_COMPACTION_SERVICE_H_

#include <atomic>

#include "base/call_context.h"
#include "metastore/v1/compaction.pb.h"

namespace embers::metastore {

namespace v1 = ::metastore::v1;

class CompactionService {
 public:
  virtual ~CompactionService() = default;
  virtual void PollCompactionJobs(const CallContext& ctx,
                                  const v1::PollCompactionJobsRequest& request,
                                  v1::PollCompactionJobsResponse* response, UnaryDone done) = 0;
  virtual void GetCompactionStatus(const CallContext& ctx,
                                   const v1::GetCompactionStatusRequest& request,
                                   v1::GetCompactionStatusResponse* response, UnaryDone done) = 0;
};

// Forwards to a service chosen after construction (Unavailable until Set), like
// IndexServiceProxy: the worker is wired before the metastore has opened.
class CompactionServiceProxy final : public CompactionService {
 public:
  void Set(CompactionService* target) { target_.store(target); }
  void PollCompactionJobs(const CallContext& ctx, const v1::PollCompactionJobsRequest& request,
                          v1::PollCompactionJobsResponse* response, UnaryDone done) override {
    CompactionService* t = target_.load();
    if (t == nullptr) return done(absl::UnavailableError("the metastore is starting"));
    t->PollCompactionJobs(ctx, request, response, std::move(done));
  }
  void GetCompactionStatus(const CallContext& ctx, const v1::GetCompactionStatusRequest& request,
                           v1::GetCompactionStatusResponse* response, UnaryDone done) override {
    CompactionService* t = target_.load();
    if (t == nullptr) return done(absl::UnavailableError("the metastore is starting"));
    t->GetCompactionStatus(ctx, request, response, std::move(done));
  }

 private:
  std::atomic<CompactionService*> target_{nullptr};
};

}  // namespace embers::metastore

#endif  // EMBERS_METASTORE_COMPACTION_SERVICE_H_
