// App: one `embers` process — the configured modules, the HTTP and gRPC servers they share, and
// the process-wide endpoints (/ready, /metrics, /config).
//
// main() builds an App from the parsed Config, calls Start(), waits for SIGTERM/SIGINT and calls
// Stop(). Integration tests do the same in-process with port 0.
#ifndef EMBERS_SERVER_APP_H_
#define EMBERS_SERVER_APP_H_

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/service_type.h>

#include <atomic>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "compactor/compaction_worker.h"
#include "distributor/distributor.h"
#include "metastore/compaction_service.h"
#include "metastore/index/block_index.h"
#include "metastore/index_service.h"
#include "metastore/raft/metastore_node.h"
#include "objstore/bucket.h"
#include "objstore/hedged_read_bucket.h"
#include "objstore/read_cache_bucket.h"
#include "query/query_frontend.h"
#include "segmentwriter/segment_writer.h"
#include "server/config.h"
#include "server/http_router.h"
#include "server/http_server.h"
#include "server/module_manager.h"
#include "server/process_services.h"
#include "server/rpc_adapters.h"
#include "server/tenant.h"

namespace embers::server {

class App {
 public:
  // `info` is what the process services report (process_services.h); its config_yaml is also
  // what GET /config shows.
  App(Config config, ProcessInfo info);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Starts the modules of -target. May wait (for the bucket to open) until RequestShutdown();
  // returns Cancelled then.
  absl::Status Start();
  void Stop();
  // A shutdown signal arrived: wakes Start() if it waits, and WaitForShutdownRequest().
  void RequestShutdown() { shutdown_requested_.Notify(); }
  void WaitForShutdownRequest() { shutdown_requested_.WaitForNotification(); }
  bool ShutdownRequested() const { return shutdown_requested_.HasBeenNotified(); }

  int http_port() const;
  int grpc_port() const { return grpc_port_; }
  int internal_grpc_port() const { return internal_grpc_port_; }

 private:
  friend class ServerModule;
  friend class StorageModule;
  friend class MetastoreModule;
  friend class MetastoreClientModule;
  friend class QueryFrontendModule;
  friend class QueryBackendModule;
  friend class SegmentWriterModule;
  friend class DistributorModule;
  friend class CompactionWorkerModule;
  friend class AuthModule;

  void RegisterModules();
  void RegisterProcessRoutes();
  absl::Status StartServers();
  // The query-backend reading this process's bucket (through the read cache, shared by the
  // query-frontend's and the query-backend module's backends).
  std::shared_ptr<query::QueryBackend> NewQueryBackend();
  void StopServers(absl::Time deadline);
  // Builds and starts one gRPC server on address:port (0: any free port, reported in
  // *bound_port).
  absl::Status StartGrpcServer(const std::string& address, int port,
                               std::shared_ptr<grpc::ServerCredentials> credentials,
                               const std::vector<std::unique_ptr<grpc::Service>>& services,
                               std::unique_ptr<grpc::Server>* server, int* bound_port);

  // Checks the -server.*-tls-* flags and builds the internal clients' credentials.
  absl::Status LoadTlsSettings();

  Config config_;
  ProcessInfo info_;
  TenantResolver tenants_;
  // The tenant rule of the internal services: X-Scope-OrgID as sent by the component that calls
  // (never a user's API token).
  TenantResolver internal_tenants_;
  RpcEnvironment rpc_env_;
  // The environment of the internal services: rpc_env_ plus the cluster secret every call must
  // carry.
  RpcEnvironment internal_env_;
  TlsClientAuth http_tls_auth_ = TlsClientAuth::kNoClientCert;
  TlsClientAuth grpc_tls_auth_ = TlsClientAuth::kNoClientCert;
  // Mutual TLS for calls to other components (-server.internal-grpc-tls-*); null: cleartext.
  std::shared_ptr<grpc::ChannelCredentials> internal_channel_credentials_;
  // The process services describe the process, not a tenant's data: no X-Scope-OrgID needed.
  TenantResolver process_tenants_{false};
  RpcEnvironment process_env_;
  HttpRouter router_;
  ModuleManager modules_;
  absl::Notification shutdown_requested_;

  std::unique_ptr<HttpServer> http_server_;
  // Public services (push, querier, OTLP, settings, ad hoc profiles) on -server.grpc-listen-*;
  // the services components call one another through (metastore, segment-writer, query-backend)
  // on -server.internal-grpc-listen-*, never on the public port.
  std::vector<std::unique_ptr<grpc::Service>> grpc_services_;
  std::unique_ptr<grpc::Server> grpc_server_;
  int grpc_port_ = 0;
  std::vector<std::unique_ptr<grpc::Service>> internal_grpc_services_;
  std::unique_ptr<grpc::Server> internal_grpc_server_;
  int internal_grpc_port_ = 0;

  // Components, created by their modules. Pointers other threads read while the process starts
  // are atomic; the rest are set before the servers accept traffic for them.
  std::unique_ptr<objstore::Bucket> bucket_;
  // The query path's view of the bucket: hedged reads (object stores), then the read cache.
  std::unique_ptr<objstore::HedgedReadBucket> query_hedged_reads_;  // null: not hedged
  std::unique_ptr<objstore::ReadCacheBucket> query_read_cache_;     // null: no cache
  // The IndexService components use (a proxy set by the metastore-client module), and this
  // process's metastore node while it runs (read by the metastore's gRPC services and routes).
  std::unique_ptr<metastore::IndexService> index_service_;
  // The CompactionService workers poll, set by the metastore-client module like index_service_.
  metastore::CompactionServiceProxy compaction_service_;
  std::atomic<metastore::MetastoreNode*> metastore_node_{nullptr};
  // Cluster membership (cluster_membership.h): true when the process reaches the metastore over
  // -metastore.address and runs none itself; then its segment-writer, query-backend and
  // compaction-worker register, and a distributor (query-frontend) without a static list and
  // without a segment-writer (query-backend) of its own discovers them. `membership_` is set by
  // the metastore-client module's Start.
  bool cluster_member_ = false;
  metastore::MembershipService* membership_ = nullptr;
  // -target names the component (or all).
  bool RunsComponent(std::string_view name) const;
  bool DiscoversSegmentWriters() const;
  bool DiscoversQueryBackends() const;
  std::unique_ptr<segmentwriter::SegmentWriter> segment_writer_;
  std::atomic<segmentwriter::SegmentWriter*> segment_writer_ptr_{
      nullptr};  // read by its gRPC service
  // What the distributor stores through: the in-process writer or remote ones.
  std::shared_ptr<segmentwriter::SegmentWriterClient> segment_writer_client_;
  std::unique_ptr<distributor::Distributor> distributor_;
  std::atomic<distributor::Distributor*> distributor_ptr_{nullptr};
  std::unique_ptr<query::QueryFrontend> query_frontend_;
  // -auth.enabled: checks the public requests' API tokens (set while the auth module runs).
  std::unique_ptr<TokenAuthenticator> authenticator_;
  std::atomic<TokenAuthenticator*> authenticator_ptr_{nullptr};
};

}  // namespace embers::server

#endif  // EMBERS_SERVER_APP_H_
