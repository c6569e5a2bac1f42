// GET /metastore/status and /cluster/status on a process that runs no metastore but reaches one
// (-metastore.address: a cluster's query-frontend, distributor, ...). They answer what a
// metastore node answers — the leader's NodeInfo and compaction status as NodeStatusJson, the
// cluster view as ClusterViewJson — through the process's metastore client, so the web UI's
// Status view served by a query-frontend shows the cluster too. The per-dataset ingestion
// statistics that only the leader keeps in memory are not included ("placement": null).
#ifndef EMBERS_SERVER_REMOTE_METASTORE_STATUS_H_
#define EMBERS_SERVER_REMOTE_METASTORE_STATUS_H_

#include <functional>

#include "server/http_router.h"

namespace embers::metastore {
class MetastoreClient;
}

namespace embers::server {

// `client` is asked on each request (null until the client module has started: 503).
void RegisterRemoteMetastoreStatusRoutes(HttpRouter& router,
                                         std::function<metastore::MetastoreClient*()> client);

}  // namespace embers::server

#endif  // EMBERS_SERVER_REMOTE_METASTORE_STATUS_H_
