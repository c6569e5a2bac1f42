// The wire form of query reads and reports between a query-frontend and remote query-backends
// (querybackend.v1.QueryBackendService, see remote_query_backend.h).
//
// ReadQuery ↔ InvokeRequest and QueryReport ↔ InvokeResponse, losslessly: a report merged from
// remote answers equals the one an in-process backend builds. Decoding validates every index
// (a reply is still bytes from another process) and fails with DataLoss naming what is wrong.
#ifndef EMBERS_QUERY_REPORT_CODEC_H_
#define EMBERS_QUERY_REPORT_CODEC_H_

#include <vector>

#include "absl/status/statusor.h"
#include "query/query_backend.h"
#include "querybackend/v1/query_backend.pb.h"

namespace embers::query {

void EncodeReadQuery(const ReadQuery& query, querybackend::v1::InvokeRequest* out);
// InvalidArgument for a malformed selector or kind.
absl::StatusOr<ReadQuery> DecodeReadQuery(const querybackend::v1::InvokeRequest& in);

void EncodeReport(const QueryReport& report, querybackend::v1::InvokeResponse* out);
absl::StatusOr<QueryReport> DecodeReport(const querybackend::v1::InvokeResponse& in);

}  // namespace embers::query

#endif  // EMBERS_QUERY_REPORT_CODEC_H_
