// QueryFrontend: the public query API (querier.v1.QuerierService) of the read path.
//
// It parses selectors, asks the metastore which objects hold matching data and hands plans to a
// query-backend (DESIGN §7). Its methods have the transport-independent shape of
// base/call_context.h; src/server serves them over Connect and gRPC.
//
// State of the build: the write path (issue 4) and the metastore index (issue 5) do not exist yet,
// so no profile can be stored and ProfileTypes truthfully answers with an empty list. The other
// QuerierService methods answer Unimplemented until the query-path issue lands.
#ifndef EMBERS_QUERY_QUERY_FRONTEND_H_
#define EMBERS_QUERY_QUERY_FRONTEND_H_

#include "base/call_context.h"
#include "querier/v1/querier.pb.h"

namespace embers::query {

class QueryFrontend {
 public:
  QueryFrontend() = default;

  void ProfileTypes(const CallContext& ctx, const querier::v1::ProfileTypesRequest& request,
                    querier::v1::ProfileTypesResponse* response, UnaryDone done);
};

}  // namespace embers::query

#endif  // EMBERS_QUERY_QUERY_FRONTEND_H_
