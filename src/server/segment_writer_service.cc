#include "server/segment_writer_service.h"

#include "base/strings.h"
#include "segmentwriter/remote_segment_writers.h"

namespace embers::server {
namespace {

namespace swv1 = ::segmentwriter::v1;

class SegmentWriterGrpcService final : public swv1::SegmentWriterService::CallbackService {
 public:
  SegmentWriterGrpcService(const std::atomic<segmentwriter::SegmentWriter*>* writer,
                           const RpcEnvironment* env)
      : push_(
            "/segmentwriter.v1.SegmentWriterService/Push",
            [writer](const CallContext& ctx, const swv1::PushRequest& req, swv1::PushResponse*,
                     UnaryDone done) {
              segmentwriter::SegmentWriter* w = writer->load();
              if (w == nullptr) return done(absl::UnavailableError("segment-writer not running"));
              if (req.tenant_id() != ctx.tenant) {
                return done(absl::PermissionDeniedError(
                    StrCat("push for tenant ", req.tenant_id(), " sent by tenant ", ctx.tenant)));
              }
              absl::StatusOr<std::vector<segmentwriter::ProfileToWrite>> profiles =
                  segmentwriter::DecodePush(req);
              if (!profiles.ok()) return done(profiles.status());
              w->Push(req.tenant_id(), req.shard(), std::move(*profiles), std::move(done));
            },
            env) {}

  grpc::ServerUnaryReactor* Push(grpc::CallbackServerContext* context,
                                 const swv1::PushRequest* request,
                                 swv1::PushResponse* response) override {
    return push_(context, request, response);
  }

 private:
  GrpcUnary<swv1::PushRequest, swv1::PushResponse> push_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewSegmentWriterGrpcService(
    const std::atomic<segmentwriter::SegmentWriter*>* writer, const RpcEnvironment* env) {
  return std::make_unique<SegmentWriterGrpcService>(writer, env);
}

}  // namespace embers::server
