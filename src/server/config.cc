#include "server/config.h"

namespace embers::server {

void Config::RegisterFlags(FlagSet& f) {
  f.StringList("target", &target,
               "comma-separated components to run: all, distributor, segment-writer, metastore, "
               "compaction-worker, query-frontend, query-backend");
  f.String("log.level", &log_level,
           "only log messages with the given severity or above: debug, "
           "info, warn, error");
  f.Bool("auth.multitenancy-enabled", &multitenancy_enabled,
         "require the X-Scope-OrgID header; when false every request is tenant \"anonymous\"",
         {.yaml_path = "multitenancy_enabled"});

  f.String("server.http-listen-address", &http_listen_address, "HTTP server listen address");
  f.Int("server.http-listen-port", &http_listen_port, "HTTP server listen port");
  f.Int("server.http-io-threads", &http_io_threads,
        "threads serving HTTP connections (each serves many connections)");
  f.Int("server.http-max-request-body-bytes", &http_max_request_body_bytes,
        "largest accepted HTTP request body, before and after decompression (413 beyond)");
  f.Duration("server.http-server-read-timeout", &http_read_timeout,
             "time allowed to read a request body once its headers arrived");
  f.Duration("server.http-server-write-timeout", &http_write_timeout,
             "time allowed to write a response");
  f.Duration("server.http-server-idle-timeout", &http_idle_timeout,
             "how long an idle keep-alive connection is kept open");
  f.String("server.grpc-listen-address", &grpc_listen_address, "gRPC server listen address");
  f.Int("server.grpc-listen-port", &grpc_listen_port, "gRPC server listen port");
  f.Int("server.grpc-max-recv-msg-size-bytes", &grpc_max_recv_msg_size,
        "largest gRPC message the server accepts");
  f.Int("server.grpc-max-send-msg-size-bytes", &grpc_max_send_msg_size,
        "largest gRPC message the server sends");
  f.Duration("server.graceful-shutdown-timeout", &graceful_shutdown_timeout,
             "time allowed for in-flight requests and modules to finish on SIGTERM/SIGINT");

  f.String("storage.backend", &storage.backend, "object storage backend: filesystem or memory");
  f.String("storage.filesystem.dir", &storage.filesystem_dir,
           "root directory of the filesystem bucket");
  f.String("storage.prefix", &storage.prefix, "prefix prepended to every object key");
  f.String("metastore.data-dir", &metastore_data_dir,
           "directory of the metastore's Raft log and snapshots");
}

}  // namespace embers::server
