#include "query/query_frontend.h"
#include "base/strings.h"

namespace embers::query {

void QueryFrontend::ProfileTypes(const CallContext& /*ctx*/,
                                 const querier::v1::ProfileTypesRequest& request,
                                 querier::v1::ProfileTypesResponse* response, UnaryDone done) {
  if (request.start() != 0 && request.end() != 0 && request.end() < request.start()) {
    done(absl::InvalidArgumentError(
        StrCat("end (", request.end(), ") is before start (", request.start(), ")")));
    return;
  }
  // Nothing can be stored before the write path exists, so there are no profile types to list.
  response->clear_profile_types();
  done(absl::OkStatus());
}

}  // namespace embers::query
