// QueryFrontend: the public query API (querier.v1.QuerierService) of the read path.
//
// It parses selectors, asks the metastore which objects hold matching data and hands plans to a
// query-backend (DESIGN §7). Its methods have the transport-independent shape of
// base/call_context.h; src/server serves them over Connect and gRPC.
//
// Built so far: ProfileTypes, answered from the metastore index alone (no object is read). The
// other QuerierService methods answer Unimplemented until the query-path issue lands.
#ifndef EMBERS_QUERY_QUERY_FRONTEND_H_
#define EMBERS_QUERY_QUERY_FRONTEND_H_

#include "absl/time/time.h"
#include "base/call_context.h"
#include "metastore/index_service.h"
#include "querier/v1/querier.pb.h"

namespace embers::query {

struct QueryFrontendOptions {
  // The window ProfileTypes looks at when the request gives neither start nor end.
  absl::Duration default_lookback = absl::Hours(24);
};

class QueryFrontend {
 public:
  QueryFrontend(QueryFrontendOptions options, metastore::IndexService* metastore)
      : options_(options), metastore_(metastore) {}

  void ProfileTypes(const CallContext& ctx, const querier::v1::ProfileTypesRequest& request,
                    querier::v1::ProfileTypesResponse* response, UnaryDone done);

 private:
  QueryFrontendOptions options_;
  metastore::IndexService* metastore_;
};

}  // namespace embers::query

#endif  // EMBERS_QUERY_QUERY_FRONTEND_H_
