// CallContext and UnaryDone: how a service method learns who called it and reports its result.
//
// Services (query-frontend, distributor, metastore, …) implement their methods as
//   void Method(const CallContext&, const Req&, Resp*, UnaryDone done)
// and may call `done` later from any thread: that is how a push waits for a segment flush without
// holding a thread. The Connect and gRPC adapters in src/server translate transport requests to
// this shape, so a method is written once and served by both.
#ifndef EMBERS_BASE_CALL_CONTEXT_H_
#define EMBERS_BASE_CALL_CONTEXT_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace embers {

struct CallContext {
  // The tenant (X-Scope-OrgID, or "anonymous" with multi-tenancy off). Never empty.
  std::string tenant;
  // The caller's deadline, when it sent one.
  absl::Time deadline = absl::InfiniteFuture();
  // The client sent `allow-utf8-labelnames=true` in its Accept header and the server allows it
  // (-client-capability.allow-utf8-labelnames): label names outside the legacy charset may be
  // pushed, and are shown by LabelNames/Series. Without it they are refused and hidden, as
  // upstream.
  bool allow_utf8_label_names = false;
};

// Completes a call exactly once. The request and response objects stay alive until it is called.
using UnaryDone = std::function<void(absl::Status)>;

}  // namespace embers

#endif  // EMBERS_BASE_CALL_CONTEXT_H_
