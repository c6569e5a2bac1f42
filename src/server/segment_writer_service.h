// Serves this process's SegmentWriter as segmentwriter.v1.SegmentWriterService on the gRPC port,
// for distributors in other processes (segmentwriter/remote_segment_writers.h). A Push completes
// when the segment holding its profiles is durable, exactly as an in-process push does. The
// request's tenant must be the caller's (X-Scope-OrgID).
#ifndef EMBERS_SERVER_SEGMENT_WRITER_SERVICE_H_
#define EMBERS_SERVER_SEGMENT_WRITER_SERVICE_H_

#include <atomic>
#include <memory>

#include <grpcpp/grpcpp.h>

#include "segmentwriter/segment_writer.h"
#include "server/rpc_adapters.h"

namespace embers::server {

// `writer` is null until the segment-writer module started (calls answer Unavailable).
std::unique_ptr<grpc::Service> NewSegmentWriterGrpcService(
    const std::atomic<segmentwriter::SegmentWriter*>* writer, const RpcEnvironment* env);

}  // namespace embers::server

#endif  // EMBERS_SERVER_SEGMENT_WRITER_SERVICE_H_
