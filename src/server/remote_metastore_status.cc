#include "server/remote_metastore_status.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/time/clock.h"
#include "base/call_context.h"
#include "base/strings.h"
#include "metastore/client/metastore_client.h"
#include "metastore/raft/node_status_json.h"
#include "server/cluster_membership.h"

namespace embers::server {
namespace {

namespace v1 = ::metastore::v1;

// A status page must answer even when the metastore does not: a short deadline, then 503.
constexpr absl::Duration kStatusTimeout = absl::Seconds(5);

CallContext StatusCall() {
  CallContext ctx;
  ctx.tenant = "anonymous";
  ctx.deadline = absl::Now() + kStatusTimeout;
  return ctx;
}

HttpResponse Unavailable(const absl::Status& status) {
  return HttpResponse::Text(503, StrCat("no metastore answered: ", status.message()));
}

}  // namespace

void RegisterRemoteMetastoreStatusRoutes(HttpRouter& router,
                                         std::function<metastore::MetastoreClient*()> client) {
  router.Handle("GET", "/metastore/status", [client](HttpRequest&, HttpResponder responder) {
    metastore::MetastoreClient* c = client();
    if (c == nullptr) return responder.Send(HttpResponse::Text(503, "no metastore client yet"));
    // The requests live as long as the calls (the client retries with them).
    struct Call {
      v1::GetCompactionStatusRequest compaction_request;
      v1::GetCompactionStatusResponse compaction;
      v1::NodeInfoResponse node;
    };
    auto call = std::make_shared<Call>();
    // Any call teaches the client a node to ask (leader_hint); NodeInfo is then asked of that
    // node and, when it is a follower that knows the leader, of the leader.
    c->GetCompactionStatus(
        StatusCall(), call->compaction_request, &call->compaction,
        [c, call, responder](absl::Status status) {
          if (!status.ok()) return responder.Send(Unavailable(status));
          auto send = [call, responder](absl::Status status) {
            if (!status.ok()) return responder.Send(Unavailable(status));
            responder.Send(HttpResponse::Json(
                200, metastore::NodeStatusJson(call->node, call->compaction.status())));
          };
          c->NodeInfo(c->leader_hint(), kStatusTimeout, &call->node,
                      [c, call, send](absl::Status status) {
                        const std::string leader = call->node.leader_grpc_address();
                        if (!status.ok() || call->node.state() == "leader" || leader.empty() ||
                            leader == call->node.grpc_address()) {
                          return send(status);
                        }
                        c->NodeInfo(leader, kStatusTimeout, &call->node, send);
                      });
        });
  });
  router.Handle("GET", "/cluster/status", [client](HttpRequest&, HttpResponder responder) {
    metastore::MetastoreClient* c = client();
    if (c == nullptr) return responder.Send(HttpResponse::Text(503, "no metastore client yet"));
    struct Call {
      v1::WatchClusterRequest request;  // version 0, no wait: the current view at once
      v1::ClusterView view;
    };
    auto call = std::make_shared<Call>();
    c->WatchCluster(
        StatusCall(), call->request, &call->view, [call, responder](absl::Status status) {
          if (!status.ok()) return responder.Send(Unavailable(status));
          responder.Send(HttpResponse::Json(
              200, StrCat("{\"cluster\":", ClusterViewJson(call->view), ",\"placement\":null}")));
        });
  });
}

}  // namespace embers::server
