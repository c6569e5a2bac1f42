#include "server/config.h"

#include <tuple>

#include "base/strings.h"

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
  f.Bool("auth.enabled", &auth_enabled,
         "require an API token (Authorization: Bearer, or the Basic password) on every public "
         "request; the token decides the tenant and X-Scope-OrgID may only repeat it");
  f.String("auth.admin-token", &auth_admin_token,
           "secret of the token admin API (/api/v1/auth/tokens); empty: the API is off",
           {.secret = true});
  f.Duration("auth.token-refresh-interval", &auth_token_refresh_interval,
             "how often each process reloads the API tokens from the metastore (a token revoked "
             "through another process stops working here within this time)");
  f.Bool("client-capability.allow-utf8-labelnames", &allow_utf8_label_names,
         "let clients that send `allow-utf8-labelnames=true` in their Accept header push and list "
         "label names outside [a-zA-Z_.][a-zA-Z0-9_.]* (UTF-8 names); other clients never see "
         "such names",
         {.yaml_path = "client_capability.allow_utf_8_label_names"});

  f.String("server.http-listen-address", &http_listen_address, "HTTP server listen address");
  f.Int("server.http-listen-port", &http_listen_port, "HTTP server listen port");
  f.Int("server.http-io-threads", &http_io_threads,
        "threads serving HTTP connections (each serves many connections)");
  f.Int("server.http-handler-threads", &http_handler_threads,
        "threads decoding pushed profiles (the handlers of the push and ingest APIs), so that the "
        "I/O threads only read requests and write responses; 0 runs them on the I/O threads");
  f.Int("server.http-handler-queue-bytes", &http_handler_queue_bytes,
        "request bytes that may wait for a handler thread; beyond it such requests get 429 at "
        "once instead of piling up in memory (0: no bound)");
  f.Int("server.http-max-connections", &http_max_connections,
        "open HTTP connections at most; more are closed as soon as accepted (0: three quarters of "
        "the open-files limit, which embers raises to the hard limit at start)");
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
  f.String("server.internal-grpc-listen-address", &internal_grpc_listen_address,
           "listen address of the internal gRPC services (metastore, segment-writer, "
           "query-backend) that the components of a cluster call; a non-loopback address needs "
           "-server.cluster-secret");
  f.Int("server.internal-grpc-listen-port", &internal_grpc_listen_port,
        "listen port of the internal gRPC services");
  f.String("server.internal-grpc-advertise-address", &internal_grpc_advertise_address,
           "host:port the other processes of a cluster reach this one's internal gRPC services "
           "at, registered in the member table (empty: the listen address, or the host name "
           "when listening on all addresses)");
  f.String("server.cluster-secret", &cluster_secret,
           "secret shared by the processes of a cluster: sent on every internal call and required "
           "of every call to the internal listener (empty: none, allowed on loopback only)",
           {.secret = true});
  for (auto [prefix, tls, what] :
       {std::tuple{"server.http-tls", &http_tls, "the HTTP listener"},
        std::tuple{"server.grpc-tls", &grpc_tls, "the public gRPC listener"}}) {
    f.String(StrCat(prefix, "-cert-path"), &tls->cert_path,
             StrCat("PEM certificate chain ", what, " serves TLS with (empty: cleartext)"));
    f.String(StrCat(prefix, "-key-path"), &tls->key_path, "PEM private key of that certificate");
    f.String(StrCat(prefix, "-ca-path"), &tls->ca_path,
             StrCat("PEM CA bundle client certificates of ", what, " are verified against"));
    f.String(StrCat(prefix, "-client-auth"), &tls->client_auth,
             StrCat("client certificates ", what,
                    " asks for: NoClientCert, VerifyClientCertIfGiven or "
                    "RequireAndVerifyClientCert"));
  }
  f.String("server.internal-grpc-tls-cert-path", &internal_grpc_tls.cert_path,
           "PEM certificate of this process on the internal listener, also presented as its client "
           "certificate when it calls other components; setting it makes internal calls mutual TLS "
           "(empty: cleartext)");
  f.String("server.internal-grpc-tls-key-path", &internal_grpc_tls.key_path,
           "PEM private key of the internal certificate");
  f.String("server.internal-grpc-tls-ca-path", &internal_grpc_tls.ca_path,
           "PEM CA bundle that the certificates of all components chain to (required with "
           "-server.internal-grpc-tls-cert-path)");
  f.Duration("server.tls-reload-interval", &tls_reload_interval,
             "how often certificate, key and CA files are checked for changes and reloaded");
  f.Int("server.grpc-max-recv-msg-size-bytes", &grpc_max_recv_msg_size,
        "largest gRPC message the server accepts");
  f.Int("server.grpc-max-send-msg-size-bytes", &grpc_max_send_msg_size,
        "largest gRPC message the server sends");
  f.Duration("server.graceful-shutdown-timeout", &graceful_shutdown_timeout,
             "time allowed for in-flight requests and modules to finish on SIGTERM/SIGINT");

  f.String("storage.backend", &storage.backend,
           "object storage backend: filesystem, memory, s3 or azure");
  f.String("storage.filesystem.dir", &storage.filesystem_dir,
           "root directory of the filesystem bucket");
  f.String("storage.prefix", &storage.prefix, "prefix prepended to every object key");
  f.String("storage.s3.endpoint", &storage.s3.endpoint,
           "S3 endpoint as host[:port], without a scheme (empty: s3.<region>.amazonaws.com)");
  f.String("storage.s3.bucket-name", &storage.s3.bucket_name, "S3 bucket name");
  f.String("storage.s3.region", &storage.s3.region, "S3 region (SigV4 signs with it)");
  f.String("storage.s3.access-key-id", &storage.s3.access_key_id,
           "S3 access key id (empty: AWS_ACCESS_KEY_ID with AWS_SESSION_TOKEN, else the shared "
           "credentials file AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile "
           "AWS_PROFILE or default)");
  f.String("storage.s3.secret-access-key", &storage.s3.secret_access_key,
           "S3 secret access key (empty: as the access key id)", {.secret = true});
  f.Bool("storage.s3.insecure", &storage.s3.insecure,
         "talk to the S3 endpoint over http:// instead of https://");
  f.Bool("storage.s3.force-path-style", &storage.s3.force_path_style,
         "deprecated: -storage.s3.bucket-lookup-type=path");
  f.String("storage.s3.bucket-lookup-type", &storage.s3.bucket_lookup_type,
           "how objects are addressed: path (endpoint/bucket/key), virtual-hosted "
           "(bucket.endpoint/key) or auto (virtual-hosted on AWS and GCS endpoints, path style on "
           "any other, e.g. MinIO, Ceph, an IP address)");
  f.String("storage.s3.sse.type", &storage.s3.sse_type,
           "server-side encryption of the objects written: SSE-S3 or SSE-KMS (empty: the "
           "bucket's default)");
  f.String("storage.s3.sse.kms-key-id", &storage.s3.sse_kms_key_id,
           "KMS key id for -storage.s3.sse.type=SSE-KMS");
  f.String("storage.s3.sse.kms-encryption-context", &storage.s3.sse_kms_encryption_context,
           "KMS encryption context for SSE-KMS, a JSON object");
  f.Bool("storage.s3.http.insecure-skip-verify", &storage.s3.insecure_skip_verify,
         "do not verify the S3 endpoint's TLS certificate (test endpoints only)");
  f.String("storage.s3.http.tls-ca-path", &storage.s3.tls_ca_path,
           "PEM CA bundle the S3 endpoint's certificate is verified against (empty: the system "
           "CAs)");
  f.Int("storage.s3.part-size", &storage.s3.part_size,
        "files larger than this many bytes are uploaded to S3 in parts of this size (5 MiB to "
        "5 GiB)");
  f.Int("storage.s3.max-connections", &storage.s3.max_connections,
        "concurrent requests to the S3 endpoint at most (more wait for a free connection)");
  f.String("storage.azure.account-name", &storage.azure.account_name, "Azure storage account name");
  f.String("storage.azure.account-key", &storage.azure.account_key,
           "Azure storage account key, base64 (empty: AZURE_STORAGE_KEY)", {.secret = true});
  f.String("storage.azure.connection-string", &storage.azure.connection_string,
           "Azure storage connection string; when set, it gives the account, key (or SAS token: "
           "SharedAccessSignature=…) and blob endpoint and -storage.azure.endpoint-suffix is not "
           "used (the way to reach azurite: BlobEndpoint=http://host:port/devstoreaccount1) "
           "(empty: AZURE_STORAGE_CONNECTION_STRING)",
           {.secret = true});
  f.String("storage.azure.container-name", &storage.azure.container_name,
           "Azure storage container name");
  f.String("storage.azure.endpoint-suffix", &storage.azure.endpoint_suffix,
           "Azure blob endpoint suffix without a scheme; the account name is prefixed to it "
           "(empty: blob.core.windows.net)");
  f.Int("storage.azure.max-retries", &storage.azure.max_retries,
        "retries of a failed Azure request (5xx, 429, timeouts, lost connections)");
  f.Int("storage.azure.part-size", &storage.azure.part_size,
        "files larger than this many bytes are uploaded to Azure as blocks of this size (1 MiB "
        "to 4000 MiB), committed together");
  f.Int("storage.azure.max-connections", &storage.azure.max_connections,
        "concurrent requests to the Azure endpoint at most (more wait for a free connection)");
  f.String("metastore.data-dir", &metastore_data_dir,
           "directory of the metastore's Raft log and snapshots");
  f.Int("metastore.raft.node-id", &metastore_node_id,
        "this metastore node's Raft id (unique in the cluster, > 0)");
  f.String("metastore.raft.bind-address", &metastore_bind_address,
           "address the metastore's Raft transport listens on (host:port)");
  f.String("metastore.raft.advertise-address", &metastore_advertise_address,
           "Raft address other nodes reach this one at (default: the bind address)");
  f.StringList("metastore.raft.bootstrap-peers", &metastore_bootstrap_peers,
               "the initial cluster as id=host:port,… (empty: a single node)");
  f.String("metastore.grpc-advertise-address", &metastore_grpc_advertise_address,
           "gRPC address (host:port) followers send clients to when this node leads (default: "
           "the Raft advertise host with the gRPC listen port)");
  f.Int("metastore.raft.snapshot-threshold", &metastore_snapshot_threshold,
        "take a Raft snapshot about every this many applied log entries (each node at its own "
        "offset, so that replicas take turns)");
  f.Int("metastore.raft.trailing-logs", &metastore_trailing_logs,
        "log entries kept behind a snapshot (for slow followers)");
  f.Duration("metastore.raft.snapshot-interval", &metastore_snapshot_interval,
             "also snapshot when this much time passed since the last one (0: by count only)");
  f.Duration("retention-period", &retention_period,
             "how long profiling data is kept (0: forever); the metastore leader drops older "
             "index entries and tombstones their objects",
             {.yaml_path = "limits.retention_period"});
  f.StringList("retention-period-per-tenant", &retention_period_per_tenant,
               "per-tenant retention overrides as tenant=duration,… (0: forever)");
  f.Duration("metastore.index.cleanup-interval", &metastore_cleanup_interval,
             "how often the metastore leader applies retention (0 disables)");
  f.StringList(
      "metastore.address", &metastore_address,
      "internal gRPC addresses (host:port,…) of metastore nodes, for components of a process that "
      "does not run the metastore; dns+host:port stands for every A/AAAA record of host (empty: "
      "the process runs its own)");
  f.String("membership.instance-id", &membership_instance_id,
           "this process's id in the cluster's member table (empty: its internal gRPC advertise "
           "address); a restart under the same id takes back its slot and shards");
  f.Duration("membership.heartbeat-interval", &membership_heartbeat_interval,
             "how often segment-writers, query-backends and compaction-workers renew their "
             "membership lease with the metastore");
  f.Duration("membership.lease-duration", &membership_lease_duration,
             "a member that sent no heartbeat for this long is marked unhealthy and sent nothing "
             "(read by the metastore leader)");
  f.Duration("membership.forget-after", &membership_forget_after,
             "an unhealthy member is removed from the member table after this long, freeing its "
             "slot (read by the metastore leader)");
  f.Duration("membership.leave-delay", &membership_leave_delay,
             "on shutdown, how long a segment-writer keeps taking pushes after announcing that it "
             "is leaving, so every distributor has stopped sending before it refuses");
  f.Int("adaptive-placement.default-dataset-shards", &adaptive_placement_default_dataset_shards,
        "shards a service's series are spread over until its ingestion calls for more");
  f.Int("adaptive-placement.min-dataset-shards", &adaptive_placement_min_dataset_shards,
        "fewest shards adaptive placement gives a service");
  f.Int("adaptive-placement.max-dataset-shards", &adaptive_placement_max_dataset_shards,
        "most shards adaptive placement gives a service");
  f.Int("adaptive-placement.unit-size-bytes", &adaptive_placement_unit_size_bytes,
        "ingestion (bytes/s of stored data) one shard is meant to take: a service above it is "
        "spread over more shards");
  f.Duration("adaptive-placement.rules-update-interval", &adaptive_placement_rules_update_interval,
             "how often the metastore leader recomputes the placement rules (0 disables adaptive "
             "placement)");
  f.Duration("adaptive-placement.stats-window", &adaptive_placement_stats_window,
             "half-life of the ingestion rates adaptive placement works from");
  f.Duration("adaptive-placement.burst-window", &adaptive_placement_burst_window,
             "scale-outs of a service within this window of the previous one take bigger steps");
  f.Duration("adaptive-placement.decay-window", &adaptive_placement_decay_window,
             "a service's shard count shrinks only after its load stayed low for this long");
  f.Duration("metastore.index.dlq-recovery-check-interval", &dlq_recovery_interval,
             "how often the metastore leader re-indexes metadata parked in dlq/");

  f.StringList("compaction.batch-max-blocks", &compaction_batch_max_blocks,
               "blocks of levels 0,1,2 that make a compaction job (per tenant, shard and 6 h "
               "partition)");
  f.StringList("compaction.batch-max-age", &compaction_batch_max_age,
               "how long the oldest block of levels 0,1,2 waits before a smaller job is made");
  f.StringList("compaction.batch-max-bytes", &compaction_batch_max_bytes,
               "bytes of levels 0,1,2 that make a compaction job even with fewer blocks");
  f.Duration("compaction.job-lease-duration", &compaction_job_lease_duration,
             "a compaction job is reassigned when its worker has not renewed it for this long");
  f.Int("compaction.max-failures", &compaction_max_failures,
        "failures (reported, or an expired lease) after which a compaction job is parked");
  f.Int("compaction.max-job-queue-size", &compaction_max_job_queue_size,
        "most compaction jobs (queued, running, parked) the metastore keeps");
  f.Duration("compaction.cleanup-delay", &compaction_cleanup_delay,
             "how long objects replaced by compaction or expired by retention stay before "
             "compaction-workers delete them (queries planned earlier still read them)");
  f.Int("compaction-worker.job-concurrency", &compaction_worker_job_concurrency,
        "compaction jobs a worker runs at once");
  f.Duration("compaction-worker.job-poll-interval", &compaction_worker_poll_interval,
             "how often a compaction-worker asks the metastore for jobs");
  f.String("compaction-worker.temp-dir", &compaction_worker_temp_dir,
           "scratch directory for compaction output too large for memory (emptied at start)");
  f.Int("compaction.memory-limit", &compaction_memory_limit,
        "memory one compaction job may hold (sources streamed, output spilled to the temp dir "
        "beyond it; a job whose symbols alone exceed it fails and is parked)");
  f.Int("compaction.zstd-level", &compaction_zstd_level,
        "zstd level of compacted blocks (segments use 1)");
  f.Int("compaction-worker.cleanup-capacity", &compaction_worker_cleanup_capacity,
        "tombstones (objects to delete) a worker takes per poll");

  f.Duration("segment-writer.segment-duration", &segment_duration,
             "how long a segment collects profiles before it is written as one object per shard");
  f.Int("segment-writer.num-tokens", &segment_writer_num_tokens,
        "shards owned by each segment-writer");
  f.Int("segment-writer.flush-concurrency", &segment_writer_flush_workers,
        "segments flushed in parallel");
  f.Int("segment-writer.upload-max-retries", &segment_writer_upload_max_retries,
        "retries of a failed segment upload before its pushes fail");
  f.Duration("segment-writer.upload-timeout", &segment_writer_upload_timeout,
             "time allowed for one segment upload round (with its hedge)");
  f.Duration("segment-writer.upload-hedge-after", &segment_writer_upload_hedge_after,
             "start a second, hedged upload when the first takes longer than this (0 disables)");
  f.Duration("segment-writer.metadata-update-timeout", &segment_writer_metadata_update_timeout,
             "how long registering a flushed object in the metastore may take before its "
             "metadata is parked in dlq/");
  f.Bool("segment-writer.metadata-dlq-enabled", &segment_writer_metadata_dlq_enabled,
         "park segment metadata in dlq/ when the metastore is unavailable instead of failing");
  f.Double("distributor.ingestion-rate-limit-mb", &ingestion_rate_limit_mb,
           "per-tenant ingestion rate limit in MB/s of uncompressed profiles (0 disables)",
           {.yaml_path = "limits.ingestion_rate_mb"});
  f.Double("distributor.ingestion-burst-size-mb", &ingestion_burst_size_mb,
           "per-tenant ingestion burst size in MB",
           {.yaml_path = "limits.ingestion_burst_size_mb"});
  f.StringList("distributor.segment-writer-addresses", &distributor_segment_writer_addresses,
               "internal gRPC addresses (host:port,…) of the segment-writers, each owning "
               "-segment-writer.num-tokens shards (empty: the process's own segment-writer, or "
               "those registered in the cluster when the process runs none)");
  f.Int("distributor.max-inflight-push-bytes", &max_inflight_push_bytes,
        "uncompressed bytes of pushes waiting to be stored beyond which new pushes get 429 "
        "(0 disables)");
  f.Int("distributor.max-push-decompressed-bytes", &max_push_decompressed_bytes,
        "decompressed bytes of all profiles of one push together beyond which the push gets 413 "
        "(each profile is also bounded by -validation.max-profile-size-bytes; 0 disables)");
  f.Int("adhoc-profiles.max-per-tenant", &adhoc_profiles_max_per_tenant,
        "ad hoc profiles (adhocprofiles.v1 Upload) a tenant may keep; more uploads get 429");
  f.Int("validation.max-profile-size-bytes", &max_profile_size_bytes,
        "largest decompressed profile accepted (413 beyond)",
        {.yaml_path = "limits.max_profile_size_bytes"});
  f.Int("validation.max-profile-stacktrace-samples", &max_profile_samples,
        "most samples accepted in one profile",
        {.yaml_path = "limits.max_profile_stacktrace_samples"});
  f.Int("validation.max-profile-stacktrace-depth", &max_profile_stack_depth,
        "deeper stacks are truncated to this many frames",
        {.yaml_path = "limits.max_profile_stacktrace_depth"});
  f.Int("validation.max-profile-symbol-value-length", &max_profile_symbol_value_length,
        "longer symbol names are truncated",
        {.yaml_path = "limits.max_profile_symbol_value_length"});
  f.Duration("validation.reject-older-than", &reject_older_than,
             "reject profiles older than this (0 disables)",
             {.yaml_path = "limits.reject_older_than"});
  f.Duration("validation.reject-newer-than", &reject_newer_than,
             "reject profiles further in the future than this (0 disables)",
             {.yaml_path = "limits.reject_newer_than"});

  f.Duration("querier.max-query-length", &querier_max_query_length,
             "longest time range one query may cover (0 = unlimited)",
             {.yaml_path = "limits.max_query_length"});
  f.Duration("querier.max-query-lookback", &querier_max_query_lookback,
             "how far back queries may reach; older starts are moved up (0 = unlimited)",
             {.yaml_path = "limits.max_query_lookback"});
  f.Int("querier.max-flamegraph-nodes-default", &querier_max_flamegraph_nodes_default,
        "flame graph nodes returned when a query does not set max_nodes",
        {.yaml_path = "limits.max_flamegraph_nodes_default"});
  f.Int("querier.max-flamegraph-nodes-max", &querier_max_flamegraph_nodes_max,
        "largest max_nodes a query may ask for (0 = unlimited)",
        {.yaml_path = "limits.max_flamegraph_nodes_max"});
  f.Int("query-backend.max-query-memory", &query_backend_max_query_memory,
        "bytes the reports of one query may hold; larger queries fail with 429 (0 = unlimited)");
  f.Int("query-backend.concurrency", &query_backend_threads,
        "threads reading objects for queries (0: 2 on a local filesystem, 8 on S3 or Azure, where "
        "a thread mostly waits for the store's answers)");
  f.Int("query-backend.read-cache-bytes", &query_backend_read_cache_bytes,
        "bytes of object sections (footers, series, symbols, profile chunks) queries keep in "
        "memory for the next query; what S3 or Azure would otherwise be asked for again (0: no "
        "cache)");
  f.Int("query-backend.read-cache-max-entry-bytes", &query_backend_read_cache_max_entry_bytes,
        "larger reads bypass the read cache");
  f.Duration("query-backend.hedged-reads-after", &query_backend_hedged_reads_after,
             "on S3 and Azure, a read of the query path unanswered after this is sent again and "
             "the first answer used (0: never)");
  f.StringList(
      "query-backend.address", &query_backend_address,
      "internal gRPC addresses (host:port,…) of query-backends the query-frontend sends plans to "
      "(empty: it reads objects itself)");
  f.Duration("query-backend.client-timeout", &query_backend_client_timeout,
             "deadline of one plan share sent to a query-backend");
}

}  // namespace embers::server
