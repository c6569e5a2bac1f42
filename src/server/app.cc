#include "server/app.h"
#include "base/open_files_limit.h"
#include "base/strings.h"
#include "server/auth_routes.h"
#include "server/cluster_membership.h"
#include "server/grpc_tls_credentials.h"
#include "server/reloading_tls_context.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "base/logging.h"
#include "base/metrics.h"
#include "base/status.h"
#include "compactor/compaction_job_executor.h"
#include "metastore/client/cluster_watcher.h"
#include "metastore/client/metastore_client.h"
#include "metastore/dlq_pending.h"
#include "metastore/dlq_recovery.h"
#include "metastore/raft/metastore_node.h"
#include "objstore/bucket_config.h"
#include "objstore/filesystem_bucket.h"
#include "objstore/temp_file_sweeper.h"
#include "query/remote_query_backend.h"
#include "segmentwriter/remote_segment_writers.h"
#include "server/adhoc_profiles_service.h"
#include "server/ingest_routes.h"
#include "server/legacy_query_routes.h"
#include "server/metastore_service.h"
#include "server/process_services.h"
#include "server/pusher_service.h"
#include "server/querier_service.h"
#include "server/query_backend_service.h"
#include "server/remote_metastore_status.h"
#include "server/segment_writer_service.h"
#include "server/settings_service.h"
#include "server/ui_routes.h"

namespace embers::server {

// ---- Modules --------------------------------------------------------------------------------
// Each wraps one component's lifecycle. Factories run for every module before any starts, so that
// all routes and gRPC services are registered before the servers bind.

// The HTTP and gRPC servers every other module is reached through.
class ServerModule : public Module {
 public:
  explicit ServerModule(App* app) : app_(app) {}
  absl::Status Start() override {
    absl::Status st = app_->StartServers();
    ready_ = st.ok();
    return st;
  }
  void Stop(absl::Time deadline) override {
    ready_ = false;
    app_->StopServers(deadline);
  }
  bool Ready() const override { return ready_; }

 private:
  App* app_;
  std::atomic<bool> ready_{false};
};

// The object-storage bucket shared by the write path, compaction and queries.
//
// A bucket that cannot be opened (a wrong key, a missing bucket, an unreachable endpoint, a clock
// the store finds skewed) does not end the process: the error is logged once, /ready answers 503
// with it, and opening is retried with a capped backoff until it works or shutdown is requested.
// Orchestrators then see an unready pod that says why, and the process recovers by itself when the
// store comes back. Only a configuration the backend rejects outright (InvalidArgument) stops the
// start.
class StorageModule : public Module {
 public:
  explicit StorageModule(App* app) : app_(app) {}
  absl::Status Start() override {
    absl::StatusOr<std::unique_ptr<objstore::Bucket>> bucket = OpenWithRetries();
    if (!bucket.ok()) return bucket.status();
    app_->bucket_ = std::move(*bucket);
    log::Info("bucket opened", {{"bucket", app_->bucket_->Name()}});
    if (app_->config_.storage.backend == "filesystem") {
      // Temporary files of uploads a crash interrupted: removed once an hour is past them.
      absl::StatusOr<std::unique_ptr<objstore::FilesystemBucket>> fs =
          objstore::FilesystemBucket::Open(app_->config_.storage.filesystem_dir);
      if (!fs.ok()) return fs.status();
      sweep_bucket_ = std::move(*fs);
      sweeper_ = std::make_unique<objstore::TempFileSweeper>(
          sweep_bucket_.get(), std::chrono::hours(1), std::chrono::hours(1),
          std::chrono::minutes(1));
    }
    opened_ = true;
    return absl::OkStatus();
  }
  void Stop(absl::Time) override { sweeper_.reset(); }
  bool Ready() const override { return opened_; }
  std::string NotReadyReason() const override {
    absl::MutexLock lock(&mu_);
    return open_error_;
  }

 private:
  absl::StatusOr<std::unique_ptr<objstore::Bucket>> OpenWithRetries() {
    constexpr absl::Duration kFirstBackoff = absl::Seconds(1);
    constexpr absl::Duration kMaxBackoff = absl::Seconds(30);
    // Repeating the same error is logged at most this often; a new error is logged at once.
    constexpr absl::Duration kRepeatLogInterval = absl::Minutes(5);
    absl::Duration backoff = kFirstBackoff;
    std::string last_logged;
    absl::Time last_logged_at = absl::InfinitePast();
    for (int attempt = 1;; ++attempt) {
      absl::StatusOr<std::unique_ptr<objstore::Bucket>> bucket =
          objstore::OpenBucket(app_->config_.storage);
      if (bucket.ok() || bucket.status().code() == absl::StatusCode::kInvalidArgument) {
        absl::MutexLock lock(&mu_);
        open_error_.clear();
        if (bucket.ok() && attempt > 1) {
          log::Info("the bucket opened after failed attempts", {{"attempts", attempt}});
        }
        return bucket;
      }
      const std::string error = StrCat("cannot open the bucket: ", bucket.status().ToString());
      {
        absl::MutexLock lock(&mu_);
        open_error_ = error;
      }
      if (error != last_logged || absl::Now() - last_logged_at >= kRepeatLogInterval) {
        log::Error("cannot open the bucket; /ready answers 503 until it opens, retrying",
                   {{"error", bucket.status().ToString()},
                    {"attempt", attempt},
                    {"retry_in", absl::FormatDuration(backoff)}});
        last_logged = error;
        last_logged_at = absl::Now();
      }
      if (app_->shutdown_requested_.WaitForNotificationWithTimeout(backoff)) {
        return absl::CancelledError(StrCat("shutdown requested while waiting: ", error));
      }
      backoff = std::min(backoff * 2, kMaxBackoff);
    }
  }

  App* app_;
  mutable absl::Mutex mu_;
  std::string open_error_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> opened_{false};
  std::unique_ptr<objstore::FilesystemBucket> sweep_bucket_;
  std::unique_ptr<objstore::TempFileSweeper> sweeper_;
};

// The leader's compaction planning settings (-compaction.*), checked.
absl::Status CompactionOptionsFromConfig(const Config& c,
                                         metastore::raft::CompactionServiceOptions* o) {
  constexpr size_t kLevels = metastore::kMaxCompactionLevel;
  if (c.compaction_batch_max_blocks.size() != kLevels ||
      c.compaction_batch_max_age.size() != kLevels ||
      c.compaction_batch_max_bytes.size() != kLevels) {
    return absl::InvalidArgumentError(
        StrCat("-compaction.batch-max-blocks, -compaction.batch-max-age and "
               "-compaction.batch-max-bytes take ",
               kLevels, " values, for levels 0 to ", kLevels - 1));
  }
  for (size_t l = 0; l < kLevels; ++l) {
    int64_t blocks = 0;
    if (!ParseInt64(c.compaction_batch_max_blocks[l], &blocks) || blocks < 2 || blocks > 1000) {
      return absl::InvalidArgumentError(StrCat("-compaction.batch-max-blocks: \"",
                                               c.compaction_batch_max_blocks[l],
                                               "\" is not a number from 2 to 1000"));
    }
    o->planner.max_blocks[l] = static_cast<uint32_t>(blocks);
    absl::Duration age;
    if (!ParseGoDuration(c.compaction_batch_max_age[l], &age).ok() || age < absl::ZeroDuration()) {
      return absl::InvalidArgumentError(StrCat(
          "-compaction.batch-max-age: \"", c.compaction_batch_max_age[l], "\" is not a duration"));
    }
    o->planner.max_age[l] = age;
    int64_t bytes = 0;
    if (!ParseInt64(c.compaction_batch_max_bytes[l], &bytes) || bytes < 1) {
      return absl::InvalidArgumentError(StrCat("-compaction.batch-max-bytes: \"",
                                               c.compaction_batch_max_bytes[l],
                                               "\" is not a positive number of bytes"));
    }
    o->planner.max_bytes[l] = static_cast<uint64_t>(bytes);
  }
  if (c.compaction_job_lease_duration < absl::Seconds(1) || c.compaction_max_failures < 1 ||
      c.compaction_max_job_queue_size < 1 || c.compaction_cleanup_delay < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "-compaction.job-lease-duration must be >= 1s, -compaction.max-failures and "
        "-compaction.max-job-queue-size >= 1, -compaction.cleanup-delay >= 0");
  }
  o->planner.lease_duration = c.compaction_job_lease_duration;
  o->planner.max_failures = static_cast<uint32_t>(c.compaction_max_failures);
  o->planner.max_jobs = static_cast<size_t>(c.compaction_max_job_queue_size);
  o->cleanup_delay = c.compaction_cleanup_delay;
  return absl::OkStatus();
}

// The metastore: the replicated block index (Raft log and snapshots under -metastore.data-dir),
// served over gRPC (metastore_service.h) and, in this process, through the metastore-client
// module. A single node by default; a cluster when -metastore.raft.bootstrap-peers lists several.
class MetastoreModule : public Module {
 public:
  explicit MetastoreModule(App* app) : app_(app), internal_tenants_(false) {
    // The metastore's services are internal and carry their tenants in the messages, so the
    // X-Scope-OrgID requirement of the public API does not apply to them.
    rpc_env_ = app_->internal_env_;
    rpc_env_.tenants = &internal_tenants_;
    for (auto& service : NewMetastoreGrpcServices(&app_->metastore_node_, &rpc_env_)) {
      app_->internal_grpc_services_.push_back(std::move(service));
    }
    // Nodes, leader, term, commit/applied index, last snapshot, blocks (issue 5's status page).
    app_->router_.Handle("GET", "/metastore/status", [this](HttpRequest&, HttpResponder responder) {
      metastore::MetastoreNode* node = app_->metastore_node_.load();
      if (node == nullptr) {
        return responder.Send(HttpResponse::Text(503, "the metastore is not running"));
      }
      responder.Send(HttpResponse::Json(200, node->StatusJson()));
    });
    // The member table and placement rules as this node holds them; on the leader with each
    // member's heartbeat age (-1 elsewhere).
    app_->router_.Handle("GET", "/cluster/status", [this](HttpRequest&, HttpResponder responder) {
      metastore::MetastoreNode* node = app_->metastore_node_.load();
      if (node == nullptr) {
        return responder.Send(HttpResponse::Text(503, "the metastore is not running"));
      }
      // The leader's ingestion statistics (per dataset and per shard) beside the table.
      responder.Send(HttpResponse::Json(
          200,
          StrCat("{\"cluster\":", ClusterViewJson(node->replicated_membership()->ViewWithAges()),
                 ",\"placement\":", node->PlacementStatusJson(), "}")));
    });
  }
  absl::Status Start() override {
    const Config& c = app_->config_;
    metastore::MetastoreNodeOptions o;
    o.membership = {.lease = c.membership_lease_duration,
                    .forget_after = c.membership_forget_after};
    o.placement = {
        .default_dataset_shards =
            static_cast<uint32_t>(c.adaptive_placement_default_dataset_shards),
        .min_dataset_shards = static_cast<uint32_t>(c.adaptive_placement_min_dataset_shards),
        .max_dataset_shards = static_cast<uint32_t>(c.adaptive_placement_max_dataset_shards),
        .unit_size_bytes = static_cast<uint64_t>(c.adaptive_placement_unit_size_bytes),
        .stats_window = c.adaptive_placement_stats_window,
        .burst_window = c.adaptive_placement_burst_window,
        .decay_window = c.adaptive_placement_decay_window};
    o.placement_rules_interval = c.adaptive_placement_rules_update_interval;
    if (c.adaptive_placement_min_dataset_shards < 1 ||
        c.adaptive_placement_max_dataset_shards < c.adaptive_placement_min_dataset_shards ||
        c.adaptive_placement_default_dataset_shards < 1 ||
        c.adaptive_placement_max_dataset_shards > 4096 ||
        c.adaptive_placement_unit_size_bytes < 1) {
      return absl::InvalidArgumentError(
          "-adaptive-placement.*: want 1 <= min-dataset-shards <= max-dataset-shards <= 4096, "
          "default-dataset-shards >= 1 and unit-size-bytes >= 1");
    }
    o.data_dir = c.metastore_data_dir;
    o.node_id = static_cast<uint64_t>(c.metastore_node_id);
    o.bind_address = c.metastore_bind_address;
    o.advertise_address = c.metastore_advertise_address;
    if (!c.metastore_bootstrap_peers.empty()) {
      absl::StatusOr<std::vector<metastore::raft::RaftPeer>> peers =
          metastore::raft::ParseRaftPeers(Join(c.metastore_bootstrap_peers, ","));
      if (!peers.ok()) return Annotate(peers.status(), "-metastore.raft.bootstrap-peers");
      o.bootstrap_peers = std::move(*peers);
    }
    o.grpc_advertise_address = c.metastore_grpc_advertise_address;
    if (o.grpc_advertise_address.empty()) {
      // The host other nodes reach this one's Raft transport at, with the internal gRPC port
      // its services are on.
      std::string raft = o.advertise_address.empty() ? o.bind_address : o.advertise_address;
      o.grpc_advertise_address = StrCat(std::string_view(raft).substr(0, raft.rfind(':')), ":",
                                        app_->internal_grpc_port());
    }
    if (c.metastore_snapshot_threshold <= 0 || c.metastore_trailing_logs < 0) {
      return absl::InvalidArgumentError(
          "-metastore.raft.snapshot-threshold must be > 0 and -metastore.raft.trailing-logs >= 0");
    }
    o.raft.snapshot_threshold = static_cast<unsigned>(c.metastore_snapshot_threshold);
    o.raft.snapshot_trailing = static_cast<unsigned>(c.metastore_trailing_logs);
    o.raft.snapshot_interval_ms = static_cast<unsigned>(std::clamp<int64_t>(
        absl::ToInt64Milliseconds(c.metastore_snapshot_interval), 0, UINT32_MAX));
    absl::StatusOr<std::map<std::string, absl::Duration, std::less<>>> overrides =
        metastore::ParseTenantPeriods(c.retention_period_per_tenant);
    if (!overrides.ok()) return Annotate(overrides.status(), "-retention-period-per-tenant");
    if (c.retention_period < absl::ZeroDuration()) {
      return absl::InvalidArgumentError("-retention-period must be >= 0");
    }
    o.retention.default_period = c.retention_period;
    o.retention.tenant_periods = std::move(*overrides);
    o.retention.interval = c.metastore_cleanup_interval;
    if (absl::Status st = CompactionOptionsFromConfig(c, &o.compaction); !st.ok()) return st;
    o.raft.on_failed = [](const std::string& why) {
      // Raft cannot continue (I/O failure, the unavailable state): exit so the orchestrator
      // restarts the process; the log on disk is the state.
      log::Error("metastore consensus failed; exiting", {{"reason", why}});
      std::_Exit(1);
    };
    absl::StatusOr<std::unique_ptr<metastore::MetastoreNode>> node =
        metastore::MetastoreNode::Open(std::move(o));
    if (!node.ok()) return node.status();
    node_ = std::move(*node);
    app_->metastore_node_.store(node_.get());
    // Single node: wait for its own election so the first pushes do not bounce.
    if (c.metastore_bootstrap_peers.size() <= 1) {
      if (absl::Status st = node_->WaitReady(absl::Seconds(10)); !st.ok()) {
        log::Warn("metastore not ready yet", {{"error", st}});
      }
    }
    // Leader-only: followers skip their passes (their adds would be refused anyway).
    metastore::MetastoreNode* n = node_.get();
    dlq_ = std::make_unique<metastore::DlqRecovery>(app_->bucket_.get(), node_->index_service(),
                                                    c.dlq_recovery_interval,
                                                    [n] { return n->IsReadyLeader(); });
    node_->SetDlqParkedSource([d = dlq_.get()] { return d->parked(); });
    dlq_->Start();
    return absl::OkStatus();
  }
  void Stop(absl::Time) override {
    if (dlq_) dlq_->Stop();
    app_->metastore_node_.store(nullptr);
    if (node_) node_->Stop();
  }
  bool Ready() const override { return node_ != nullptr && node_->Ready(); }

 private:
  App* app_;
  TenantResolver internal_tenants_;
  RpcEnvironment rpc_env_;
  std::unique_ptr<metastore::MetastoreNode> node_;
  std::unique_ptr<metastore::DlqRecovery> dlq_;
};

// The IndexService the other components use: the metastore node of this process when it runs
// one (-target=all, or no -metastore.address), else a gRPC client of -metastore.address that
// follows the leader (metastore/client/metastore_client.h).
class MetastoreClientModule : public Module {
 public:
  MetastoreClientModule(App* app, bool local) : app_(app), local_(local) {
    auto proxy = std::make_unique<metastore::IndexServiceProxy>();
    proxy_ = proxy.get();
    app_->index_service_ = std::move(proxy);
    // A process without a metastore shows the leader's status pages (the web UI's Status view).
    if (!local_) {
      RegisterRemoteMetastoreStatusRoutes(app_->router_, [this] { return serving_.load(); });
    }
  }
  absl::Status Start() override {
    if (local_) {
      metastore::MetastoreNode* node = app_->metastore_node_.load();
      if (node == nullptr) return absl::FailedPreconditionError("the metastore is not running");
      proxy_->Set(node->index_service());
      app_->compaction_service_.Set(node->compaction_service());
      app_->membership_ = node->membership_service();
      return absl::OkStatus();
    }
    metastore::MetastoreClientOptions o;
    o.addresses =
        metastore::MetastoreClient::ParseAddresses(Join(app_->config_.metastore_address, ","));
    o.cluster_secret = app_->config_.cluster_secret;
    o.channel_credentials = app_->internal_channel_credentials_;
    absl::StatusOr<std::unique_ptr<metastore::MetastoreClient>> client =
        metastore::MetastoreClient::Create(std::move(o));
    if (!client.ok()) return Annotate(client.status(), "-metastore.address");
    client_ = std::move(*client);
    serving_.store(client_.get());
    proxy_->Set(client_.get());
    app_->compaction_service_.Set(client_.get());
    app_->membership_ = client_.get();
    log::Info("using a remote metastore",
              {{"address", Join(app_->config_.metastore_address, ",")}});
    return absl::OkStatus();
  }
  // The client itself stays until the module is destroyed: a call may still be on its way in.
  void Stop(absl::Time) override {
    proxy_->Set(nullptr);
    app_->compaction_service_.Set(nullptr);
    serving_.store(nullptr);
  }

 private:
  App* app_;
  bool local_;
  metastore::IndexServiceProxy* proxy_;
  std::unique_ptr<metastore::MetastoreClient> client_;
  // client_ for the status routes, which run on the server's threads (null when stopped).
  std::atomic<metastore::MetastoreClient*> serving_{nullptr};
};

// Accumulates pushed profiles per shard and writes one object per shard per segment period.
class SegmentWriterModule : public Module {
 public:
  explicit SegmentWriterModule(App* app) : app_(app) {
    app_->internal_grpc_services_.push_back(
        NewSegmentWriterGrpcService(&app_->segment_writer_ptr_, &app_->internal_env_));
  }
  absl::Status Start() override {
    const Config& c = app_->config_;
    segmentwriter::SegmentWriterOptions o;
    o.segment_duration = c.segment_duration;
    o.flush_workers = c.segment_writer_flush_workers;
    o.upload_max_retries = c.segment_writer_upload_max_retries;
    o.upload_timeout = c.segment_writer_upload_timeout;
    o.upload_hedge_after = c.segment_writer_upload_hedge_after;
    o.metadata_dlq_enabled = c.segment_writer_metadata_dlq_enabled;
    o.metadata_update_timeout = c.segment_writer_metadata_update_timeout;
    char host[256] = {};
    if (gethostname(host, sizeof(host) - 1) == 0) o.host_name = host;
    app_->segment_writer_ = std::make_unique<segmentwriter::SegmentWriter>(
        o, app_->bucket_.get(), app_->index_service_.get());
    app_->segment_writer_->Start();
    app_->segment_writer_ptr_.store(app_->segment_writer_.get());
    if (app_->cluster_member_) {
      registration_ =
          NewMemberRegistration(c, app_->internal_grpc_port(), app_->membership_,
                                metastore::v1::MEMBER_KIND_SEGMENT_WRITER,
                                static_cast<uint32_t>(std::max(1, c.segment_writer_num_tokens)));
      registration_->Start();
    }
    return absl::OkStatus();
  }
  // Graceful leave: announce LEAVING (distributors stop choosing this writer; its shards stay
  // put and go to the next writers), keep taking pushes for -membership.leave-delay while every
  // distributor's view catches up, then refuse new ones (Unavailable: distributors retry the
  // next writer), flush and acknowledge what was taken, and leave the member table.
  void Stop(absl::Time deadline) override {
    if (registration_ != nullptr) {
      absl::Status s =
          registration_->SetLeaving(std::min(deadline, absl::Now() + absl::Seconds(5)));
      if (s.ok()) {
        absl::SleepFor(std::min(app_->config_.membership_leave_delay, deadline - absl::Now()));
      } else {
        log::Warn("segment-writer: could not announce leaving; stopping anyway", {{"err", s}});
      }
    }
    app_->segment_writer_ptr_.store(nullptr);
    // Flushes what was pushed before the stop, so acknowledged-but-unflushed data is not lost.
    if (app_->segment_writer_) app_->segment_writer_->Stop(deadline);
    if (registration_ != nullptr) registration_->Leave(deadline).IgnoreError();  // logged
  }
  bool Ready() const override { return registration_ == nullptr || registration_->registered(); }
  std::string NotReadyReason() const override { return "not registered in the cluster yet"; }

 private:
  App* app_;
  std::unique_ptr<metastore::MemberRegistration> registration_;
};

// Receives pushes (push.v1 over Connect and gRPC) and routes them to the segment-writer.
class DistributorModule : public Module {
 public:
  explicit DistributorModule(App* app) : app_(app) {
    PusherServiceDeps deps;
    deps.distributor = &app_->distributor_ptr_;
    deps.decode.max_decompressed_size = static_cast<size_t>(app_->config_.max_profile_size_bytes);
    deps.max_push_decompressed_bytes =
        static_cast<size_t>(std::max<int64_t>(0, app_->config_.max_push_decompressed_bytes));
    RegisterPusherConnectRoutes(deps, app_->router_, &app_->rpc_env_);
    app_->grpc_services_.push_back(NewPusherGrpcService(deps, &app_->rpc_env_));
    IngestRouteDeps ingest{.distributor = &app_->distributor_ptr_,
                           .tenants = &app_->tenants_,
                           .max_profile_size = deps.decode.max_decompressed_size};
    RegisterIngestRoutes(ingest, &app_->rpc_env_, app_->router_);
    app_->grpc_services_.push_back(NewOtlpGrpcService(ingest, &app_->rpc_env_));
  }
  absl::Status Start() override {
    const Config& c = app_->config_;
    distributor::DistributorOptions o;
    o.ingestion_rate_limit_mb = c.ingestion_rate_limit_mb;
    o.ingestion_burst_size_mb = c.ingestion_burst_size_mb;
    o.max_inflight_bytes = c.max_inflight_push_bytes;
    o.shards = static_cast<uint32_t>(std::max(1, c.segment_writer_num_tokens));
    if (app_->DiscoversSegmentWriters()) {
      absl::StatusOr<std::shared_ptr<segmentwriter::RemoteSegmentWriters>> remote =
          segmentwriter::RemoteSegmentWriters::CreateDiscovered(
              {.tokens_per_writer = o.shards,
               .timeout = c.segment_writer_upload_timeout * 3,
               .cluster_secret = c.cluster_secret,
               .channel_credentials = app_->internal_channel_credentials_});
      if (!remote.ok()) return remote.status();
      discovered_ = *remote;
      app_->segment_writer_client_ = *remote;
    } else if (!c.distributor_segment_writer_addresses.empty()) {
      absl::StatusOr<std::shared_ptr<segmentwriter::RemoteSegmentWriters>> remote =
          segmentwriter::RemoteSegmentWriters::Create(
              c.distributor_segment_writer_addresses,
              {.tokens_per_writer = o.shards,
               .timeout = c.segment_writer_upload_timeout * 3,
               .cluster_secret = c.cluster_secret,
               .channel_credentials = app_->internal_channel_credentials_});
      if (!remote.ok()) return Annotate(remote.status(), "-distributor.segment-writer-addresses");
      o.shards = (*remote)->shard_count();
      app_->segment_writer_client_ = *remote;
    } else {
      app_->segment_writer_client_ =
          std::make_shared<segmentwriter::LocalSegmentWriterClient>(app_->segment_writer_.get());
    }
    if (const uint32_t most = segmentwriter::SegmentWriterOptions{}.max_shards; o.shards > most) {
      return absl::InvalidArgumentError(
          StrCat("-segment-writer.num-tokens × segment-writers makes ", o.shards,
                 " shards; a segment-writer serves at most ", most));
    }
    o.normalize.max_samples = static_cast<size_t>(c.max_profile_samples);
    o.normalize.max_stack_depth = static_cast<size_t>(c.max_profile_stack_depth);
    o.normalize.max_symbol_length = static_cast<size_t>(c.max_profile_symbol_value_length);
    o.reject_older_than = c.reject_older_than;
    o.reject_newer_than = c.reject_newer_than;
    app_->distributor_ =
        std::make_unique<distributor::Distributor>(o, app_->segment_writer_client_.get());
    app_->distributor_ptr_.store(app_->distributor_.get());
    if (discovered_ != nullptr) {
      // Segment-writers and placement rules follow the cluster's member table.
      watcher_ = std::make_unique<metastore::ClusterWatcher>(app_->membership_);
      watcher_->AddListener([writers = discovered_, distributor = app_->distributor_.get()](
                                const metastore::v1::ClusterView& view) {
        if (absl::Status s = writers->SetWriters(SegmentWritersOf(view)); !s.ok()) {
          log::Warn("distributor: ignoring a cluster view", {{"err", s}});
        }
        distributor->SetPlacementRules(
            std::make_shared<distributor::PlacementRulesTable>(view.placement_rules()));
      });
      watcher_->Start();
    }
    return absl::OkStatus();
  }
  void Stop(absl::Time) override {
    app_->distributor_ptr_.store(nullptr);
    if (watcher_) watcher_->Stop();
  }
  // A discovering distributor is ready once some segment-writer takes pushes.
  bool Ready() const override {
    return discovered_ == nullptr || discovered_->accepting_writers() > 0;
  }
  std::string NotReadyReason() const override { return "no segment-writer registered"; }

 private:
  App* app_;
  std::shared_ptr<segmentwriter::RemoteSegmentWriters> discovered_;
  std::unique_ptr<metastore::ClusterWatcher> watcher_;
};

// -auth.enabled: loads the API tokens from the metastore and checks every public request's
// (tenant.h); serves the token admin API when -auth.admin-token is set. Ready once the tokens
// are loaded, so a process does not answer requests it cannot authenticate.
class AuthModule : public Module {
 public:
  explicit AuthModule(App* app) : app_(app) {
    if (!app_->config_.auth_admin_token.empty()) {
      RegisterAuthRoutes(&app_->authenticator_ptr_, &app_->config_.auth_admin_token, app_->router_);
    }
  }
  absl::Status Start() override {
    if (app_->config_.auth_token_refresh_interval <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("-auth.token-refresh-interval must be > 0");
    }
    if (app_->config_.auth_admin_token.empty()) {
      log::Warn(
          "-auth.enabled without -auth.admin-token: no token can be created through this "
          "process");
    }
    app_->authenticator_ = std::make_unique<TokenAuthenticator>(
        app_->index_service_.get(), app_->config_.auth_token_refresh_interval);
    app_->authenticator_->Start();
    app_->authenticator_ptr_.store(app_->authenticator_.get());
    app_->tenants_.set_authenticator(app_->authenticator_.get());
    return absl::OkStatus();
  }
  // Requests keep being checked against the last copy until the process ends (the object stays).
  void Stop(absl::Time) override {
    if (app_->authenticator_) app_->authenticator_->Stop();
  }
  bool Ready() const override {
    return app_->authenticator_ != nullptr && app_->authenticator_->loaded();
  }

 private:
  App* app_;
};

class QueryFrontendModule : public Module {
 public:
  explicit QueryFrontendModule(App* app) : app_(app) {
    const Config& c = app->config_;
    query::QueryFrontendOptions options{
        .max_query_length = c.querier_max_query_length,
        .max_flamegraph_nodes_default = c.querier_max_flamegraph_nodes_default,
        .max_flamegraph_nodes_max = c.querier_max_flamegraph_nodes_max,
        .max_query_lookback = c.querier_max_query_lookback,
        .max_query_memory_bytes = c.query_backend_max_query_memory,
    };
    app->query_frontend_ =
        std::make_unique<query::QueryFrontend>(options, app->index_service_.get());
    RegisterQuerierConnectRoutes(app->query_frontend_.get(), app->router_, &app->rpc_env_);
    RegisterLegacyQueryRoutes(app->query_frontend_.get(), app->router_, &app->rpc_env_);
    // The web UI at / speaks the querier API above, so it lives where that API is served.
    RegisterUiRoutes(app->router_);
    app->grpc_services_.push_back(
        NewQuerierGrpcService(app->query_frontend_.get(), &app->rpc_env_));
    RegisterSettingsConnectRoutes(app->index_service_.get(), app->router_, &app->rpc_env_);
    app->grpc_services_.push_back(
        NewSettingsGrpcService(app->index_service_.get(), &app->rpc_env_));
    AdHocProfilesDeps adhoc{
        .bucket = &app->bucket_,
        .frontend = app->query_frontend_.get(),
        .max_profile_bytes = static_cast<size_t>(std::max<int64_t>(0, c.max_profile_size_bytes)),
        .max_profiles_per_tenant =
            static_cast<size_t>(std::max<int64_t>(0, c.adhoc_profiles_max_per_tenant)),
    };
    RegisterAdHocProfilesConnectRoutes(adhoc, app->router_, &app->rpc_env_);
    app->grpc_services_.push_back(NewAdHocProfilesGrpcService(adhoc, &app->rpc_env_));
  }
  // The backend reads objects, so it exists only once the bucket is open. A query in flight holds
  // its own reference, so detaching it on Stop is safe.
  absl::Status Start() override {
    const Config& c = app_->config_;
    // Segments parked in dlq/ during a metastore outage make answers over their time fail
    // (Unavailable, retried by clients) rather than silently partial, until they are indexed.
    app_->query_frontend_->SetCompletenessCheck(
        [check = std::make_shared<metastore::ParkedMetadataCheck>(
             app_->bucket_.get(),
             c.reject_older_than > absl::ZeroDuration() ? c.reject_older_than
                                                        : absl::InfiniteDuration(),
             c.reject_newer_than > absl::ZeroDuration() ? c.reject_newer_than
                                                        : absl::InfiniteDuration())](
            int64_t start_ms, int64_t end_ms) { return check->Check(start_ms, end_ms); });
    if (app_->DiscoversQueryBackends()) {
      discovered_ = query::RemoteQueryBackend::CreateDiscovered(query::RemoteQueryBackendOptions{
          .timeout = c.query_backend_client_timeout,
          .max_message_bytes = c.grpc_max_recv_msg_size,
          .cluster_secret = c.cluster_secret,
          .channel_credentials = app_->internal_channel_credentials_});
      watcher_ = std::make_unique<metastore::ClusterWatcher>(app_->membership_);
      watcher_->AddListener([backends = discovered_](const metastore::v1::ClusterView& view) {
        if (absl::Status s = backends->SetAddresses(QueryBackendsOf(view)); !s.ok()) {
          log::Warn("query-frontend: ignoring a cluster view", {{"err", s}});
        }
      });
      watcher_->Start();
      app_->query_frontend_->SetBackend(discovered_);
      return absl::OkStatus();
    }
    if (!c.query_backend_address.empty()) {
      absl::StatusOr<std::shared_ptr<query::RemoteQueryBackend>> remote =
          query::RemoteQueryBackend::Create(
              c.query_backend_address,
              query::RemoteQueryBackendOptions{
                  .timeout = c.query_backend_client_timeout,
                  .max_message_bytes = c.grpc_max_recv_msg_size,
                  .cluster_secret = c.cluster_secret,
                  .channel_credentials = app_->internal_channel_credentials_});
      if (!remote.ok()) return Annotate(remote.status(), "-query-backend.address");
      app_->query_frontend_->SetBackend(*remote);
      return absl::OkStatus();
    }
    app_->query_frontend_->SetBackend(app_->NewQueryBackend());
    return absl::OkStatus();
  }
  void Stop(absl::Time) override {
    app_->query_frontend_->SetBackend(nullptr);
    if (watcher_) watcher_->Stop();
  }
  bool Ready() const override { return discovered_ == nullptr || discovered_->backend_count() > 0; }
  std::string NotReadyReason() const override { return "no query-backend registered"; }

 private:
  App* app_;
  std::shared_ptr<query::RemoteQueryBackend> discovered_;
  std::unique_ptr<metastore::ClusterWatcher> watcher_;
};

// Reads objects for remote query-frontends (querybackend.v1.QueryBackendService on gRPC).
class QueryBackendModule : public Module {
 public:
  explicit QueryBackendModule(App* app) : app_(app) {
    app_->internal_grpc_services_.push_back(
        NewQueryBackendGrpcService(&holder_, &app_->internal_env_));
  }
  absl::Status Start() override {
    holder_.Set(app_->NewQueryBackend());
    if (app_->cluster_member_) {
      registration_ =
          NewMemberRegistration(app_->config_, app_->internal_grpc_port(), app_->membership_,
                                metastore::v1::MEMBER_KIND_QUERY_BACKEND, 0);
      registration_->Start();
    }
    return absl::OkStatus();
  }
  // Leaves first, so frontends stop sending; plans already sent are still answered for
  // -membership.leave-delay.
  void Stop(absl::Time deadline) override {
    if (registration_ != nullptr) {
      registration_->Leave(std::min(deadline, absl::Now() + absl::Seconds(5))).IgnoreError();
      absl::SleepFor(std::min(app_->config_.membership_leave_delay, deadline - absl::Now()));
    }
    holder_.Set(nullptr);
  }
  bool Ready() const override { return registration_ == nullptr || registration_->registered(); }
  std::string NotReadyReason() const override { return "not registered in the cluster yet"; }

 private:
  App* app_;
  QueryBackendHolder holder_;
  std::unique_ptr<metastore::MemberRegistration> registration_;
};

// Merges small objects into larger per-tenant blocks and deletes what they replaced
// (compactor/compaction_worker.h), polling the metastore for jobs.
class CompactionWorkerModule : public Module {
 public:
  explicit CompactionWorkerModule(App* app) : app_(app) {}
  absl::Status Start() override {
    const Config& c = app_->config_;
    if (c.compaction_worker_job_concurrency < 1 || c.compaction_worker_job_concurrency > 64 ||
        c.compaction_memory_limit < (16 << 20) || c.compaction_zstd_level < 1 ||
        c.compaction_zstd_level > 19) {
      return absl::InvalidArgumentError(
          "-compaction-worker.job-concurrency must be 1 to 64, -compaction.memory-limit >= 16 MiB "
          "and -compaction.zstd-level 1 to 19");
    }
    if (absl::Status st = compactor::PrepareCompactionTempDir(c.compaction_worker_temp_dir);
        !st.ok()) {
      return Annotate(st, "-compaction-worker.temp-dir");
    }
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    compactor::CompactionWorkerOptions o;
    o.worker_id = StrCat(host, "-", getpid());
    o.job_concurrency = c.compaction_worker_job_concurrency;
    o.poll_interval = c.compaction_worker_poll_interval;
    o.cleanup_capacity = static_cast<uint32_t>(std::max(0, c.compaction_worker_cleanup_capacity));
    worker_ = std::make_unique<compactor::CompactionWorker>(
        o, app_->bucket_.get(), &app_->compaction_service_,
        compactor::NewBlockCompactionExecutor(
            app_->bucket_.get(),
            {.temp_dir = c.compaction_worker_temp_dir,
             .memory_limit_bytes = static_cast<size_t>(c.compaction_memory_limit),
             .zstd_level = c.compaction_zstd_level,
             .created_by = host}));
    worker_->Start();
    if (app_->cluster_member_) {
      // Listed for operators (status pages); jobs are handed out by polling, not by placement.
      registration_ = NewMemberRegistration(c, app_->internal_grpc_port(), app_->membership_,
                                            metastore::v1::MEMBER_KIND_COMPACTION_WORKER, 0);
      registration_->Start();
    }
    return absl::OkStatus();
  }
  void Stop(absl::Time deadline) override {
    if (worker_) worker_->Stop(deadline);
    if (registration_ != nullptr) registration_->Leave(deadline).IgnoreError();  // logged
  }

 private:
  App* app_;
  std::unique_ptr<compactor::CompactionWorker> worker_;
  std::unique_ptr<metastore::MemberRegistration> registration_;
};

// ---- App ------------------------------------------------------------------------------------

namespace {

metrics::HistogramFamily& HttpDuration() {
  static auto& h = metrics::Registry::Global().Histogram(
      "embers_http_request_duration_seconds", "Time to answer an HTTP request, by route.",
      {"method", "route", "status_code"});
  return h;
}
metrics::CounterFamily& HttpRequests() {
  static auto& c = metrics::Registry::Global().Counter(
      "embers_http_requests_total", "HTTP requests answered, by route and status.",
      {"method", "route", "status_code"});
  return c;
}
metrics::HistogramFamily& RpcDuration() {
  static auto& h = metrics::Registry::Global().Histogram(
      "embers_rpc_request_duration_seconds",
      "Time to answer an RPC, by transport (connect, grpc), method and status code.",
      {"transport", "method", "code"});
  return h;
}
metrics::CounterFamily& RpcRequests() {
  static auto& c = metrics::Registry::Global().Counter(
      "embers_rpc_requests_total", "RPCs answered, by transport, method and status code.",
      {"transport", "method", "code"});
  return c;
}

// 127.0.0.0/8, ::1 and "localhost": addresses no other machine can connect to.
bool IsLoopbackHost(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

}  // namespace

App::App(Config config, ProcessInfo info)
    : config_(std::move(config)),
      info_(std::move(info)),
      tenants_(config_.multitenancy_enabled, config_.auth_enabled),
      internal_tenants_(config_.multitenancy_enabled || config_.auth_enabled) {
  rpc_env_.tenants = &tenants_;
  rpc_env_.allow_utf8_label_names = config_.allow_utf8_label_names;
  rpc_env_.max_request_message_bytes = static_cast<size_t>(config_.http_max_request_body_bytes);
  process_env_.max_request_message_bytes = rpc_env_.max_request_message_bytes;
  rpc_env_.observer = [](std::string_view transport, std::string_view method,
                         const absl::Status& status, double seconds) {
    std::string code = absl::StatusCodeToString(status.code());
    RpcRequests().WithLabels({transport, method, code}).Inc();
    RpcDuration().WithLabels({transport, method, code}).Observe(seconds);
  };
  process_env_.tenants = &process_tenants_;
  process_env_.observer = rpc_env_.observer;
  internal_env_ = rpc_env_;
  internal_env_.tenants = &internal_tenants_;
  internal_env_.cluster_secret = config_.cluster_secret;
  RegisterProcessRoutes();
  RegisterModules();
}

App::~App() { Stop(); }

void App::RegisterModules() {
  modules_.Register(
      "server", {}, [this] { return std::make_unique<ServerModule>(this); },
      /*user_visible=*/false);
  // After the server, so that /ready can say why while the bucket does not open.
  modules_.Register(
      "storage", {"server"}, [this] { return std::make_unique<StorageModule>(this); },
      /*user_visible=*/false);
  modules_.Register("metastore", {"server", "storage"},
                    [this] { return std::make_unique<MetastoreModule>(this); });
  // Components reach the metastore through this module: in-process when this process runs the
  // metastore (named in -target, or needed because no -metastore.address is given), else over
  // gRPC.
  bool local_metastore = config_.metastore_address.empty();
  for (const std::string& t : config_.target) local_metastore |= t == "all" || t == "metastore";
  cluster_member_ = !local_metastore;
  modules_.Register(
      "metastore-client",
      local_metastore ? std::vector<std::string>{"server", "metastore"}
                      : std::vector<std::string>{"server"},
      [this, local_metastore] {
        return std::make_unique<MetastoreClientModule>(this, local_metastore);
      },
      /*user_visible=*/false);
  // The distributor uses this process's segment-writer unless it was given remote ones.
  modules_.Register("segment-writer", {"server", "storage", "metastore-client"},
                    [this] { return std::make_unique<SegmentWriterModule>(this); });
  // With -auth.enabled the components that serve public requests need the API tokens, which
  // live in the metastore.
  modules_.Register(
      "auth", {"server", "metastore-client"}, [this] { return std::make_unique<AuthModule>(this); },
      /*user_visible=*/false);
  std::vector<std::string> distributor_deps = {"server"};
  if (DiscoversSegmentWriters()) {
    distributor_deps.push_back("metastore-client");
  } else if (config_.distributor_segment_writer_addresses.empty()) {
    distributor_deps.push_back("segment-writer");
  }
  std::vector<std::string> frontend_deps = {"server", "storage", "metastore-client"};
  if (config_.auth_enabled) {
    distributor_deps.push_back("auth");
    frontend_deps.push_back("auth");
  }
  modules_.Register("distributor", distributor_deps,
                    [this] { return std::make_unique<DistributorModule>(this); });
  modules_.Register("compaction-worker", {"storage", "metastore-client"},
                    [this] { return std::make_unique<CompactionWorkerModule>(this); });
  // The query-frontend reads objects itself unless -query-backend.address lists backends; the
  // query-backend module serves plan shares to remote frontends.
  // In a cluster the query-backend registers with the metastore.
  modules_.Register("query-backend",
                    cluster_member_
                        ? std::vector<std::string>{"server", "storage", "metastore-client"}
                        : std::vector<std::string>{"server", "storage"},
                    [this] { return std::make_unique<QueryBackendModule>(this); });
  modules_.Register("query-frontend", frontend_deps,
                    [this] { return std::make_unique<QueryFrontendModule>(this); });
  modules_.RegisterAlias("all", {"metastore", "distributor", "segment-writer", "compaction-worker",
                                 "query-frontend", "query-backend"});
}

bool App::RunsComponent(std::string_view name) const {
  for (const std::string& t : config_.target) {
    if (t == name || t == "all") return true;
  }
  return false;
}

bool App::DiscoversSegmentWriters() const {
  return cluster_member_ && config_.distributor_segment_writer_addresses.empty() &&
         !RunsComponent("segment-writer");
}

bool App::DiscoversQueryBackends() const {
  return cluster_member_ && config_.query_backend_address.empty() &&
         !RunsComponent("query-backend");
}

void App::RegisterProcessRoutes() {
  router_.Handle("GET", "/ready", [this](HttpRequest&, HttpResponder responder) {
    if (modules_.AllReady()) {
      responder.Send(HttpResponse::Text(200, "ready"));
      return;
    }
    // "not ready: storage (cannot open the bucket s3://…: …), metastore"
    std::vector<std::string> waiting;
    for (const ModuleState& m : modules_.States()) {
      if (m.ready) continue;
      waiting.push_back(m.reason.empty() ? m.name : StrCat(m.name, " (", m.reason, ")"));
    }
    responder.Send(HttpResponse::Text(
        503, StrCat("not ready: ", waiting.empty() ? "starting" : Join(waiting, ", "))));
  });
  router_.Handle("GET", "/metrics", [](HttpRequest&, HttpResponder responder) {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics::Registry::Global().Render();
    responder.Send(std::move(r));
  });
  router_.Handle("GET", "/config", [this](HttpRequest&, HttpResponder responder) {
    HttpResponse r;
    r.content_type = "text/yaml; charset=utf-8";
    r.body = info_.config_yaml;
    responder.Send(std::move(r));
  });
  RegisterProcessServiceRoutes(&info_, router_, &process_env_);
}

absl::Status App::StartServers() {
  if (!internal_grpc_services_.empty() && config_.cluster_secret.empty() &&
      !config_.internal_grpc_tls.enabled() &&
      !IsLoopbackHost(config_.internal_grpc_listen_address)) {
    // Off loopback, anyone who reaches the port could add blocks, read every tenant's index or
    // push into any shard: refuse to serve it unauthenticated.
    return absl::InvalidArgumentError(
        StrCat("-server.internal-grpc-listen-address=", config_.internal_grpc_listen_address,
               " is not a loopback address: set -server.cluster-secret (the same in every process "
               "of the cluster) or -server.internal-grpc-tls-* (mutual TLS) so that only the "
               "cluster's components can call its internal services"));
  }
  HttpServerOptions http;
  http.address = config_.http_listen_address;
  http.port = config_.http_listen_port;
  http.io_threads = config_.http_io_threads;
  http.handler_threads = config_.http_handler_threads;
  http.max_handler_queue_bytes = config_.http_handler_queue_bytes;
  http.max_request_body_bytes = config_.http_max_request_body_bytes;
  // The rest of the descriptors stay for the gRPC listeners, the bucket and the Raft log.
  http.max_connections = config_.http_max_connections > 0
                             ? config_.http_max_connections
                             : std::max<int64_t>(64, OpenFilesLimit() / 4 * 3);
  http.read_timeout = config_.http_read_timeout;
  http.write_timeout = config_.http_write_timeout;
  http.idle_timeout = config_.http_idle_timeout;
  if (config_.http_tls.enabled()) {
    absl::StatusOr<std::unique_ptr<ReloadingTlsContext>> tls =
        ReloadingTlsContext::Create(config_.http_tls, http_tls_auth_, config_.tls_reload_interval);
    if (!tls.ok()) return Annotate(tls.status(), "-server.http-tls-*");
    http.tls = std::move(*tls);
  }
  http_server_ = std::make_unique<HttpServer>(
      http, &router_,
      [](std::string_view method, std::string_view route, int status, double seconds) {
        std::string code = std::to_string(status);
        const std::string_view label = MethodLabel(method);
        HttpRequests().WithLabels({label, route, code}).Inc();
        HttpDuration().WithLabels({label, route, code}).Observe(seconds);
      });
  if (absl::Status st = http_server_->Start(); !st.ok()) return st;

  if (grpc_services_.empty() && internal_grpc_services_.empty()) {
    // A process of components that serve nothing over gRPC (a compaction-worker) opens no gRPC
    // port: grpc++ refuses to start a server without services.
    log::Info("listening",
              {{"http", StrCat(config_.http_listen_address, ":", http_server_->port())}});
    return absl::OkStatus();
  }
  for (auto& service : NewProcessGrpcServices(&info_, &process_env_)) {
    grpc_services_.push_back(std::move(service));
  }
  if (absl::Status st = StartGrpcServer(
          config_.grpc_listen_address, config_.grpc_listen_port,
          GrpcServerCredentials(config_.grpc_tls, grpc_tls_auth_, config_.tls_reload_interval),
          grpc_services_, &grpc_server_, &grpc_port_);
      !st.ok()) {
    StopServers(absl::Now());
    return st;
  }
  std::string internal = "none";
  if (!internal_grpc_services_.empty()) {
    if (absl::Status st =
            StartGrpcServer(config_.internal_grpc_listen_address, config_.internal_grpc_listen_port,
                            GrpcServerCredentials(config_.internal_grpc_tls,
                                                  TlsClientAuth::kRequireAndVerifyClientCert,
                                                  config_.tls_reload_interval),
                            internal_grpc_services_, &internal_grpc_server_, &internal_grpc_port_);
        !st.ok()) {
      StopServers(absl::Now());
      return Annotate(st, "-server.internal-grpc-listen-address/-port");
    }
    internal = StrCat(config_.internal_grpc_listen_address, ":", internal_grpc_port_);
  }
  log::Info("listening", {{"http", StrCat(config_.http_listen_address, ":", http_server_->port())},
                          {"grpc", StrCat(config_.grpc_listen_address, ":", grpc_port_)},
                          {"internal_grpc", internal}});
  return absl::OkStatus();
}

absl::Status App::StartGrpcServer(const std::string& address, int port,
                                  std::shared_ptr<grpc::ServerCredentials> credentials,
                                  const std::vector<std::unique_ptr<grpc::Service>>& services,
                                  std::unique_ptr<grpc::Server>* server, int* bound_port) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort(StrCat(address, ":", port), std::move(credentials), bound_port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(config_.grpc_max_recv_msg_size));
  builder.SetMaxSendMessageSize(static_cast<int>(config_.grpc_max_send_msg_size));
  for (const auto& service : services) builder.RegisterService(service.get());
  *server = builder.BuildAndStart();
  if (*server == nullptr || *bound_port == 0) {
    server->reset();
    return absl::UnavailableError(StrCat("cannot listen for gRPC on ", address, ":", port));
  }
  return absl::OkStatus();
}

void App::StopServers(absl::Time deadline) {
  for (std::unique_ptr<grpc::Server>* server : {&grpc_server_, &internal_grpc_server_}) {
    if (*server == nullptr) continue;
    (*server)->Shutdown(absl::ToChronoTime(deadline));
    (*server)->Wait();
    server->reset();
  }
  if (http_server_) {
    http_server_->Stop(std::max(absl::ZeroDuration(), deadline - absl::Now()));
  }
}

absl::Status App::LoadTlsSettings() {
  absl::StatusOr<TlsClientAuth> http = ValidateTlsConfig(config_.http_tls, "-server.http-tls");
  if (!http.ok()) return http.status();
  http_tls_auth_ = *http;
  absl::StatusOr<TlsClientAuth> grpc = ValidateTlsConfig(config_.grpc_tls, "-server.grpc-tls");
  if (!grpc.ok()) return grpc.status();
  grpc_tls_auth_ = *grpc;
  // Mutual TLS or nothing: the internal listener serves only the cluster's own components.
  TlsConfig internal = config_.internal_grpc_tls;
  internal.client_auth = internal.enabled() ? "RequireAndVerifyClientCert" : "NoClientCert";
  absl::StatusOr<TlsClientAuth> internal_auth =
      ValidateTlsConfig(internal, "-server.internal-grpc-tls");
  if (!internal_auth.ok()) return internal_auth.status();
  config_.internal_grpc_tls = internal;
  if (internal.enabled()) {
    internal_channel_credentials_ = GrpcChannelCredentials(internal, config_.tls_reload_interval);
  }
  return absl::OkStatus();
}

std::shared_ptr<query::QueryBackend> App::NewQueryBackend() {
  const std::string& backend = config_.storage.backend;
  const bool object_store = backend != "filesystem" && backend != "memory";
  // Modules start one after another, so the wrappers are made once without a lock.
  objstore::Bucket* source = bucket_.get();
  if (query_hedged_reads_ == nullptr && object_store &&
      config_.query_backend_hedged_reads_after > absl::ZeroDuration()) {
    query_hedged_reads_ = std::make_unique<objstore::HedgedReadBucket>(
        bucket_.get(),
        objstore::HedgedReadOptions{.hedge_after = config_.query_backend_hedged_reads_after});
  }
  if (query_hedged_reads_ != nullptr) source = query_hedged_reads_.get();
  if (query_read_cache_ == nullptr && config_.query_backend_read_cache_bytes > 0) {
    query_read_cache_ = std::make_unique<objstore::ReadCacheBucket>(
        source, objstore::ReadCacheOptions{
                    .max_bytes = config_.query_backend_read_cache_bytes,
                    .max_entry_bytes = config_.query_backend_read_cache_max_entry_bytes});
  }
  if (query_read_cache_ != nullptr) source = query_read_cache_.get();
  // A read from S3 or Azure is a round trip of milliseconds during which the thread waits: more
  // threads keep more reads in flight (measured in docs/performance.md, "Object storage").
  int64_t threads = config_.query_backend_threads;
  if (threads <= 0) threads = object_store ? 8 : 2;
  return std::make_shared<query::QueryBackend>(
      query::QueryBackendOptions{.threads = static_cast<int>(threads)}, source);
}

absl::Status App::Start() {
  if (absl::Status st = LoadTlsSettings(); !st.ok()) return st;
  return modules_.Start(config_.target);
}

void App::Stop() {
  modules_.Stop(absl::Now() + config_.graceful_shutdown_timeout);
  // The server module stops last, so no request can reach a module any more.
  modules_.ReleaseStopped();
}

int App::http_port() const { return http_server_ ? http_server_->port() : 0; }

}  // namespace embers::server
