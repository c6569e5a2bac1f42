// AwaitMetastore: runs one asynchronous MetastoreClient call and waits for it, for the CLI's
// commands, which do one thing at a time on the main thread (`admin`, `bucket verify`).
//
//   const v1::GetTenantsRequest request;
//   v1::GetTenantsResponse tenants;
//   EMBERS_RETURN_IF_ERROR(AwaitMetastore([&](UnaryDone done) {
//     client->GetTenants(ctx, request, &tenants, std::move(done));
//   }));
//
// The client keeps a reference to the request for its retries (a follower's redirect to the
// leader, a timed-out attempt): declare it outside the lambda, never as a temporary `{}` there.
#ifndef EMBERS_CMD_CLI_METASTORE_CALL_H_
#define EMBERS_CMD_CLI_METASTORE_CALL_H_

#include <future>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "base/call_context.h"

namespace embers::cli {

template <class StartCall>
absl::Status AwaitMetastore(StartCall&& start) {
  auto promise = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> result = promise->get_future();
  start(UnaryDone([promise](absl::Status status) { promise->set_value(std::move(status)); }));
  return result.get();
}

}  // namespace embers::cli

#endif  // EMBERS_CMD_CLI_METASTORE_CALL_H_
