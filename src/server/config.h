// Config: every setting of the `embers` process, with Pyroscope's flag names where Pyroscope has
// the setting. RegisterFlags() binds each field to the FlagSet (flags, YAML, /config, -help).
#ifndef EMBERS_SERVER_CONFIG_H_
#define EMBERS_SERVER_CONFIG_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "base/flags.h"
#include "objstore/bucket_config.h"
#include "server/tls_config.h"

namespace embers::server {

struct Config {
  std::vector<std::string> target = {"all"};
  std::string log_level = "info";
  bool multitenancy_enabled = false;
  // API tokens (token_authenticator.h): required of every public request when enabled.
  bool auth_enabled = false;
  std::string auth_admin_token;
  absl::Duration auth_token_refresh_interval = absl::Seconds(5);
  bool allow_utf8_label_names = false;

  // HTTP (public API, UI, metrics).
  std::string http_listen_address = "0.0.0.0";
  int http_listen_port = 4040;
  int http_io_threads = 2;
  // One per core: decoding pushes is the write path's main CPU cost.
  int http_handler_threads = static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
  int64_t http_handler_queue_bytes = 256ll << 20;
  int64_t http_max_request_body_bytes = 256ll << 20;
  int64_t http_max_connections = 0;  // 0: three quarters of the open-files limit
  absl::Duration http_read_timeout = absl::Seconds(30);
  absl::Duration http_write_timeout = absl::Seconds(30);
  absl::Duration http_idle_timeout = absl::Seconds(120);

  // gRPC: the public services for gRPC clients.
  std::string grpc_listen_address = "0.0.0.0";
  int grpc_listen_port = 9095;
  // gRPC between components (metastore, segment-writer Push, query-backend Invoke): loopback by
  // default, so a single process exposes none of it; a cluster binds it to a private address and
  // sets the shared secret every call must carry.
  std::string internal_grpc_listen_address = "127.0.0.1";
  int internal_grpc_listen_port = 9096;
  // Where the other processes of a cluster reach this one's internal gRPC server (registered in
  // the member table). Empty: the listen address, or the host name when it listens on all.
  std::string internal_grpc_advertise_address;
  std::string cluster_secret;
  // TLS of each listener (tls_config.h); the internal one is always mutual: its certificate is
  // also the client certificate this process presents to the others.
  TlsConfig http_tls;
  TlsConfig grpc_tls;
  TlsConfig internal_grpc_tls{.client_auth = "RequireAndVerifyClientCert"};
  absl::Duration tls_reload_interval = absl::Minutes(1);
  int64_t grpc_max_recv_msg_size = 100ll << 20;
  int64_t grpc_max_send_msg_size = 100ll << 20;

  absl::Duration graceful_shutdown_timeout = absl::Seconds(30);

  objstore::BucketConfig storage{
      .backend = "filesystem", .filesystem_dir = "./data/bucket", .prefix = ""};
  std::string metastore_data_dir = "./data/metastore";
  absl::Duration dlq_recovery_interval = absl::Seconds(15);
  int metastore_node_id = 1;
  std::string metastore_bind_address = "127.0.0.1:9099";
  std::string metastore_advertise_address;
  std::vector<std::string> metastore_bootstrap_peers;
  std::string metastore_grpc_advertise_address;
  int metastore_snapshot_threshold = 8192;
  int metastore_trailing_logs = 2048;
  absl::Duration metastore_snapshot_interval = absl::Minutes(10);
  // Retention (the metastore leader drops expired index shards).
  absl::Duration retention_period = absl::Hours(24 * 31);
  std::vector<std::string> retention_period_per_tenant;
  absl::Duration metastore_cleanup_interval = absl::Minutes(15);
  // Remote metastore for components of a process that runs none (empty: in-process).
  std::vector<std::string> metastore_address;
  // Cluster membership (metastore/membership): segment-writers, query-backends and
  // compaction-workers of a process with -metastore.address register; distributors and
  // query-frontends without static lists discover them.
  std::string membership_instance_id;
  absl::Duration membership_heartbeat_interval = absl::Seconds(1);
  absl::Duration membership_lease_duration = absl::Seconds(5);
  absl::Duration membership_forget_after = absl::Minutes(10);
  absl::Duration membership_leave_delay = absl::Seconds(1);
  // Adaptive placement (metastore/placement/adaptive_placement.h), read by the metastore leader.
  int adaptive_placement_default_dataset_shards = 1;
  int adaptive_placement_min_dataset_shards = 1;
  int adaptive_placement_max_dataset_shards = 32;
  int64_t adaptive_placement_unit_size_bytes = 128 << 10;
  absl::Duration adaptive_placement_rules_update_interval = absl::Seconds(15);
  absl::Duration adaptive_placement_stats_window = absl::Minutes(3);
  absl::Duration adaptive_placement_burst_window = absl::Minutes(17);
  absl::Duration adaptive_placement_decay_window = absl::Minutes(19);

  // Compaction planning (the metastore leader) and the compaction-worker.
  std::vector<std::string> compaction_batch_max_blocks = {"16", "10", "10"};
  std::vector<std::string> compaction_batch_max_age = {"36s", "12m", "3h"};
  std::vector<std::string> compaction_batch_max_bytes = {"16777216", "536870912", "4294967296"};
  absl::Duration compaction_job_lease_duration = absl::Seconds(15);
  int compaction_max_failures = 3;
  int compaction_max_job_queue_size = 10000;
  absl::Duration compaction_cleanup_delay = absl::Minutes(15);
  int compaction_worker_job_concurrency = 1;
  absl::Duration compaction_worker_poll_interval = absl::Milliseconds(500);
  std::string compaction_worker_temp_dir = "./data/compaction-worker";
  int64_t compaction_memory_limit = 256ll << 20;
  int compaction_zstd_level = 3;
  int compaction_worker_cleanup_capacity = 8;

  // Write path.
  absl::Duration segment_duration = absl::Milliseconds(500);
  int segment_writer_num_tokens = 4;
  // One flush in flight per shard of the default 4 tokens: a flush mostly waits on the upload
  // (fsync) and the metastore commit, so they overlap well even on 2 cores.
  int segment_writer_flush_workers = 4;
  int segment_writer_upload_max_retries = 3;
  absl::Duration segment_writer_upload_timeout = absl::Seconds(2);
  absl::Duration segment_writer_metadata_update_timeout = absl::Seconds(2);
  absl::Duration segment_writer_upload_hedge_after = absl::Milliseconds(500);
  bool segment_writer_metadata_dlq_enabled = true;
  double ingestion_rate_limit_mb = 4;
  double ingestion_burst_size_mb = 2;
  int64_t max_inflight_push_bytes = 256ll << 20;
  int64_t max_push_decompressed_bytes = 64ll << 20;
  int64_t max_profile_size_bytes = 4 << 20;
  int64_t adhoc_profiles_max_per_tenant = 1000;
  int max_profile_samples = 16000;
  int max_profile_stack_depth = 1000;
  int max_profile_symbol_value_length = 65535;
  absl::Duration reject_older_than = absl::Hours(1);
  absl::Duration reject_newer_than = absl::Minutes(10);
  std::vector<std::string> distributor_segment_writer_addresses;

  // Query path (query-frontend / query-backend).
  absl::Duration querier_max_query_length = absl::Hours(24);
  absl::Duration querier_max_query_lookback = absl::Hours(7 * 24);
  int64_t querier_max_flamegraph_nodes_default = 8192;
  int64_t querier_max_flamegraph_nodes_max = 1048576;
  int64_t query_backend_max_query_memory = 1ll << 30;
  int64_t query_backend_threads = 0;  // 0: by backend (App::NewQueryBackend)
  int64_t query_backend_read_cache_bytes = 128ll << 20;
  int64_t query_backend_read_cache_max_entry_bytes = 4ll << 20;
  absl::Duration query_backend_hedged_reads_after = absl::Milliseconds(500);
  std::vector<std::string> query_backend_address;
  absl::Duration query_backend_client_timeout = absl::Seconds(30);

  void RegisterFlags(FlagSet& flags);
};

}  // namespace embers::server

#endif  // EMBERS_SERVER_CONFIG_H_
